import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createCanvas, ImageData } from '@napi-rs/canvas';
import type { RgbImage } from '../../core/types.js';
import { faceApi } from '../faceApi.js';
import { loadWeightMapFromDisk } from '../modelFiles.js';
import { tf } from '../tf.js';

interface LandmarkNet {
  loadFromWeightMap(map: unknown): void;
  detectLandmarks(input: unknown): Promise<{ positions: { x: number; y: number }[] }>;
  dispose(): void;
}

/**
 * Draws a surgical-mask shape over the lower face (nose bridge to chin, jaw line to jaw line) from face-api's
 * 68-point landmarks, as if the face wore a mask. The image is taken to be the face (FER-style crops).
 */
export class SurgicalMask {
  readonly name = 'surgical-mask-v1';
  readonly #net: LandmarkNet;

  private constructor(net: LandmarkNet) {
    this.#net = net;
  }

  static load(): SurgicalMask {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    const Net = (faceApi() as unknown as { FaceLandmark68Net: new () => LandmarkNet }).FaceLandmark68Net;
    const net = new Net();
    net.loadFromWeightMap(loadWeightMapFromDisk(join(dir, 'face_landmark_68_model-weights_manifest.json')));
    return new SurgicalMask(net);
  }

  async landmarks(image: RgbImage): Promise<{ x: number; y: number }[]> {
    const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    try {
      return (await this.#net.detectLandmarks(t)).positions;
    } finally {
      t.dispose();
    }
  }

  async apply(image: RgbImage): Promise<RgbImage> {
    const p = await this.landmarks(image);
    const { width, height } = image;
    const canvas = createCanvas(width, height);
    const ctx = canvas.getContext('2d');
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      rgba[i * 4] = image.data[i * 3] as number;
      rgba[i * 4 + 1] = image.data[i * 3 + 1] as number;
      rgba[i * 4 + 2] = image.data[i * 3 + 2] as number;
      rgba[i * 4 + 3] = 255;
    }
    ctx.putImageData(new ImageData(rgba, width, height), 0, 0);
    // jaw 1..15 (ear level to ear level, via the chin), then up to the nose bridge (point 28)
    const jaw = p.slice(1, 16);
    const nose = p[28] as { x: number; y: number };
    ctx.fillStyle = 'rgb(170, 205, 225)';
    ctx.beginPath();
    ctx.moveTo(nose.x, nose.y);
    for (const q of [...jaw].reverse()) ctx.lineTo(q.x, q.y);
    ctx.closePath();
    ctx.fill();
    const out = ctx.getImageData(0, 0, width, height).data;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      rgb[i * 3] = out[i * 4] as number;
      rgb[i * 3 + 1] = out[i * 4 + 1] as number;
      rgb[i * 3 + 2] = out[i * 4 + 2] as number;
    }
    return { data: rgb, width, height };
  }

  dispose(): void {
    this.#net.dispose();
  }
}
