import { type Tensor, tf } from '../../inference/tf.js';
import type { FeatureSet } from './HeadTrainer.js';

/** Standardises the set in place (per feature: zero mean, unit variance) and returns the statistics used. */
export function standardise(set: FeatureSet): { mean: Float32Array; std: Float32Array } {
  const { dim, data } = set;
  const n = data.length / dim;
  const mean = new Float32Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n; i++)
    for (let d = 0; d < dim; d++) mean[d] = (mean[d] as number) + (data[i * dim + d] as number) / n;
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      const v = (data[i * dim + d] as number) - (mean[d] as number);
      sq[d] = (sq[d] as number) + (v * v) / n;
    }
  }
  const std = Float32Array.from(sq, (v) => Math.sqrt(v) + 1e-6);
  applyStandardise(set, mean, std);
  return { mean, std };
}

/** Applies training-set statistics to another set, in place. */
export function applyStandardise(set: FeatureSet, mean: Float32Array, std: Float32Array): FeatureSet {
  const { dim, data } = set;
  for (let i = 0; i < data.length; i++)
    data[i] = ((data[i] as number) - (mean[i % dim] as number)) / (std[i % dim] as number);
  return set;
}

/**
 * Folds the feature standardisation into the first dense layer, so the saved head takes raw backbone features:
 * W' = W / std (row-wise), b' = b - mean . W'.
 */
export function foldStandardisation(
  model: import('@tensorflow/tfjs').LayersModel,
  mean: Float32Array,
  std: Float32Array,
): void {
  const layer = model.getLayer('hidden');
  const [kernel, bias] = layer.getWeights() as [Tensor, Tensor];
  const [k2, b2] = tf.tidy(() => {
    const k = kernel.div(tf.tensor2d(std, [std.length, 1]));
    const b = bias.sub(tf.tensor2d(mean, [1, mean.length]).matMul(k).reshape([-1]));
    return [k, b];
  });
  layer.setWeights([k2, b2]);
  k2.dispose();
  b2.dispose();
}
