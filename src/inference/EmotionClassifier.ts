import { faceApi } from './faceApi.js';
import { loadGraphModelFromDisk, loadLayersModelFromDisk, loadWeightMapFromDisk } from './modelFiles.js';
import { labelPermutation, type ModelManifest, permuteRows, type ResolvedModel } from './modelManifest.js';
import { type GraphModel, type LayersModel, type Tensor, type Tensor4D, tf } from './tf.js';

/** A batch of face crops, each `size`x`size` packed RGB, one after another. */
export interface CropBatch {
  data: Uint8Array;
  count: number;
  size: number;
}

/** An emotion model that runs in this thread. */
export interface EmotionClassifier {
  readonly name: string;
  readonly inputSize: number;
  /** Probabilities, `count` rows of 7 in the project's label order. The batch is one tensor. */
  classify(crops: CropBatch): Promise<Float32Array>;
  /** Frees the model (ONNX sessions release asynchronously). */
  dispose(): void | Promise<void>;
}

/** The crop batch as an NHWC float tensor, normalised as the manifest says (grey or RGB). */
export function cropTensor(crops: CropBatch, input: ModelManifest['input']): Tensor4D {
  return tf.tidy(() => {
    let x: Tensor = tf.tensor4d(crops.data, [crops.count, crops.size, crops.size, 3], 'int32').toFloat();
    if (crops.size !== input.size) x = tf.image.resizeBilinear(x as Tensor4D, [input.size, input.size]);
    if (input.mean) x = x.sub(tf.tensor1d(input.mean));
    if (input.colour === 'grey') x = x.mul(tf.tensor1d([0.2989, 0.587, 0.114])).sum(3, true);
    return x.mul(input.scale).add(input.offset) as Tensor4D;
  });
}

async function readAndDispose(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** A tfjs graph model with a [N,S,S,C] input and a [N,7] output (human's mini-Xception). */
export class GraphEmotionClassifier implements EmotionClassifier {
  readonly name: string;
  readonly inputSize: number;
  readonly #model: GraphModel;
  readonly #manifest: ModelManifest;
  readonly #permutation: number[];

  private constructor(model: GraphModel, manifest: ModelManifest) {
    this.name = manifest.name;
    this.inputSize = manifest.input.size;
    this.#model = model;
    this.#manifest = manifest;
    this.#permutation = labelPermutation(manifest.labels ?? []);
  }

  static async load(resolved: ResolvedModel): Promise<GraphEmotionClassifier> {
    return new GraphEmotionClassifier(await loadGraphModelFromDisk(resolved.files[0] as string), resolved.manifest);
  }

  async classify(crops: CropBatch): Promise<Float32Array> {
    const out = tf.tidy(() => {
      const y = this.#model.execute(cropTensor(crops, this.#manifest.input)) as Tensor;
      return this.#manifest.outputs === 'logits' ? tf.softmax(y) : y;
    });
    return permuteRows(await readAndDispose(out), this.#permutation);
  }

  dispose(): void {
    this.#model.dispose();
  }
}

/** A tfjs layers model with a [N,S,S,C] input and a [N,7] softmax output (our emotion CNN, src/lab/cnn). */
export class LayersEmotionClassifier implements EmotionClassifier {
  readonly name: string;
  readonly inputSize: number;
  readonly #model: LayersModel;
  readonly #manifest: ModelManifest;
  readonly #permutation: number[];

  private constructor(model: LayersModel, manifest: ModelManifest) {
    this.name = manifest.name;
    this.inputSize = manifest.input.size;
    this.#model = model;
    this.#manifest = manifest;
    this.#permutation = labelPermutation(manifest.labels ?? []);
  }

  static async load(resolved: ResolvedModel): Promise<LayersEmotionClassifier> {
    const model = await loadLayersModelFromDisk(resolved.files[0] as string, resolved.files[1] as string);
    return new LayersEmotionClassifier(model, resolved.manifest);
  }

  async classify(crops: CropBatch): Promise<Float32Array> {
    const out = tf.tidy(() => this.#model.predict(cropTensor(crops, this.#manifest.input)) as Tensor);
    return permuteRows(await readAndDispose(out), this.#permutation);
  }

  dispose(): void {
    this.#model.dispose();
  }
}

/**
 * face-api's expression net. Its public API takes one image at a time; we feed the whole crop batch to its
 * feature extractor through a minimal stand-in for face-api's `NetInput` (which only needs `toBatchTensor`),
 * so a batch is one tensor. face-api subtracts its mean and scales by 1/255 itself; its output is softmaxed.
 */
type ExpressionNet = InstanceType<ReturnType<typeof faceApi>['FaceExpressionNet']>;

export class FaceApiEmotionClassifier implements EmotionClassifier {
  readonly name: string;
  readonly inputSize: number;
  readonly #net: ExpressionNet;
  readonly #permutation: number[];

  private constructor(net: ExpressionNet, manifest: ModelManifest) {
    this.name = manifest.name;
    this.inputSize = manifest.input.size;
    this.#net = net;
    this.#permutation = labelPermutation(manifest.labels ?? []);
  }

  static async load(resolved: ResolvedModel): Promise<FaceApiEmotionClassifier> {
    const net = new (faceApi().FaceExpressionNet)();
    net.loadFromWeightMap(loadWeightMapFromDisk(resolved.files[0] as string));
    return new FaceApiEmotionClassifier(net, resolved.manifest);
  }

  async classify(crops: CropBatch): Promise<Float32Array> {
    const out = tf.tidy(() => {
      let x = tf.tensor4d(crops.data, [crops.count, crops.size, crops.size, 3], 'int32').toFloat() as Tensor4D;
      if (crops.size !== this.inputSize) x = tf.image.resizeBilinear(x, [this.inputSize, this.inputSize]);
      const features = this.#net.faceFeatureExtractor.forwardInput({ toBatchTensor: () => x });
      return this.#net.forwardInput(features);
    });
    return permuteRows(await readAndDispose(out), this.#permutation);
  }

  dispose(): void {
    this.#net.dispose();
  }
}
