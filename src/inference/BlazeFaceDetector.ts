import type { FaceBox, RgbImage } from '../core/types.js';
import { blazeFaceAnchors, decodeBlazeFace, letterbox } from './blazeFace.js';
import type { FaceDetector } from './FaceDetector.js';
import { loadGraphModelFromDisk } from './modelFiles.js';
import type { ResolvedModel } from './modelManifest.js';
import { type GraphModel, type Tensor, tf } from './tf.js';

/**
 * BlazeFace full-range ("back") detector: the image is letterboxed to a square (so faces keep their shape),
 * resized to 256, run once, and the 896 anchor outputs are decoded and suppressed here in plain JS.
 */
export class BlazeFaceDetector implements FaceDetector {
  readonly name: string;
  readonly #model: GraphModel;
  readonly #size: number;
  readonly #anchors: Float32Array;
  readonly #defaults: { minScore: number; iouThreshold: number; maxFaces: number };
  readonly #input: { scale: number; offset: number };

  private constructor(model: GraphModel, resolved: ResolvedModel) {
    const { manifest } = resolved;
    this.name = manifest.name;
    this.#model = model;
    this.#size = manifest.input.size;
    this.#anchors = blazeFaceAnchors(this.#size);
    this.#defaults = manifest.detector ?? { minScore: 0.5, iouThreshold: 0.3, maxFaces: 50 };
    this.#input = { scale: manifest.input.scale, offset: manifest.input.offset };
  }

  static async load(resolved: ResolvedModel): Promise<BlazeFaceDetector> {
    const file = resolved.files[0] as string;
    return new BlazeFaceDetector(await loadGraphModelFromDisk(file), resolved);
  }

  async detect(image: RgbImage, minScore = this.#defaults.minScore): Promise<FaceBox[]> {
    const box = letterbox(image);
    const output = tf.tidy(() => {
      const pixels = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      const padded = tf.pad(pixels, [
        [box.top, box.bottom],
        [box.left, box.right],
        [0, 0],
      ]);
      const resized = tf.image.resizeBilinear(padded as import('@tensorflow/tfjs').Tensor3D, [this.#size, this.#size]);
      const input = resized.mul(this.#input.scale).add(this.#input.offset).expandDims(0);
      return this.#concatOutputs(this.#model.execute(input) as Tensor | Tensor[]);
    });
    let rows: Float32Array;
    try {
      rows = (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
    return decodeBlazeFace(rows, this.#anchors, { ...this.#defaults, size: this.#size, image, minScore });
  }

  /** The model has four outputs (scores and boxes for the 16x16 and 8x8 grids); order them as the anchors are. */
  #concatOutputs(out: Tensor | Tensor[]): Tensor {
    if (!Array.isArray(out)) return out.squeeze([0]);
    const bySize = [...out].sort((a, b) => a.size - b.size); // 384x1, 512x1, 384x16, 512x16
    const [s384, s512, b384, b512] = bySize as [Tensor, Tensor, Tensor, Tensor];
    const rows512 = tf.concat([s512, b512], 2);
    const rows384 = tf.concat([s384, b384], 2);
    return tf.concat([rows512, rows384], 1).squeeze([0]);
  }

  dispose(): void {
    this.#model.dispose();
  }
}
