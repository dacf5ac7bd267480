import { ModelLoadError } from '../core/errors.js';
import type { CropBatch, EmotionClassifier } from './EmotionClassifier.js';
import { HeadModel } from './HeadModel.js';
import { labelPermutation, permuteRows, type ResolvedModel } from './modelManifest.js';

/**
 * An emotion head trained with `emostream train`: the manifest's frozen backbones run on the crop batch (one
 * tensor), their features go through the head; probabilities come back in the project's label order.
 */
export class HeadEmotionClassifier implements EmotionClassifier {
  readonly name: string;
  readonly inputSize: number;
  readonly #model: HeadModel;
  readonly #permutation: number[];

  private constructor(name: string, inputSize: number, model: HeadModel, permutation: number[]) {
    this.name = name;
    this.inputSize = inputSize;
    this.#model = model;
    this.#permutation = permutation;
  }

  static async load(resolved: ResolvedModel): Promise<HeadEmotionClassifier> {
    const { manifest } = resolved;
    if (manifest.kind === 'mask' || manifest.kind === 'detector') {
      throw new ModelLoadError(`model "${manifest.name}" is a ${manifest.kind} model, not emotion`, {
        code: 'MODEL_WRONG_KIND',
      });
    }
    const permutation = labelPermutation(manifest.labels ?? []);
    const model = await HeadModel.load(resolved);
    if (model.classes !== permutation.length) {
      model.dispose();
      throw new ModelLoadError(`head "${manifest.name}" has ${model.classes} outputs, expected 7`, {
        code: 'MODEL_MANIFEST_INVALID',
      });
    }
    return new HeadEmotionClassifier(manifest.name, manifest.input.size, model, permutation);
  }

  async classify(crops: CropBatch): Promise<Float32Array> {
    return permuteRows(await this.#model.predict(crops), this.#permutation);
  }

  dispose(): void {
    this.#model.dispose();
  }
}
