import { writeFileSync } from 'node:fs';
import { createCanvas, type Image, ImageData } from '@napi-rs/canvas';
import { EMOTION_LABELS, type EmotionLabel, topLabel } from '../../core/labels.js';
import type { FaceBox, RgbImage } from '../../core/types.js';
import { concatBatches, cropBatch } from '../../inference/faceCrop.js';
import type { InferencePool } from '../../inference/InferencePool.js';
import { cropSpec } from '../../inference/modelManifest.js';

export interface FaceExplanation {
  box: FaceBox;
  label: EmotionLabel;
  probability: number;
  /** size x size, row-major, in [0, 1]: how much hiding each pixel lowered the label's probability. */
  heat: Float32Array;
  size: number;
  /** The face crop the model saw (packed RGB, size x size). */
  crop: Uint8Array;
}

/** Occludes a square of `patch` pixels at (px, py) in a crop with mid grey. */
export function occlude(crop: Uint8Array, size: number, px: number, py: number, patch: number): Uint8Array {
  const out = Uint8Array.from(crop);
  for (let y = Math.max(0, py); y < Math.min(size, py + patch); y++) {
    out.fill(128, (y * size + Math.max(0, px)) * 3, (y * size + Math.min(size, px + patch)) * 3);
  }
  return out;
}

/**
 * Occlusion sensitivity (Zeiler & Fergus 2014): slide a grey patch over the face crop; the drop in the predicted
 * class's probability, averaged over the patches covering a pixel, is that pixel's heat. All patched copies go to the
 * model as one batch. Needs only forward passes, so it runs on every backend (gradients need kernels tfjs-wasm lacks).
 */
export async function explainFace(
  pool: InferencePool,
  model: string,
  image: RgbImage,
  box: FaceBox,
): Promise<FaceExplanation> {
  const spec = cropSpec(model);
  const size = spec.size;
  const crop = cropBatch(image, [box], size, spec.margin).data;
  const patch = Math.round(size / 4);
  const stride = Math.max(1, Math.round(size / 16));
  const positions: [number, number][] = [];
  for (let y = -patch / 2; y < size - patch / 2; y += stride) {
    for (let x = -patch / 2; x < size - patch / 2; x += stride) positions.push([Math.round(x), Math.round(y)]);
  }
  const variants = [crop, ...positions.map(([x, y]) => occlude(crop, size, x, y, patch))];
  const probs = await pool.classify(model, concatBatches(variants.map((data) => ({ data, count: 1, size }))));
  const original = probs[0] as Float32Array;
  const label = topLabel(original);
  const k = EMOTION_LABELS.indexOf(label);
  const sum = new Float32Array(size * size);
  const hits = new Float32Array(size * size);
  positions.forEach(([px, py], i) => {
    const drop = (original[k] as number) - ((probs[i + 1] as Float32Array)[k] as number);
    for (let y = Math.max(0, py); y < Math.min(size, py + patch); y++) {
      for (let x = Math.max(0, px); x < Math.min(size, px + patch); x++) {
        sum[y * size + x] = (sum[y * size + x] as number) + drop;
        hits[y * size + x] = (hits[y * size + x] as number) + 1;
      }
    }
  });
  const heat = sum.map((s, i) => s / Math.max(1, hits[i] as number));
  const lo = Math.min(...heat);
  const hi = Math.max(...heat);
  const normalised = heat.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
  return { box, label, probability: original[k] as number, heat: normalised, size, crop };
}

/** Jet-like colour for t in [0, 1]. */
function jet(t: number): [number, number, number] {
  const r = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * t - 3)));
  const g = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * t - 2)));
  const b = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * t - 1)));
  return [r * 255, g * 255, b * 255];
}

/** One panel per face: the crop with the heatmap blended over it, the label and its probability. */
export function explanationPng(faces: readonly FaceExplanation[], path: string): void {
  const panel = 256;
  const canvas = createCanvas(Math.max(1, faces.length) * (panel + 16) + 16, panel + 64);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  faces.forEach((f, i) => {
    const rgba = new Uint8ClampedArray(f.size * f.size * 4);
    for (let p = 0; p < f.size * f.size; p++) {
      const [r, g, b] = jet(f.heat[p] as number);
      const a = 0.45;
      rgba[p * 4] = (1 - a) * (f.crop[p * 3] as number) + a * r;
      rgba[p * 4 + 1] = (1 - a) * (f.crop[p * 3 + 1] as number) + a * g;
      rgba[p * 4 + 2] = (1 - a) * (f.crop[p * 3 + 2] as number) + a * b;
      rgba[p * 4 + 3] = 255;
    }
    const small = createCanvas(f.size, f.size);
    small.getContext('2d').putImageData(new ImageData(rgba, f.size, f.size), 0, 0);
    const x = 16 + i * (panel + 16);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small as unknown as Image, x, 16, panel, panel);
    ctx.fillStyle = '#111111';
    ctx.font = '16px DejaVu Sans, sans-serif';
    ctx.fillText(`${f.label} ${(f.probability * 100).toFixed(0)}%`, x, panel + 42);
  });
  writeFileSync(path, canvas.toBuffer('image/png'));
}
