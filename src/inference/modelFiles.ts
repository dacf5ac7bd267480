import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelLoadError } from '../core/errors.js';
import { type GraphModel, tf } from './tf.js';

interface WeightGroup {
  paths: string[];
  weights: import('@tensorflow/tfjs').io.WeightsManifestEntry[];
}

function readWeights(baseDir: string, groups: WeightGroup[]) {
  const specs = groups.flatMap((g) => g.weights);
  const buffers = groups.flatMap((g) => g.paths.map((p) => readFileSync(join(baseDir, p))));
  const all = Buffer.concat(buffers);
  const data = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return { specs, data };
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (cause) {
    throw new ModelLoadError(`cannot read model file ${path}`, { cause, code: 'MODEL_FILE_UNREADABLE' });
  }
}

/** Loads a tfjs graph model (model.json + weight shards) from disk; plain tfjs has no file:// loader. */
export async function loadGraphModelFromDisk(jsonPath: string): Promise<GraphModel> {
  const model = readJson<{ modelTopology: object; weightsManifest: WeightGroup[]; format?: string } & object>(jsonPath);
  const { specs, data } = readWeights(dirname(jsonPath), model.weightsManifest);
  const handler: import('@tensorflow/tfjs').io.IOHandler = {
    load: async () => ({ ...model, weightSpecs: specs, weightData: data }),
  };
  return tf.loadGraphModel(handler);
}

/** Reads a face-api style `*-weights_manifest.json` and its shards into named tensors. */
export function loadWeightMapFromDisk(manifestPath: string): import('@tensorflow/tfjs').NamedTensorMap {
  const groups = readJson<WeightGroup[]>(manifestPath);
  const { specs, data } = readWeights(dirname(manifestPath), groups);
  return tf.io.decodeWeights(data, specs);
}

type LayersModel = import('@tensorflow/tfjs').LayersModel;

/** Loads a tfjs layers model (`model.json` + one weights shard): the heads `train` writes, our emotion CNN. */
export async function loadLayersModelFromDisk(jsonPath: string, weightsPath: string): Promise<LayersModel> {
  try {
    const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
      modelTopology: object;
      weightsManifest: { weights: import('@tensorflow/tfjs').io.WeightsManifestEntry[] }[];
    };
    const buf = readFileSync(weightsPath);
    const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    return await tf.loadLayersModel({
      load: async () => ({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData,
      }),
    });
  } catch (cause) {
    throw new ModelLoadError(`cannot load layers model ${jsonPath}: ${(cause as Error).message}`, {
      cause,
      code: 'MODEL_FILE_UNREADABLE',
    });
  }
}
