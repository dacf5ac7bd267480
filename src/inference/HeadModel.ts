import { ModelLoadError } from '../core/errors.js';
import { type Backbone, type BackboneName, loadBackbone, parseBackbones } from './Backbone.js';
import type { CropBatch } from './EmotionClassifier.js';
import { loadLayersModelFromDisk } from './modelFiles.js';
import type { ResolvedModel } from './modelManifest.js';
import { type Tensor, tf } from './tf.js';

type LayersModel = import('@tensorflow/tfjs').LayersModel;

/** The crop batch mirrored left-right (flip test-time augmentation). */
export function mirrorBatch(crops: CropBatch): CropBatch {
  const { size, count } = crops;
  const out = new Uint8Array(crops.data.length);
  for (let row = 0; row < count * size; row++) {
    const base = row * size * 3;
    for (let x = 0; x < size; x++) {
      const s = base + x * 3;
      const d = base + (size - 1 - x) * 3;
      out[d] = crops.data[s] as number;
      out[d + 1] = crops.data[s + 1] as number;
      out[d + 2] = crops.data[s + 2] as number;
    }
  }
  return { data: out, count, size };
}

/**
 * A trained head with its frozen backbones: crops -> concatenated backbone features -> head probabilities
 * (N x classes). The manifest records each backbone's key; a backbone whose weights changed since training
 * is refused (`HEAD_BACKBONE_MISMATCH`) instead of producing meaningless scores.
 */
export class HeadModel {
  readonly classes: number;
  readonly flip: boolean;
  readonly #backbones: Backbone[];
  readonly #head: LayersModel;

  private constructor(backbones: Backbone[], head: LayersModel, flip: boolean) {
    this.#backbones = backbones;
    this.#head = head;
    this.flip = flip;
    this.classes = (head.outputs[0]?.shape[1] as number | undefined) ?? 0;
  }

  static async load(resolved: ResolvedModel): Promise<HeadModel> {
    const { manifest, files } = resolved;
    const names: BackboneName[] = parseBackbones((manifest.backbones ?? []).join(','));
    const expected = (manifest.training?.backboneKeys ?? {}) as Record<string, string>;
    const backbones: Backbone[] = [];
    try {
      for (const name of names) {
        const b = await loadBackbone(name);
        backbones.push(b);
        if (expected[name] && expected[name] !== b.key) {
          throw new ModelLoadError(
            `head "${manifest.name}" was trained on another version of backbone ${name} (${expected[name]}, installed ${b.key})`,
            { code: 'HEAD_BACKBONE_MISMATCH' },
          );
        }
      }
      const head = await loadLayersModelFromDisk(files[0] as string, files[1] as string);
      return new HeadModel(backbones, head, manifest.training?.tta === 'flip');
    } catch (err) {
      for (const b of backbones) b.dispose();
      throw err;
    }
  }

  /** Row-major N x classes probabilities; with flip TTA, the mean over the crop and its mirror. */
  async predict(crops: CropBatch): Promise<Float32Array> {
    const batches = this.flip ? [crops, mirrorBatch(crops)] : [crops];
    const out = tf.tidy(() => {
      const probs = batches.map((b) => {
        const feats = this.#backbones.map((bb) => bb.features(b));
        const x = feats.length === 1 ? (feats[0] as Tensor) : tf.concat(feats, 1);
        return this.#head.predict(x) as Tensor;
      });
      return probs.length === 1 ? (probs[0] as Tensor) : tf.addN(probs).div(probs.length);
    });
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    for (const b of this.#backbones) b.dispose();
    this.#head.dispose();
  }
}
