import sharp from 'sharp';
import { InputError } from '../core/errors.js';
import type { RgbImage } from '../core/types.js';

/** Image formats `decodeImage` takes, by file extension. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'] as const;

/** Largest accepted image, in pixels (a decompression bomb is refused before it is decoded). */
export const MAX_IMAGE_PIXELS = 40_000_000;

/**
 * Longest side an image is analyzed at. Larger images are shrunk while they are decoded (JPEG and WebP shrink on
 * load; PNG is reduced line by line), so a small file of huge dimensions never becomes a huge RGB buffer and the
 * copies the analysis makes of it (issue 15, finding 6: one 6300x6300 PNG of 115 KB raised RSS by 2 GB for good).
 * The face detector sees a 128-pixel letterbox and the emotion models crops of about 100 pixels, so nothing is
 * lost; the shared photos are all within it.
 */
export const MAX_ANALYSIS_SIDE = 2048;

/** A decoded image, and the size of the picture it came from (larger when it was shrunk to `maxSide`). */
export interface DecodedImage extends RgbImage {
  readonly sourceWidth: number;
  readonly sourceHeight: number;
}

/**
 * Decodes a JPEG, PNG or WebP (a path or the bytes) to packed RGB, applying EXIF orientation; with `maxSide`, shrunk
 * so that its longest side is at most that (`analyze` and `/api/analyze` pass `MAX_ANALYSIS_SIDE`; the lab decodes
 * at full size). Grey images become three equal channels. Throws `InputError` with code `IMAGE_UNREADABLE` for
 * anything corrupt or unsupported.
 */
export async function decodeImage(
  input: string | Uint8Array,
  name = typeof input === 'string' ? input : 'image',
  options: { maxSide?: number } = {},
): Promise<DecodedImage> {
  const { maxSide } = options;
  try {
    let pipeline = sharp(input, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' }).rotate();
    if (maxSide !== undefined) {
      pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
    }
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    let sourceWidth = info.width;
    let sourceHeight = info.height;
    if (maxSide !== undefined) {
      // The oriented size of the source: EXIF orientations 5-8 swap width and height.
      const meta = await sharp(input, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
      const swap = (meta.orientation ?? 1) >= 5;
      sourceWidth = (swap ? meta.height : meta.width) ?? info.width;
      sourceHeight = (swap ? meta.width : meta.height) ?? info.height;
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      sourceWidth,
      sourceHeight,
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
