import type { FaceBox, RgbImage } from '../core/types.js';
import { type FaceDetector, nonMaxSuppression } from './FaceDetector.js';
import { faceApi } from './faceApi.js';
import { loadWeightMapFromDisk } from './modelFiles.js';
import type { ResolvedModel } from './modelManifest.js';
import { tf } from './tf.js';

type Net = InstanceType<ReturnType<typeof faceApi>['TinyFaceDetector']>;

/** face-api's Tiny Face Detector (`tiny`) or SSD MobileNet v1 (`ssd`), run through face-api's own decoding. */
export class FaceApiDetector implements FaceDetector {
  readonly name: string;
  readonly #net: Net;
  readonly #runtime: 'faceapi-tiny' | 'faceapi-ssd';
  readonly #inputSize: number;
  readonly #defaults: { minScore: number; iouThreshold: number; maxFaces: number };

  private constructor(net: Net, resolved: ResolvedModel) {
    this.name = resolved.manifest.name;
    this.#net = net;
    this.#runtime = resolved.manifest.runtime as 'faceapi-tiny' | 'faceapi-ssd';
    this.#inputSize = resolved.manifest.input.size;
    this.#defaults = resolved.manifest.detector ?? { minScore: 0.5, iouThreshold: 0.4, maxFaces: 50 };
  }

  static async load(resolved: ResolvedModel): Promise<FaceApiDetector> {
    const api = faceApi();
    const net = resolved.manifest.runtime === 'faceapi-ssd' ? new api.SsdMobilenetv1() : new api.TinyFaceDetector();
    net.loadFromWeightMap(loadWeightMapFromDisk(resolved.files[0] as string));
    return new FaceApiDetector(net, resolved);
  }

  async detect(image: RgbImage, minScore = this.#defaults.minScore): Promise<FaceBox[]> {
    const api = faceApi();
    const options =
      this.#runtime === 'faceapi-ssd'
        ? new api.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: this.#defaults.maxFaces })
        : new api.TinyFaceDetectorOptions({ inputSize: this.#tinyInputSize(image), scoreThreshold: minScore });
    const pixels = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    try {
      const found = await this.#net.locateFaces(pixels, options);
      const boxes = found.map((d) => ({ x: d.box.x, y: d.box.y, w: d.box.width, h: d.box.height, score: d.score }));
      return nonMaxSuppression(boxes, this.#defaults.iouThreshold, this.#defaults.maxFaces);
    } finally {
      pixels.dispose();
    }
  }

  /**
   * The tiny detector sees the image at `inputSize`; at 416 the faces of a large group photo shrink below what it
   * can find (0 of 14 on a 1920 px photo). So large images get up to half their long side, in steps of 32, at
   * most 1024: 640x480 frames stay at 416 (measured: docs/models.md).
   */
  #tinyInputSize(image: RgbImage): number {
    const half = Math.round(Math.max(image.width, image.height) / 2 / 32) * 32;
    return Math.max(this.#inputSize, Math.min(1024, half));
  }

  dispose(): void {
    this.#net.dispose();
  }
}
