import type { RgbImage } from '../../core/types.js';
import type { Backbone } from '../../inference/Backbone.js';
import type { CropBatch } from '../../inference/EmotionClassifier.js';
import { cropRegion, cropResize, mirror } from '../../inference/faceCrop.js';
import { FeatureCache, imageKey } from './FeatureCache.js';

export interface ExtractOptions {
  /** Decodes an image file to RGB (the app layer passes `decodeImage`; the pipeline does no file I/O of images). */
  decode: (path: string) => Promise<RgbImage>;
  /** Side of the square crop given to the backbones (each resizes to its own input). */
  cropSize: number;
  /** Features of the left-right mirrored image instead. */
  mirrored: boolean;
  cacheDir: string;
  /** Finds the face to crop (full photos); absent: the whole image is the face (FER-style crops). */
  detect?: {
    name: string;
    margin: number;
    find(image: RgbImage): Promise<{ x: number; y: number; w: number; h: number } | undefined>;
  };
  /** Draws something over the image before cropping (a mask shape, for masked-FER); part of the cache key. */
  transform?: { name: string; apply(image: RgbImage): Promise<RgbImage> };
  /** Degrades the crop to this many pixels a side and back (a small, far face); part of the cache key. */
  lowRes?: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ExtractedFeatures {
  /** Row-major, `kept.length` rows of `dim`. */
  data: Float32Array;
  dim: number;
  /** Indices into the input paths that have a row (a detector may find no face in some images). */
  kept: number[];
  hits: number;
  misses: number;
}

/**
 * Features of every image from every backbone, concatenated in backbone order; rows already in the cache are
 * not recomputed, and computed rows are saved as they come (a killed run resumes).
 */
export async function extractFeatures(
  paths: readonly string[],
  backbones: readonly Backbone[],
  options: ExtractOptions,
): Promise<ExtractedFeatures> {
  const params = {
    cropSize: options.cropSize,
    mirrored: options.mirrored,
    detect: options.detect ? { name: options.detect.name, margin: options.detect.margin } : null,
    transform: options.transform?.name ?? null,
    // only when set, so the caches of runs without it keep their keys
    ...(options.lowRes ? { lowRes: options.lowRes } : {}),
  };
  const caches = backbones.map((b) => new FeatureCache(options.cacheDir, b.key, params, b.dim));
  const dim = backbones.reduce((n, b) => n + b.dim, 0);
  const keys = paths.map((p) => imageKey(p));
  const rows: (Float32Array | null)[] = new Array(paths.length).fill(null);
  const pending: number[] = [];
  keys.forEach((key, i) => {
    const parts = caches.map((c) => c.get(key));
    if (parts.every((p) => p !== undefined)) rows[i] = concatRows(parts as Float32Array[], dim);
    else pending.push(i);
  });
  const hits = paths.length - pending.length;
  const batchSize = options.batchSize ?? 32;
  const size = options.cropSize;
  let sinceFlush = 0;
  for (let start = 0; start < pending.length; start += batchSize) {
    const idx = pending.slice(start, start + batchSize);
    const data = new Uint8Array(idx.length * size * size * 3);
    const got: number[] = [];
    for (const i of idx) {
      let image = await options.decode(paths[i] as string);
      if (options.transform) image = await options.transform.apply(image);
      if (options.mirrored) image = mirror(image);
      let region = { x: 0, y: 0, w: image.width, h: image.height };
      if (options.detect) {
        const box = await options.detect.find(image);
        if (!box) continue;
        region = cropRegion(box, options.detect.margin);
      }
      const offset = got.length * size * size * 3;
      cropResize(image, region, size, data, offset);
      if (options.lowRes) degrade(data.subarray(offset, offset + size * size * 3), size, options.lowRes);
      got.push(i);
    }
    if (got.length > 0) {
      const crops: CropBatch = { data: data.subarray(0, got.length * size * size * 3), count: got.length, size };
      const perBackbone: Float32Array[] = [];
      for (const b of backbones) {
        const t = b.features(crops);
        try {
          perBackbone.push((await t.data()) as Float32Array);
        } finally {
          t.dispose();
        }
      }
      got.forEach((i, k) => {
        const parts = backbones.map((b, j) => {
          const row = (perBackbone[j] as Float32Array).slice(k * b.dim, (k + 1) * b.dim);
          caches[j]?.set(keys[i] as string, row);
          return row;
        });
        rows[i] = concatRows(parts, dim);
      });
    }
    sinceFlush += idx.length;
    if (sinceFlush >= 2000) {
      for (const c of caches) c.flush();
      sinceFlush = 0;
    }
    options.onProgress?.(hits + Math.min(start + batchSize, pending.length), paths.length);
  }
  for (const c of caches) c.flush();
  const kept = rows.flatMap((r, i) => (r ? [i] : []));
  const out = new Float32Array(kept.length * dim);
  kept.forEach((i, k) => {
    out.set(rows[i] as Float32Array, k * dim);
  });
  return { data: out, dim, kept, hits, misses: pending.length };
}

/**
 * Makes a `size` crop look like a face only `lowRes` pixels wide that was upscaled to `size`: halved (2x2 means)
 * while more than twice `lowRes`, resampled to `lowRes`, then resized back up, bilinear, in place.
 */
export function degrade(crop: Uint8Array, size: number, lowRes: number): void {
  let image: RgbImage = { data: crop.slice(), width: size, height: size };
  while (image.width >= 2 * lowRes) {
    const half = Math.floor(image.width / 2);
    const out = new Uint8Array(half * half * 3);
    cropResize(image, { x: 0, y: 0, w: half * 2, h: half * 2 }, half, out);
    image = { data: out, width: half, height: half };
  }
  const small = new Uint8Array(lowRes * lowRes * 3);
  cropResize(image, { x: 0, y: 0, w: image.width, h: image.height }, lowRes, small);
  cropResize({ data: small, width: lowRes, height: lowRes }, { x: 0, y: 0, w: lowRes, h: lowRes }, size, crop);
}

function concatRows(parts: Float32Array[], dim: number): Float32Array {
  const row = new Float32Array(dim);
  let o = 0;
  for (const p of parts) {
    row.set(p, o);
    o += p.length;
  }
  return row;
}
