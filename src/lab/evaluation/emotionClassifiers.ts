import { NUM_EMOTIONS } from '../../core/labels.js';
import type { FaceBox, RgbImage } from '../../core/types.js';
import { concatBatches, cropBatch, mirror } from '../../inference/faceCrop.js';
import type { InferencePool } from '../../inference/InferencePool.js';
import { cropSpec } from '../../inference/modelManifest.js';

/** Probabilities (7, our label order) for each image, where the whole image is the face. */
export type ClassifyFn = (images: readonly RgbImage[]) => Promise<Float32Array[]>;

/**
 * A classifier over whole images for a model spec: `human`, `faceapi`, a model folder, or an ensemble
 * `human+faceapi` (probabilities averaged); `flip` adds the mirrored image to the average (test-time augmentation).
 */
export function imageClassifier(pool: InferencePool, spec: string, tta: 'none' | 'flip'): ClassifyFn {
  const models = spec.split('+').map((m) => cropSpec(m.trim()));
  return async (images) => {
    const views = tta === 'flip' ? [images, images.map(mirror)] : [images];
    const runs = models.flatMap((model) =>
      views.map((view) =>
        pool.classify(
          model.name,
          concatBatches(view.map((im) => cropBatch(im, [{ x: 0, y: 0, w: im.width, h: im.height }], model.size, 0))),
        ),
      ),
    );
    return averageRows(await Promise.all(runs), images.length);
  };
}

/** The crop of the largest detected face, or null when there is none (for `evaluate --detect`). */
export async function largestFace(pool: InferencePool, detector: string, image: RgbImage): Promise<RgbImage | null> {
  const faces = await pool.detect(detector, image);
  const face = faces.reduce<FaceBox | undefined>((a, b) => (!a || b.w * b.h > a.w * a.h ? b : a), undefined);
  if (!face) return null;
  const side = Math.round(Math.max(face.w, face.h) * 1.25);
  const batch = cropBatch(image, [face], side, 0.25);
  return { data: batch.data, width: side, height: side };
}

function averageRows(runs: Float32Array[][], count: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) => {
    const avg = new Float32Array(NUM_EMOTIONS);
    for (const run of runs) {
      const row = run[i] as Float32Array;
      for (let k = 0; k < NUM_EMOTIONS; k++) avg[k] = (avg[k] as number) + (row[k] as number) / runs.length;
    }
    return avg;
  });
}
