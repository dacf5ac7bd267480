import type { FaceBox, RgbImage } from '../core/types.js';
import { blazeFaceAnchors, decodeBlazeFace, letterbox } from './blazeFace.js';
import type { FaceDetector } from './FaceDetector.js';
import type { ResolvedModel } from './modelManifest.js';
import { createSession, type OrtSession, type OrtSessionOptions, ort } from './OnnxRuntime.js';
import { onnxFile } from './onnxClassifiers.js';

/**
 * BlazeFace on ONNX Runtime (docs/models.md, "ONNX"): the frame goes in as it is (uint8 `[1, H, W, 3]`) with the
 * letterbox to pad it square; padding, resizing to 256 and normalisation are inside the graph. Its 896 `rows` are
 * decoded by the same code as the tfjs detector's.
 */
export class OnnxBlazeFace implements FaceDetector {
  readonly name: string;
  readonly #session: OrtSession;
  readonly #size: number;
  readonly #anchors: Float32Array;
  readonly #defaults: { minScore: number; iouThreshold: number; maxFaces: number };

  private constructor(resolved: ResolvedModel, session: OrtSession) {
    const { manifest } = resolved;
    this.name = manifest.name;
    this.#session = session;
    this.#size = manifest.input.size;
    this.#anchors = blazeFaceAnchors(this.#size);
    this.#defaults = manifest.detector ?? { minScore: 0.5, iouThreshold: 0.3, maxFaces: 50 };
  }

  static async load(resolved: ResolvedModel, options: OrtSessionOptions): Promise<OnnxBlazeFace> {
    return new OnnxBlazeFace(resolved, await createSession(onnxFile(resolved), options));
  }

  async detect(image: RgbImage, minScore = this.#defaults.minScore): Promise<FaceBox[]> {
    const { Tensor } = ort();
    const box = letterbox(image);
    const pads = BigInt64Array.from([0, box.top, box.left, 0, 0, box.bottom, box.right, 0].map(BigInt));
    const out = await this.#session.run({
      image: new Tensor('uint8', ownMemory(image.data), [1, image.height, image.width, 3]),
      pads: new Tensor('int64', pads, [8]),
    });
    const rows = out.rows;
    if (!rows) throw new Error(`${this.name}: the ONNX graph has no "rows" output`);
    const data = rows.data as Float32Array;
    rows.dispose();
    return decodeBlazeFace(data, this.#anchors, { ...this.#defaults, size: this.#size, image, minScore });
  }

  dispose(): Promise<void> {
    return this.#session.release();
  }
}

/**
 * ONNX Runtime's Node binding refuses tensors over shared memory ("Invalid argument"), and frames cross to the worker
 * as shared memory: one copy here, in the worker (about 0.1 ms for 640x480), none across threads.
 */
function ownMemory(data: Uint8Array): Uint8Array {
  return data.buffer instanceof SharedArrayBuffer ? new Uint8Array(data) : data;
}
