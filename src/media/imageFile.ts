import sharp from 'sharp';
import { InputError } from '../core/errors.js';
import type { RgbImage } from '../core/types.js';

/** Image formats `decodeImage` takes, by file extension. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'] as const;

/** Largest accepted image, in pixels (a decompression bomb is refused before it is decoded). */
export const MAX_IMAGE_PIXELS = 40_000_000;

/**
 * Decodes a JPEG, PNG or WebP (a path or the bytes) to packed RGB, applying EXIF orientation. Grey images become
 * three equal channels. Throws `InputError` with code `IMAGE_UNREADABLE` for anything corrupt or unsupported.
 */
export async function decodeImage(
  input: string | Uint8Array,
  name = typeof input === 'string' ? input : 'image',
): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(input, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  } catch (cause) {
    const reason = (cause as Error).message.split('\n')[0];
    throw new InputError('IMAGE_UNREADABLE', `${name}: not a readable image (${reason})`, { cause });
  }
}

/** Scales an image so its width is `width` (aspect kept, even height), for benchmarks on fixed-size frames. */
export async function resizeImage(image: RgbImage, width: number, height?: number): Promise<RgbImage> {
  const h = height ?? Math.round((image.height * width) / image.width / 2) * 2;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, h, { fit: height ? 'cover' : 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}
