import type { Box, RgbImage } from '../core/types.js';
import type { CropBatch } from './EmotionClassifier.js';

/**
 * The region cut around a detected face for an emotion model: a square centred on the detector's box, with
 * side `max(w, h) * (1 + margin)`. Square so the face keeps its aspect when resized to the model's square input;
 * the margin brings in the forehead and chin that the FER-style training crops contain (docs/models.md).
 */
export function cropRegion(box: Box, margin: number): Box {
  const side = Math.max(box.w, box.h) * (1 + margin);
  return { x: box.x + box.w / 2 - side / 2, y: box.y + box.h / 2 - side / 2, w: side, h: side };
}

/**
 * Cuts `region` out of `image` and resizes it to `size`x`size` with bilinear sampling, writing packed RGB into
 * `out` at `offset`. Pixels outside the image repeat the nearest edge pixel.
 */
export function cropResize(image: RgbImage, region: Box, size: number, out: Uint8Array, offset = 0): void {
  const { data, width, height } = image;
  const sx = region.w / size;
  const sy = region.h / size;
  let o = offset;
  for (let j = 0; j < size; j++) {
    const fy = clamp(region.y + (j + 0.5) * sy - 0.5, 0, height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let i = 0; i < size; i++) {
      const fx = clamp(region.x + (i + 0.5) * sx - 0.5, 0, width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      const p00 = (y0 * width + x0) * 3;
      const p01 = (y0 * width + x1) * 3;
      const p10 = (y1 * width + x0) * 3;
      const p11 = (y1 * width + x1) * 3;
      for (let c = 0; c < 3; c++) {
        const top = (data[p00 + c] as number) * (1 - wx) + (data[p01 + c] as number) * wx;
        const bottom = (data[p10 + c] as number) * (1 - wx) + (data[p11 + c] as number) * wx;
        out[o++] = top * (1 - wy) + bottom * wy + 0.5;
      }
    }
  }
}

/** Faces of one frame to crop (in the thread that runs the model: the frame is shared memory, crops are not). */
export interface FaceRegions {
  image: RgbImage;
  boxes: readonly Box[];
}

/** Faces of one or more frames, all cut at one size and margin. */
export interface CropJob {
  size: number;
  margin: number;
  faces: readonly FaceRegions[];
}

/** The crops of a job as one contiguous batch, frame after frame, box after box. */
export function cutCrops(job: CropJob): CropBatch {
  const { size, margin } = job;
  const count = job.faces.reduce((n, f) => n + f.boxes.length, 0);
  const data = new Uint8Array(count * size * size * 3);
  let k = 0;
  for (const { image, boxes } of job.faces) {
    for (const box of boxes) cropResize(image, cropRegion(box, margin), size, data, k++ * size * size * 3);
  }
  return { data, count, size };
}

/** One crop per box, as one contiguous batch ready to become a single tensor. */
export function cropBatch(image: RgbImage, boxes: readonly Box[], size: number, margin: number): CropBatch {
  const data = new Uint8Array(boxes.length * size * size * 3);
  boxes.forEach((box, k) => {
    cropResize(image, cropRegion(box, margin), size, data, k * size * size * 3);
  });
  return { data, count: boxes.length, size };
}

/** Several crop batches of one size (from different frames or streams) as one batch, in order. */
export function concatBatches(parts: readonly CropBatch[]): CropBatch {
  const size = parts[0]?.size ?? 0;
  const data = new Uint8Array(parts.reduce((n, p) => n + p.data.length, 0));
  let offset = 0;
  for (const part of parts) {
    if (part.size !== size) throw new RangeError(`crop sizes differ: ${part.size} vs ${size}`);
    data.set(part.data, offset);
    offset += part.data.length;
  }
  return { data, count: parts.reduce((n, p) => n + p.count, 0), size };
}

/** The image mirrored left-right (for flip test-time augmentation). */
export function mirror(image: RgbImage): RgbImage {
  const { data, width, height } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      const dst = (y * width + (width - 1 - x)) * 3;
      out[dst] = data[src] as number;
      out[dst + 1] = data[src + 1] as number;
      out[dst + 2] = data[src + 2] as number;
    }
  }
  return { data: out, width, height };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
