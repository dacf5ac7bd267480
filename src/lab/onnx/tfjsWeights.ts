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
  /**
   * For uint8-quantised weights: the stored bytes and tfjs's value of each of the 256 codes (`data[i]` is
   * `table[codes[i]]`), so a converted model can keep one byte a weight and still get tfjs's exact values.
   */
  quantized?: { codes: Uint8Array; table: Float32Array };
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
  const codes = uint8Codes(all, specs);
  const out = new Map<string, Weight>();
  for (const [name, t] of Object.entries(tensors)) {
    const data = t.dataSync();
    const spec = specs.find((s) => s.name === name) as WeightsManifestEntry;
    const quantized = codes.get(name);
    out.set(name, {
      data: t.dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data),
      shape: [...t.shape],
      ...(quantized ? { quantized: { codes: quantized, table: decodeTable(spec) } } : {}),
    });
    t.dispose();
  }
  return out;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The raw bytes of each uint8-quantised weight (the shard layout tfjs's decoder walks). */
function uint8Codes(all: Buffer, specs: readonly WeightsManifestEntry[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((n, d) => n * d, 1);
    const bytes = count * (BYTES[spec.quantization?.dtype ?? spec.dtype] ?? Number.NaN);
    if (Number.isNaN(bytes)) throw new Error(`weight ${spec.name}: unsupported dtype`);
    if (spec.quantization?.dtype === 'uint8') out.set(spec.name, Uint8Array.from(all.subarray(offset, offset + bytes)));
    offset += bytes;
  }
  return out;
}

/** tfjs's decoded value of every uint8 code under this weight's quantisation. */
function decodeTable(spec: WeightsManifestEntry): Float32Array {
  const codes = Uint8Array.from({ length: 256 }, (_, k) => k);
  const t = tf.io.decodeWeights(codes.buffer, [{ ...spec, name: 'table', shape: [256] }])
    .table as import('@tensorflow/tfjs').Tensor;
  const table = Float32Array.from(t.dataSync());
  t.dispose();
  return table;
}

/** A face-api weights manifest (`*-weights_manifest.json`) and its shards. */
export function readWeightsManifest(sources: SourceFiles, manifestPath: string): Map<string, Weight> {
  return readWeights(sources, dirname(manifestPath), sources.json<WeightGroup[]>(manifestPath));
}
