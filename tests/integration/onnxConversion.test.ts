import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaceBox, RgbImage } from '../../src/core/types.js';
import { blazeFaceAnchors, decodeBlazeFace, letterbox } from '../../src/inference/blazeFace.js';
import type { CropBatch } from '../../src/inference/EmotionClassifier.js';
import { concatBatches, cropBatch, cropResize } from '../../src/inference/faceCrop.js';
import { HeadModel } from '../../src/inference/HeadModel.js';
import { ModelRunner } from '../../src/inference/ModelRunner.js';
import { labelPermutation, resolveModel } from '../../src/inference/modelManifest.js';
import { ONNX_MODELS } from '../../src/lab/commands/convertOnnx.js';
import { writeOnnxModel } from '../../src/lab/onnx/writeOnnxModel.js';
import { runTraining } from '../../src/lab/training/TrainRun.js';
import { FileSource } from '../../src/media/FileSource.js';
import { decodeImage } from '../../src/media/imageFile.js';
import { onnxBlazeFaceRows, onnxClassify, onnxSession } from '../helpers/onnxSession.js';
import { sharedPath } from '../helpers/sharedData.js';

/** Faces from the serving path (blazeface boxes on real photos and video frames) and FER2013 test faces. */
const FER_PER_CLASS = 6;
const FRAMES_PER_VIDEO = 4;
const tmp = mkdtempSync(join(tmpdir(), 'emostream-onnx-'));
let runner: ModelRunner;
const scenes: { name: string; image: RgbImage; faces: FaceBox[] }[] = [];
const ferFaces: RgbImage[] = [];

async function videoFrames(file: string): Promise<RgbImage[]> {
  const source = new FileSource({ path: sharedPath('video', file), pace: 'consumer', fps: 1 });
  const frames: RgbImage[] = [];
  try {
    for await (const frame of source.frames()) {
      frames.push({ data: frame.data, width: frame.width, height: frame.height });
      if (frames.length === FRAMES_PER_VIDEO) break;
    }
  } finally {
    await source.close();
  }
  return frames;
}

beforeAll(async () => {
  runner = await ModelRunner.create({ engine: 'tfjs', backend: 'wasm' });
  const dir = sharedPath('photos', 'multi_face');
  const images = [];
  for (const file of readdirSync(dir).sort()) images.push({ name: file, image: await decodeImage(join(dir, file)) });
  for (const video of ['fr_short_hamilton_clip.mp4', 'facenetpt_video.mp4']) {
    for (const [k, image] of (await videoFrames(video)).entries()) images.push({ name: `${video}#${k}`, image });
  }
  for (const { name, image } of images) scenes.push({ name, image, faces: await runner.detect('blazeface', image) });
  const fer = sharedPath('fer2013', 'test');
  for (const label of readdirSync(fer).sort()) {
    for (const file of readdirSync(join(fer, label)).sort().slice(0, FER_PER_CLASS)) {
      ferFaces.push(await decodeImage(join(fer, label, file)));
    }
  }
});

afterAll(async () => {
  await runner?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Every face as a crop for a model of this size and margin, then split into batches of 1, 8 and the rest. */
function batches(size: number, margin: number): CropBatch[] {
  const crops = scenes.filter((s) => s.faces.length > 0).map((s) => cropBatch(s.image, s.faces, size, margin));
  const fer = ferFaces.map((face) => {
    const data = new Uint8Array(size * size * 3);
    cropResize(face, { x: 0, y: 0, w: face.width, h: face.height }, size, data);
    return { data, count: 1, size };
  });
  const all = concatBatches([...crops, ...fer]);
  const out: CropBatch[] = [];
  const one = size * size * 3;
  const take = (from: number, count: number) => ({
    data: all.data.slice(from * one, (from + count) * one),
    count,
    size,
  });
  let at = 0;
  for (const n of [1, 1, 1, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]) {
    if (at + n > all.count) break;
    out.push(take(at, n));
    at += n;
  }
  if (at < all.count) out.push(take(at, all.count - at));
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

describe('ONNX conversion: the committed models compute what the tfjs path computes', () => {
  it.each(['human', 'faceapi', 'fer-head', 'mask'])(
    '%s: probabilities within 1e-4 on real faces, batches of 1, 8 and more',
    async (name) => {
      const model = resolveModel(name);
      const { manifest } = model;
      const session = await onnxSession(readFileSync(join(model.dir, manifest.onnx?.file ?? 'missing')));
      let max = 0;
      let faces = 0;
      for (const crops of batches(manifest.input.size, manifest.crop?.margin ?? 0.25)) {
        const raw = await onnxClassify(session, crops);
        const k = manifest.labels?.length ?? 0;
        expect(raw.length).toBe(crops.count * k);
        let onnx: Float32Array;
        let tfjs: Float32Array;
        if (manifest.kind === 'mask') {
          // maskScores gives the with_mask column; the other column of a 2-way softmax is its complement.
          const column = (manifest.labels ?? []).indexOf('with_mask');
          onnx = Float32Array.from({ length: crops.count }, (_, r) => raw[r * k + column] as number);
          tfjs = await runner.maskScores(name, crops);
        } else {
          // The tfjs classifiers permute into the project's label order; permute the ONNX rows the same way.
          const perm = labelPermutation(manifest.labels ?? []);
          onnx = new Float32Array(raw.length);
          for (let r = 0; r < crops.count; r++) {
            for (let c = 0; c < k; c++) onnx[r * k + (perm[c] as number)] = raw[r * k + c] as number;
          }
          tfjs = await runner.classify(name, crops);
        }
        max = Math.max(max, maxAbsDiff(onnx, tfjs));
        faces += crops.count;
      }
      await session.release();
      console.log(`onnx-equivalence ${name}: faces=${faces} max_abs_diff=${max.toExponential(2)}`);
      expect(faces).toBeGreaterThan(150);
      expect(max).toBeLessThan(1e-4);
    },
  );

  it('blazeface: the same detections on the 16 multi-face photos and video frames (boxes within 1 px)', async () => {
    const model = resolveModel('blazeface');
    const { manifest } = model;
    const session = await onnxSession(readFileSync(join(model.dir, manifest.onnx?.file ?? 'missing')));
    const anchors = blazeFaceAnchors(manifest.input.size);
    const defaults = manifest.detector ?? { minScore: 0.5, iouThreshold: 0.3, maxFaces: 50 };
    let boxDiff = 0;
    let scoreDiff = 0;
    let faces = 0;
    for (const scene of scenes) {
      const rows = await onnxBlazeFaceRows(session, scene.image, letterbox(scene.image));
      expect(rows.length).toBe(896 * 17);
      const found = decodeBlazeFace(rows, anchors, { ...defaults, size: manifest.input.size, image: scene.image });
      expect(found.length, scene.name).toBe(scene.faces.length);
      for (const face of scene.faces) {
        const match = nearest(face, found);
        boxDiff = Math.max(boxDiff, ...(['x', 'y', 'w', 'h'] as const).map((key) => Math.abs(face[key] - match[key])));
        scoreDiff = Math.max(scoreDiff, Math.abs(face.score - match.score));
      }
      faces += found.length;
    }
    await session.release();
    console.log(
      `onnx-equivalence blazeface: images=${scenes.length} faces=${faces} max_box_diff_px=${boxDiff.toExponential(2)} max_score_diff=${scoreDiff.toExponential(2)}`,
    );
    expect(scenes.length).toBeGreaterThanOrEqual(16 + 2 * FRAMES_PER_VIDEO);
    expect(faces).toBeGreaterThan(100);
    expect(boxDiff).toBeLessThanOrEqual(1);
    expect(scoreDiff).toBeLessThanOrEqual(1e-3);
  });
});

function nearest(face: FaceBox, candidates: FaceBox[]): FaceBox {
  const distance = (b: FaceBox) => Math.abs(b.x - face.x) + Math.abs(b.y - face.y) + Math.abs(b.w - face.w);
  return candidates.reduce((best, b) => (distance(b) < distance(best) ? b : best));
}

describe('ONNX conversion: provenance', () => {
  it('converting again reproduces the committed model.onnx files byte for byte, and their manifests', () => {
    for (const name of ONNX_MODELS) {
      const model = resolveModel(name);
      const written = writeOnnxModel(name, tmp);
      const committed = readFileSync(join(model.dir, 'model.onnx'));
      expect(Buffer.from(written.bytes).equals(committed), name).toBe(true);
      expect(readFileSync(join(written.dir, 'model.onnx')).equals(committed), name).toBe(true);
      expect(readFileSync(join(written.dir, 'manifest.json'), 'utf8')).toBe(
        readFileSync(join(model.dir, 'manifest.json'), 'utf8'),
      );
      expect(model.manifest.onnx).toEqual(written.entry);
    }
  });
});

describe('ONNX conversion: train writes both formats', () => {
  it('a head trained with flip TTA on two backbones comes with a model.onnx equal to the tfjs head within 1e-4', async () => {
    // Six FER2013 training images per class, linked into a folder-per-class data set.
    const data = join(tmp, 'train-data');
    const ferTrain = sharedPath('fer2013', 'train');
    for (const label of readdirSync(ferTrain).sort()) {
      mkdirSync(join(data, label), { recursive: true });
      for (const file of readdirSync(join(ferTrain, label)).sort().slice(0, 6)) {
        symlinkSync(join(ferTrain, label, file), join(data, label, file));
      }
    }
    const out = join(tmp, 'trained', 'tta-head');
    await runTraining({
      decode: (path) => decodeImage(path),
      data,
      out,
      kind: 'emotion',
      backbones: ['faceapi', 'human'],
      labels: 'fer2013',
      epochs: 4,
      valSplit: 0.15,
      testSplit: 0,
      seed: 3,
      hidden: 32,
      dropout: 0.3,
      learningRate: 0.003,
      batchSize: 16,
      patience: 4,
      classWeightPower: 0.5,
      mirror: false,
      ttaFlip: true,
      cacheDir: join(tmp, 'train-cache'),
      progress: { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream,
    });
    const model = resolveModel(out);
    expect(model.manifest.training?.tta).toBe('flip');
    expect(model.manifest.onnx).toMatchObject({ file: 'model.onnx', convertedBy: 'emostream convert-onnx tta-head' });
    const session = await onnxSession(readFileSync(join(out, 'model.onnx')));
    const head = await HeadModel.load(model);
    let max = 0;
    let faces = 0;
    try {
      for (const crops of batches(model.manifest.input.size, model.manifest.crop?.margin ?? 0.25)) {
        max = Math.max(max, maxAbsDiff(await onnxClassify(session, crops), await head.predict(crops)));
        faces += crops.count;
      }
    } finally {
      head.dispose();
      await session.release();
    }
    console.log(
      `onnx-equivalence trained flip-TTA head (faceapi+human): faces=${faces} max_abs_diff=${max.toExponential(2)}`,
    );
    expect(faces).toBeGreaterThan(150);
    expect(max).toBeLessThan(1e-4);
    // The train-time conversion is the command's: converting the folder again gives the same bytes.
    expect(
      Buffer.from(writeOnnxModel(out, join(tmp, 'again')).bytes).equals(readFileSync(join(out, 'model.onnx'))),
    ).toBe(true);
  });
});
