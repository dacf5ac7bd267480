import type { RgbImage } from '../../core/types.js';
import { faceApi } from '../../inference/faceApi.js';
import { loadWeightMapFromDisk } from '../../inference/modelFiles.js';
import { resolveModel } from '../../inference/modelManifest.js';
import { requireModule, tf } from '../../inference/tf.js';

/**
 * The baseline a newcomer would write: face-api's own `detectAllFaces(image).withFaceExpressions()` on every frame,
 * in the main thread, one tfjs-wasm backend. Used by `bench-live` to measure what our pipeline buys.
 */
export class NaiveFaceApi {
  // biome-ignore lint/suspicious/noExplicitAny: the baseline uses face-api's high-level API, which we do not type
  readonly #api = faceApi() as unknown as Record<string, any>;
  readonly #detector: 'ssd' | 'tiny';

  private constructor(detector: 'ssd' | 'tiny') {
    this.#detector = detector;
  }

  static async create(detector: 'ssd' | 'tiny'): Promise<NaiveFaceApi> {
    await requireModule('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm')) || tf.getBackend() !== 'wasm') throw new Error('wasm backend did not start');
    const naive = new NaiveFaceApi(detector);
    const nets = naive.#api.nets;
    const load = (net: { loadFromWeightMap(m: unknown): void }, model: string) =>
      net.loadFromWeightMap(loadWeightMapFromDisk(resolveModel(model).files[0] as string));
    load(detector === 'ssd' ? nets.ssdMobilenetv1 : nets.tinyFaceDetector, detector);
    load(nets.faceExpressionNet, 'faceapi');
    return naive;
  }

  /** Faces found on one frame (with their expressions, which the call computes). */
  async analyze(image: RgbImage): Promise<number> {
    const api = this.#api;
    const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    try {
      const options = this.#detector === 'ssd' ? new api.SsdMobilenetv1Options() : new api.TinyFaceDetectorOptions();
      const results = await api.detectAllFaces(input, options).withFaceExpressions();
      return results.length;
    } finally {
      input.dispose();
    }
  }
}
