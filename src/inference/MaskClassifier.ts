import { ModelLoadError } from '../core/errors.js';
import type { CropBatch } from './EmotionClassifier.js';
import { HeadModel } from './HeadModel.js';
import type { ResolvedModel } from './modelManifest.js';

/** A face-mask head (`kind: 'mask'`): for each crop, the probability that the face wears a mask. */
export class MaskClassifier {
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
    const column = (manifest.labels ?? []).indexOf('with_mask');
    if (manifest.kind !== 'mask' || column < 0) {
      throw new ModelLoadError(`model "${manifest.name}" is not a mask head (kind mask, label with_mask)`, {
        code: 'MODEL_WRONG_KIND',
      });
    }
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
