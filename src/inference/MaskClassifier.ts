import type { CropBatch } from './EmotionClassifier.js';
import { HeadModel } from './HeadModel.js';
import { maskColumn, type ResolvedModel } from './modelManifest.js';

/** What a mask head answers, on either engine. */
export interface MaskScorer {
  readonly name: string;
  /** `count` probabilities of "mask present". */
  score(crops: CropBatch): Promise<Float32Array>;
  dispose(): void | Promise<void>;
}

/** A face-mask head (`kind: 'mask'`) on tfjs: for each crop, the probability that the face wears a mask. */
export class MaskClassifier implements MaskScorer {
  readonly name: string;
  readonly inputSize: number;
  readonly #model: HeadModel;
  /** Output column of "mask present" (from the manifest's labels). */
  readonly #column: number;

  private constructor(name: string, inputSize: number, model: HeadModel, column: number) {
    this.name = name;
    this.inputSize = inputSize;
    this.#model = model;
    this.#column = column;
  }

  static async load(resolved: ResolvedModel): Promise<MaskClassifier> {
    const { manifest } = resolved;
    const column = maskColumn(resolved);
    const model = await HeadModel.load(resolved);
    return new MaskClassifier(manifest.name, manifest.input.size, model, column);
  }

  /** `count` probabilities of "mask present". */
  async score(crops: CropBatch): Promise<Float32Array> {
    const raw = await this.#model.predict(crops);
    const k = this.#model.classes;
    return Float32Array.from({ length: crops.count }, (_, r) => raw[r * k + this.#column] as number);
  }

  dispose(): void {
    this.#model.dispose();
  }
}
