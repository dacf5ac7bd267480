import { dirname, join } from 'node:path';
import { tf } from '../../inference/tf.js';
import type { SourceFiles } from './SourceFiles.js';

type WeightsManifestEntry = import('@tensorflow/tfjs').io.WeightsManifestEntry;

export interface WeightGroup {
  paths: string[];
  weights: WeightsManifestEntry[];
}

/** A named weight as plain numbers (float32 or int32), shape as stored. */
export interface Weight {
  data: Float32Array | Int32Array;
  shape: number[];
}

/**
 * Decodes weight shards with tfjs's own decoder (so quantised weights dequantise exactly as tfjs does when it loads
 * the model) into plain arrays.
 */
export function readWeights(
  sources: SourceFiles,
  baseDir: string,
  groups: readonly WeightGroup[],
): Map<string, Weight> {
  const specs = groups.flatMap((g) => g.weights);
  const all = Buffer.concat(groups.flatMap((g) => g.paths.map((p) => sources.read(join(baseDir, p)))));
  const buffer = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const tensors = tf.io.decodeWeights(buffer, specs);
  const out = new Map<string, Weight>();
  for (const [name, t] of Object.entries(tensors)) {
    const data = t.dataSync();
    out.set(name, {
      data: t.dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data),
      shape: [...t.shape],
    });
    t.dispose();
  }
  return out;
}

/** A face-api weights manifest (`*-weights_manifest.json`) and its shards. */
export function readWeightsManifest(sources: SourceFiles, manifestPath: string): Map<string, Weight> {
  return readWeights(sources, dirname(manifestPath), sources.json<WeightGroup[]>(manifestPath));
}
