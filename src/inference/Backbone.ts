import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { type CropBatch, cropTensor } from './EmotionClassifier.js';
import { faceApi } from './faceApi.js';
import { loadGraphModelFromDisk, loadWeightMapFromDisk } from './modelFiles.js';
import { type ModelManifest, resolveModel } from './modelManifest.js';
import { type GraphModel, type Tensor, type Tensor4D, tf } from './tf.js';

/** The frozen networks a head can be trained on. */
export const BACKBONE_NAMES = ['human', 'faceapi'] as const;
export type BackboneName = (typeof BACKBONE_NAMES)[number];

/**
 * A frozen network that turns a crop batch into one feature row per crop. `key` identifies the backbone and
 * its exact weights (a hash of the weight files), so cached features are invalidated when either changes.
 */
export interface Backbone {
  readonly name: BackboneName;
  readonly dim: number;
  readonly key: string;
  /** Features, `count` rows of `dim`, as one tensor (the caller disposes it). */
  features(crops: CropBatch): Tensor;
  dispose(): void;
}

export const HUMAN_BLOCK = 'StatefulPartitionedCall/model_1/add_2/add';
export const HUMAN_LOGITS = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean';

/** Hash of the backbone's name, preprocessing and every weight file it reads. */
export function backboneKey(name: string, manifest: ModelManifest, weightFiles: readonly string[]): string {
  const h = createHash('sha256');
  h.update(`${name}\0${JSON.stringify(manifest.input)}\0`);
  for (const file of weightFiles) h.update(readFileSync(file));
  return h.digest('hex').slice(0, 16);
}

/** Weight shards named by a tfjs model.json or a face-api weights manifest. */
export function weightFilesOf(jsonPath: string): string[] {
  const parsed = JSON.parse(readFileSync(jsonPath, 'utf8')) as
    | { weightsManifest: { paths: string[] }[] }
    | { paths: string[] }[];
  const groups = Array.isArray(parsed) ? parsed : parsed.weightsManifest;
  return [jsonPath, ...groups.flatMap((g) => g.paths.map((p) => join(dirname(jsonPath), p)))];
}

/**
 * human's mini-Xception: the last residual block (before the 7-channel classifier conv), pooled globally (mean
 * and max), plus the model's own 7 logits.
 */
class HumanBackbone implements Backbone {
  readonly name = 'human' as const;
  readonly dim: number;
  readonly key: string;
  readonly #model: GraphModel;
  readonly #manifest: ModelManifest;

  constructor(model: GraphModel, manifest: ModelManifest, key: string, channels: number) {
    this.#model = model;
    this.#manifest = manifest;
    this.key = key;
    this.dim = channels * 2 + 7;
  }

  features(crops: CropBatch): Tensor {
    return tf.tidy(() => {
      const [block, logits] = this.#model.execute(cropTensor(crops, this.#manifest.input), [
        HUMAN_BLOCK,
        HUMAN_LOGITS,
      ]) as [Tensor4D, Tensor];
      return tf.concat([block.mean([1, 2]), block.max([1, 2]), logits.reshape([crops.count, -1])], 1);
    });
  }

  dispose(): void {
    this.#model.dispose();
  }
}

type ExpressionNet = InstanceType<ReturnType<typeof faceApi>['FaceExpressionNet']>;

/** face-api's expression feature extractor (densely connected blocks, 256 channels, global average pool). */
class FaceApiBackbone implements Backbone {
  readonly name = 'faceapi' as const;
  readonly dim = 256;
  readonly key: string;
  readonly #net: ExpressionNet;
  readonly #size: number;

  constructor(net: ExpressionNet, size: number, key: string) {
    this.#net = net;
    this.#size = size;
    this.key = key;
  }

  features(crops: CropBatch): Tensor {
    return tf.tidy(() => {
      let x = tf.tensor4d(crops.data, [crops.count, crops.size, crops.size, 3], 'int32').toFloat() as Tensor4D;
      if (crops.size !== this.#size) x = tf.image.resizeBilinear(x, [this.#size, this.#size]);
      const f = this.#net.faceFeatureExtractor.forwardInput({ toBatchTensor: () => x });
      return f.reshape([crops.count, -1]);
    });
  }

  dispose(): void {
    this.#net.dispose();
  }
}

export function parseBackbones(spec: string): BackboneName[] {
  const names = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InputError('BAD_ARGUMENT', '--base needs at least one backbone');
  for (const n of names) {
    if (!(BACKBONE_NAMES as readonly string[]).includes(n)) {
      throw new InputError('BAD_ARGUMENT', `unknown backbone "${n}" (known: ${BACKBONE_NAMES.join(', ')})`);
    }
  }
  return [...new Set(names)] as BackboneName[];
}

/**
 * Loads a backbone from the shipped model of the same name (`models/human`, `models/faceapi`), or from `modelDir`
 * (a folder with a manifest, used by tests to check that changed weights invalidate cached features).
 */
export async function loadBackbone(name: BackboneName, modelDir?: string): Promise<Backbone> {
  const resolved = resolveModel(modelDir ?? name);
  const jsonPath = resolved.files[0] as string;
  const files = weightFilesOf(jsonPath);
  const key = backboneKey(name, resolved.manifest, files);
  if (name === 'human') {
    const model = await loadGraphModelFromDisk(jsonPath);
    const probe = tf.tidy(() => {
      const out = model.execute(
        tf.zeros([1, resolved.manifest.input.size, resolved.manifest.input.size, 1]),
        HUMAN_BLOCK,
      );
      return (out as Tensor).shape[3] as number;
    });
    return new HumanBackbone(model, resolved.manifest, key, probe);
  }
  const net = new (faceApi().FaceExpressionNet)();
  net.loadFromWeightMap(loadWeightMapFromDisk(jsonPath));
  return new FaceApiBackbone(net, resolved.manifest.input.size, key);
}
