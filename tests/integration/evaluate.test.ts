import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMOTION_LABELS, topLabel } from '../../src/core/labels.js';
import { InferencePool } from '../../src/inference/InferencePool.js';
import { cropSpec } from '../../src/inference/modelManifest.js';
import { benchDetect } from '../../src/lab/evaluation/benchDetect.js';
import { imageClassifier } from '../../src/lab/evaluation/emotionClassifiers.js';
import { evaluate } from '../../src/lab/evaluation/evaluate.js';
import { explainFace, occlude } from '../../src/lab/evaluation/explain.js';
import { readLabelledImages } from '../../src/lab/evaluation/labelledImages.js';
import { decodeImage } from '../../src/media/imageFile.js';
import { sharedPath } from '../helpers/sharedData.js';

let pool: InferencePool;
beforeAll(async () => {
  pool = await InferencePool.create({ workers: 2 });
});
afterAll(async () => {
  await pool?.close();
});

/** A small folder-per-class set copied out of the FER2013 test split, with odd folder spellings. */
function smallSet(perClass: number): string {
  const root = mkdtempSync(join(tmpdir(), 'emostream-eval-'));
  const spellings: Record<string, string> = {
    angry: 'Anger',
    happy: 'happiness',
    fear: 'FEARFUL',
    surprise: 'surprised',
  };
  for (const label of ['angry', 'happy', 'fear', 'surprise', 'neutral']) {
    const src = sharedPath('fer2013', 'test', label);
    const dst = join(root, 'test', spellings[label] ?? label);
    mkdirSync(dst, { recursive: true });
    for (const f of readdirSync(src).sort().slice(0, perClass)) copyFileSync(join(src, f), join(dst, f));
  }
  mkdirSync(join(root, 'test', 'not-an-emotion'));
  return join(root, 'test');
}

describe('evaluate', () => {
  it('reads class folders with common spellings, and FER+ labels keyed by path', () => {
    const dir = smallSet(4);
    const set = readLabelledImages(dir);
    expect(set.images).toHaveLength(20);
    expect(new Set(set.images.map((i) => i.truth))).toEqual(new Set(['angry', 'happy', 'fear', 'surprise', 'neutral']));
    expect(set.ignoredFolders).toEqual(['not-an-emotion']);
    // The FER+ CSV keys paths like test/angry/PublicTest_x.jpg; our copy keeps the same relative layout.
    const real = readLabelledImages(sharedPath('fer2013', 'test'), sharedPath('fer2013', 'ferplus.csv'));
    expect(real.images.length + real.skipped).toBe(3589);
    expect(real.images.some((i) => i.truth === 'contempt')).toBe(true);
    expect(real.skipped).toBeGreaterThan(0); // unknown / not-a-face
  });

  it('gives exactly the confusion matrix of the model output, image by image', async () => {
    const dir = smallSet(6);
    const out = mkdtempSync(join(tmpdir(), 'emostream-eval-out-'));
    const result = await evaluate(pool, {
      dataDir: dir,
      labels: 'fer2013',
      model: 'human',
      tta: 'none',
      outDir: out,
      batchSize: 7,
    });
    // The same model, one image at a time, outside evaluate:
    const classify = imageClassifier(pool, 'human', 'none');
    const set = readLabelledImages(dir);
    const expected = EMOTION_LABELS.map(() => EMOTION_LABELS.map(() => 0));
    for (const image of set.images) {
      const [probs] = await classify([await decodeImage(image.path)]);
      const row = expected[EMOTION_LABELS.indexOf(image.truth as never)] as number[];
      const col = EMOTION_LABELS.indexOf(topLabel(probs as Float32Array));
      row[col] = (row[col] ?? 0) + 1;
    }
    expect(result.confusion.counts.slice(0, 7)).toEqual(expected);
    expect(result.n).toBe(30);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.accuracy).toBe(result.accuracy);
    const png = await sharp(join(out, 'confusion.png')).metadata();
    expect(png.format).toBe('png');
    expect(png.width).toBeGreaterThan(600);
  });

  it('with a known fake model: all "happy" gives recall 1 for happy, 0 elsewhere', async () => {
    const dir = smallSet(3);
    const out = mkdtempSync(join(tmpdir(), 'emostream-eval-out-'));
    const happy = Float32Array.from([0, 0, 0, 1, 0, 0, 0]);
    const result = await evaluate(undefined, {
      dataDir: dir,
      labels: 'fer2013',
      model: 'fake',
      tta: 'none',
      outDir: out,
      classify: async (images) => images.map(() => happy),
    });
    expect(result.accuracy).toBeCloseTo(3 / 15, 12);
    expect(result.perClass.happy).toMatchObject({ recall: 1, precision: 0.2, support: 3 });
    expect(result.confusion.counts.map((row) => row[3])).toEqual([3, 0, 3, 3, 0, 3, 3, 0]);
  });

  it('flip TTA and the ensemble run, and are deterministic', async () => {
    const dir = smallSet(5);
    const runs = [];
    for (const [model, tta] of [
      ['human', 'flip'],
      ['human+faceapi', 'none'],
      ['human+faceapi', 'none'],
    ] as const) {
      const out = mkdtempSync(join(tmpdir(), 'emostream-eval-out-'));
      runs.push(await evaluate(pool, { dataDir: dir, labels: 'fer2013', model, tta, outDir: out }));
    }
    expect(runs[1]?.confusion.counts).toEqual(runs[2]?.confusion.counts);
    expect(runs[0]?.n).toBe(25);
  });
});

describe('bench-detect', () => {
  it('measures AP50, recall and ms per image on the dlib PASCAL faces', async () => {
    const out = mkdtempSync(join(tmpdir(), 'emostream-detect-'));
    const results = await benchDetect(pool, {
      dataDir: sharedPath('facedet', 'dlib_pascal_faces'),
      detectors: ['blazeface', 'tiny'],
      outDir: out,
    });
    for (const r of results) {
      expect(r.truths).toBe(43);
      expect(r.ap50).toBeGreaterThan(0.3);
      expect(r.ap50).toBeLessThanOrEqual(1);
      expect(r.msPerImage).toBeGreaterThan(0);
    }
    expect(existsSync(join(out, 'pr-curve.png'))).toBe(true);
  });
});

describe('explain', () => {
  it('hiding the hottest region lowers the class probability more than hiding the coldest', async () => {
    const image = await decodeImage(sharedPath('photos', 'single_face_emotion_labeled', 'happy__faceapijs_happy.jpg'));
    const [face] = await pool.detect('blazeface', image);
    expect(face).toBeDefined();
    const e = await explainFace(pool, 'human', image, face as never);
    expect(e.label).toBe('happy');
    const size = e.size;
    const patch = Math.round(size / 4);
    // The hottest and coldest patch-sized windows of the map.
    let hot = { v: -1, x: 0, y: 0 };
    let cold = { v: 2, x: 0, y: 0 };
    for (let y = 0; y + patch <= size; y += 2) {
      for (let x = 0; x + patch <= size; x += 2) {
        let sum = 0;
        for (let j = y; j < y + patch; j++) for (let i = x; i < x + patch; i++) sum += e.heat[j * size + i] as number;
        if (sum > hot.v) hot = { v: sum, x, y };
        if (sum < cold.v) cold = { v: sum, x, y };
      }
    }
    const spec = cropSpec('human');
    const k = EMOTION_LABELS.indexOf('happy');
    const probs = await pool.classify('human', {
      data: Buffer.concat([occlude(e.crop, size, hot.x, hot.y, patch), occlude(e.crop, size, cold.x, cold.y, patch)]),
      count: 2,
      size: spec.size,
    });
    const dropHot = e.probability - ((probs[0] as Float32Array)[k] as number);
    const dropCold = e.probability - ((probs[1] as Float32Array)[k] as number);
    expect(dropHot).toBeGreaterThan(dropCold);
    expect(dropHot).toBeGreaterThan(0);
  });
});
