import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createCanvas, ImageData } from '@napi-rs/canvas';
import type { RgbImage } from '../../core/types.js';
import { faceApi } from '../../inference/faceApi.js';
import { loadWeightMapFromDisk } from '../../inference/modelFiles.js';
import { tf } from '../../inference/tf.js';

interface LandmarkNet {
  loadFromWeightMap(map: unknown): void;
  detectLandmarks(input: unknown): Promise<{ positions: { x: number; y: number }[] }>;
  dispose(): void;
}

/** Mask colours for `varied` masks: surgical blue, white, black, navy, grey, pink, N95 off-white. */
const VARIED_COLOURS = [
  '170,205,225',
  '235,235,232',
  '30,30,35',
  '45,60,100',
  '150,150,150',
  '225,185,195',
  '215,210,195',
];

/**
 * Draws a surgical-mask shape over the lower face (nose bridge to chin, jaw line to jaw line) from face-api's
 * 68-point landmarks, as if the face wore a mask. The image is taken to be the face (FER-style crops). Pale blue,
 * or with `varied` one of several mask colours picked from the image's bytes (the same image, the same colour).
 */
export class SurgicalMask {
  readonly name: string;
  readonly #net: LandmarkNet;
  readonly #varied: boolean;

  private constructor(net: LandmarkNet, varied: boolean) {
    this.#net = net;
    this.#varied = varied;
    this.name = varied ? 'surgical-mask-varied-v1' : 'surgical-mask-v1';
  }

  static load(options: { varied?: boolean } = {}): SurgicalMask {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    const Net = (faceApi() as unknown as { FaceLandmark68Net: new () => LandmarkNet }).FaceLandmark68Net;
    const net = new Net();
    net.loadFromWeightMap(loadWeightMapFromDisk(join(dir, 'face_landmark_68_model-weights_manifest.json')));
    return new SurgicalMask(net, options.varied === true);
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
    ctx.fillStyle = `rgb(${this.#varied ? colourFor(image) : VARIED_COLOURS[0]})`;
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

/** A colour from `VARIED_COLOURS` chosen by a hash of the image's bytes (FNV-1a over a sample of them). */
function colourFor(image: RgbImage): string {
  let h = 0x811c9dc5;
  const step = Math.max(1, Math.floor(image.data.length / 4096));
  for (let i = 0; i < image.data.length; i += step) h = Math.imul(h ^ (image.data[i] as number), 0x01000193);
  return VARIED_COLOURS[(h >>> 0) % VARIED_COLOURS.length] as string;
}
