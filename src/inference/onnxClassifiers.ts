import { ModelLoadError } from '../core/errors.js';
import type { CropBatch, EmotionClassifier } from './EmotionClassifier.js';
import type { MaskScorer } from './MaskClassifier.js';
import { labelPermutation, maskColumn, permuteRows, type ResolvedModel } from './modelManifest.js';
import { createSession, type OrtSession, type OrtSessionOptions, ort } from './OnnxRuntime.js';

/** The ONNX file of a model, or a `MODEL_ENGINE_UNSUPPORTED` error naming it. */
export function onnxFile(resolved: ResolvedModel): string {
  const file = resolved.onnxFile;
  if (!file) {
    throw new ModelLoadError(`model "${resolved.manifest.name}" has no ONNX file (run emostream convert-onnx)`, {
      code: 'MODEL_ENGINE_UNSUPPORTED',
    });
  }
  return file;
}

/**
 * A converted classifier on ONNX Runtime (docs/models.md, "ONNX"): the crop batch goes in as it is (uint8
 * `[N, S, S, 3]`; resizing and normalisation are inside the graph), `probabilities` `[N, K]` come out in the
 * manifest's label order.
 */
export class OnnxModel {
  readonly name: string;
  readonly inputSize: number;
  readonly labels: readonly string[];
  readonly #session: OrtSession;

  private constructor(resolved: ResolvedModel, session: OrtSession) {
    this.name = resolved.manifest.name;
    this.inputSize = resolved.manifest.input.size;
    this.labels = resolved.manifest.labels ?? [];
    this.#session = session;
  }

  static async load(resolved: ResolvedModel, options: OrtSessionOptions): Promise<OnnxModel> {
    return new OnnxModel(resolved, await createSession(onnxFile(resolved), options));
  }

  /** Row-major `count` x `labels.length` probabilities, in the model's label order. */
  async run(crops: CropBatch): Promise<Float32Array> {
    if (crops.size !== this.inputSize) {
      throw new ModelLoadError(`${this.name} takes ${this.inputSize} px crops, got ${crops.size}`, {
        code: 'MODEL_WRONG_KIND',
      });
    }
    const input = new (ort().Tensor)('uint8', crops.data, [crops.count, crops.size, crops.size, 3]);
    const out = await this.#session.run({ crops: input });
    const probs = out.probabilities;
    if (!probs) throw new ModelLoadError(`${this.name}: the ONNX graph has no "probabilities" output`);
    const data = probs.data as Float32Array;
    probs.dispose();
    return data;
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

/** An emotion model (or head) on ONNX Runtime: 7 probabilities per crop in the project's label order. */
export class OnnxEmotionClassifier implements EmotionClassifier {
  readonly name: string;
  readonly inputSize: number;
  readonly #model: OnnxModel;
  readonly #permutation: number[];

  private constructor(model: OnnxModel) {
    this.name = model.name;
    this.inputSize = model.inputSize;
    this.#model = model;
    this.#permutation = labelPermutation(model.labels);
  }

  static async load(resolved: ResolvedModel, options: OrtSessionOptions): Promise<OnnxEmotionClassifier> {
    return new OnnxEmotionClassifier(await OnnxModel.load(resolved, options));
  }

  async classify(crops: CropBatch): Promise<Float32Array> {
    return permuteRows(await this.#model.run(crops), this.#permutation);
  }

  dispose(): Promise<void> {
    return this.#model.dispose();
  }
}

/** A mask head on ONNX Runtime: for each crop, the probability that the face wears a mask. */
export class OnnxMaskClassifier implements MaskScorer {
  readonly name: string;
  readonly #model: OnnxModel;
  readonly #column: number;

  private constructor(model: OnnxModel, column: number) {
    this.name = model.name;
    this.#model = model;
    this.#column = column;
  }

  static async load(resolved: ResolvedModel, options: OrtSessionOptions): Promise<OnnxMaskClassifier> {
    const column = maskColumn(resolved);
    return new OnnxMaskClassifier(await OnnxModel.load(resolved, options), column);
  }

  async score(crops: CropBatch): Promise<Float32Array> {
    const raw = await this.#model.run(crops);
    const k = this.#model.labels.length;
    return Float32Array.from({ length: crops.count }, (_, r) => raw[r * k + this.#column] as number);
  }

  dispose(): Promise<void> {
    return this.#model.dispose();
  }
}
