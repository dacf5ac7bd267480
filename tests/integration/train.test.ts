import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/command.js';
import { EMOTION_LABELS } from '../../src/core/labels.js';
import { loadBackbone } from '../../src/inference/Backbone.js';
import { cropResize } from '../../src/inference/faceCrop.js';
import { HeadEmotionClassifier } from '../../src/inference/HeadEmotionClassifier.js';
import { MaskClassifier } from '../../src/inference/MaskClassifier.js';
import { ModelRunner } from '../../src/inference/ModelRunner.js';
import { resolveModel } from '../../src/inference/modelManifest.js';
import { trainCommand } from '../../src/lab/commands/train.js';
import { extractFeatures } from '../../src/lab/training/FeatureExtractor.js';
import { SurgicalMask } from '../../src/lab/training/SurgicalMask.js';
import { CROP_SIZE, runTraining, type TrainOptions } from '../../src/lab/training/TrainRun.js';
import { decodeImage } from '../../src/media/imageFile.js';

const FER_TRAIN = resolve('../shared/data/fer2013/train');
const PER_CLASS = 6;
const tmp = mkdtempSync(join(tmpdir(), 'emostream-train-'));
const data = join(tmp, 'data');
const cacheDir = join(tmp, 'cache');
const images: { path: string; label: number }[] = [];
let runner: ModelRunner;

/** A silent stream standing in for stderr. */
const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;

function options(out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    decode: (path) => decodeImage(path),
    data,
    out,
    kind: 'emotion',
    backbones: ['human'],
    labels: 'fer2013',
    epochs: 25,
    valSplit: 0.15,
    testSplit: 0,
    seed: 7,
    hidden: 64,
    dropout: 0.3,
    learningRate: 0.003,
    batchSize: 16,
    patience: 25,
    classWeightPower: 0.5,
    mirror: true,
    ttaFlip: false,
    cacheDir,
    progress: quiet,
    ...extra,
  };
}

beforeAll(async () => {
  // A few images per class, linked (not copied) from the shared FER2013 training split.
  for (const [label, name] of EMOTION_LABELS.entries()) {
    mkdirSync(join(data, name), { recursive: true });
    for (const file of readdirSync(join(FER_TRAIN, name)).sort().slice(0, PER_CLASS)) {
      symlinkSync(join(FER_TRAIN, name, file), join(data, name, file));
      images.push({ path: join(data, name, file), label });
    }
  }
  runner = await ModelRunner.create({ engine: 'tfjs', backend: 'wasm' });
});

afterAll(async () => {
  await runner?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('emostream train', () => {
  it('trains a head in seconds whose predictions on its training images beat chance', async () => {
    const out = join(tmp, 'models', 'tiny');
    const t0 = performance.now();
    const summary = await runTraining(options(out));
    const seconds = (performance.now() - t0) / 1000;
    expect(seconds).toBeLessThan(90);
    expect(summary.counts.train + summary.counts.val).toBe(images.length);
    expect(summary.history.length).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'emotion', runtime: 'head', backbones: ['human'] });
    expect(manifest.training.seed).toBe(7);
    expect(readFileSync(join(out, 'training-curve.png')).subarray(1, 4).toString()).toBe('PNG');

    const classifier = await HeadEmotionClassifier.load(resolveModel(out));
    const size = classifier.inputSize;
    const batch = new Uint8Array(images.length * size * size * 3);
    for (const [k, img] of images.entries()) {
      const image = await decodeImage(img.path);
      cropResize(image, { x: 0, y: 0, w: image.width, h: image.height }, size, batch, k * size * size * 3);
    }
    const probs = await classifier.classify({ data: batch, count: images.length, size });
    classifier.dispose();
    expect(probs.length).toBe(images.length * 7);
    let correct = 0;
    for (const [k, img] of images.entries()) {
      const row = [...probs.subarray(k * 7, k * 7 + 7)];
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      if (row.indexOf(Math.max(...row)) === img.label) correct++;
    }
    // chance is 1/7; a head that learnt nothing cannot pass this.
    expect(correct / images.length).toBeGreaterThan(0.5);
  });

  it('gives identical weights for the same --seed and different ones for another seed', async () => {
    const a = join(tmp, 'seed-a');
    const b = join(tmp, 'seed-b');
    const c = join(tmp, 'seed-c');
    await runTraining(options(a, { epochs: 6 }));
    await runTraining(options(b, { epochs: 6 }));
    await runTraining(options(c, { epochs: 6, seed: 8 }));
    const wa = readFileSync(join(a, 'weights.bin'));
    expect(wa.equals(readFileSync(join(b, 'weights.bin')))).toBe(true);
    expect(wa.equals(readFileSync(join(c, 'weights.bin')))).toBe(false);
    const ma = JSON.parse(readFileSync(join(a, 'manifest.json'), 'utf8'));
    const mb = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8'));
    expect(ma.training).toEqual(mb.training);
  });

  it('reuses cached features, and recomputes them when the backbone weights change', async () => {
    const paths = images.slice(0, 8).map((i) => i.path);
    const shipped = await loadBackbone('human');
    const extract = { decode: (p: string) => decodeImage(p), cropSize: CROP_SIZE, mirrored: false, cacheDir };
    const warm = await extractFeatures(paths, [shipped], extract);
    expect(warm.misses).toBe(0); // the training runs above filled the cache
    expect(warm.hits).toBe(paths.length);

    // A copy of the human model with one weight changed: another backbone as far as features go.
    const copy = join(tmp, 'human-changed');
    const { files, manifest } = resolveModel('human');
    const srcDir = resolve(files[0] as string, '..');
    mkdirSync(join(copy, 'models'), { recursive: true });
    for (const f of ['emotion.json', 'emotion.bin']) cpSync(join(srcDir, f), join(copy, 'models', f));
    const { package: _pkg, ...origin } = manifest.origin;
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify({ ...manifest, origin }));
    const changed0 = await loadBackbone('human', copy);
    expect(changed0.key).toBe(shipped.key); // same bytes, same key
    changed0.dispose();
    const weights = join(copy, 'models', 'emotion.bin');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x55;
    writeFileSync(weights, bytes);
    const changed = await loadBackbone('human', copy);
    expect(changed.key).not.toBe(shipped.key);
    const cold = await extractFeatures(paths, [changed], extract);
    expect(cold.hits).toBe(0);
    expect(cold.misses).toBe(paths.length);
    changed.dispose();
    shipped.dispose();
  });

  it('prints val_accuracy last', async () => {
    const lines: string[] = [];
    const savedErr = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write; // the progress bar
    try {
      const args = ['--data', data, '--out', join(tmp, 'cli'), '--epochs', '3', '--cache-dir', cacheDir];
      const code = await runCommand(trainCommand, args, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
      expect(code).toBe(0);
    } finally {
      process.stderr.write = savedErr;
    }
    expect(lines.at(-1)).toMatch(/^val_accuracy=0\.\d{4}$|^val_accuracy=1\.0000$/);
  });

  it('trains a mask head on detector crops, loadable as a MaskClassifier', async () => {
    const maskData = join(tmp, 'mask');
    const MASK = resolve('../shared/data/mask');
    for (const cls of ['with_mask', 'without_mask']) {
      mkdirSync(join(maskData, cls), { recursive: true });
      for (const file of readdirSync(join(MASK, cls)).sort().slice(0, 8)) {
        symlinkSync(join(MASK, cls, file), join(maskData, cls, file));
      }
    }
    const out = join(tmp, 'mask-head');
    const summary = await runTraining(
      options(out, { data: maskData, kind: 'mask', detector: 'blazeface', valSplit: 0.2, epochs: 15 }),
    );
    expect(summary.counts.train + summary.counts.val + summary.counts.skipped).toBe(16);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ kind: 'mask', labels: ['without_mask', 'with_mask'] });
    expect(manifest.training.detector).toBe('blazeface');
    const mask = await MaskClassifier.load(resolveModel(out));
    const size = mask.inputSize;
    const crops = new Uint8Array(2 * size * size * 3);
    for (const [k, cls] of ['with_mask', 'without_mask'].entries()) {
      const file = readdirSync(join(maskData, cls)).sort()[0] as string;
      const image = await decodeImage(join(maskData, cls, file));
      const [box] = await runner.detect('blazeface', image);
      expect(box).toBeDefined();
      const side = Math.max(box?.w ?? 0, box?.h ?? 0) * 1.25;
      const region = {
        x: (box?.x ?? 0) + (box?.w ?? 0) / 2 - side / 2,
        y: (box?.y ?? 0) + (box?.h ?? 0) / 2 - side / 2,
        w: side,
        h: side,
      };
      cropResize(image, region, size, crops, k * size * size * 3);
    }
    const scores = await mask.score({ data: crops, count: 2, size });
    mask.dispose();
    expect(scores.length).toBe(2);
    // a training image with a mask scores higher than one without
    expect(scores[0]).toBeGreaterThan(scores[1] as number);
  });

  it('learns drawn masks from synthetic faces (--synthetic-masks) and records its augmentation', async () => {
    const maskData = join(tmp, 'mask');
    const out = join(tmp, 'mask-synthetic');
    const summary = await runTraining(
      options(out, {
        data: maskData,
        kind: 'mask',
        detector: 'blazeface',
        valSplit: 0.2,
        epochs: 20,
        lowRes: 40,
        syntheticMasks: { dir: data, limit: 28 },
      }),
    );
    expect(summary.counts.train).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.training.augmentation).toEqual(['mirror', 'low-res-40']);
    expect(manifest.training.syntheticMasks).toEqual({ dir: data, limit: 28 });
    // faces it never saw (further down each FER class folder), as they are and with a drawn mask
    const unseen = EMOTION_LABELS.map((name) => {
      const file = readdirSync(join(FER_TRAIN, name)).sort()[PER_CLASS + 3] as string;
      return join(FER_TRAIN, name, file);
    });
    const masker = SurgicalMask.load({ varied: true });
    const mask = await MaskClassifier.load(resolveModel(out));
    const size = mask.inputSize;
    const batch = new Uint8Array(2 * unseen.length * size * size * 3);
    for (const [k, path] of unseen.entries()) {
      const face = await decodeImage(path);
      const masked = await masker.apply(face);
      const whole = { x: 0, y: 0, w: face.width, h: face.height };
      cropResize(face, whole, size, batch, k * size * size * 3);
      cropResize(masked, whole, size, batch, (unseen.length + k) * size * size * 3);
    }
    masker.dispose();
    const scores = await mask.score({ data: batch, count: 2 * unseen.length, size });
    mask.dispose();
    const plain = Array.from(scores.subarray(0, unseen.length));
    const masked = Array.from(scores.subarray(unseen.length));
    // every face scores higher with a mask than without
    for (const [k, p] of plain.entries()) expect(masked[k]).toBeGreaterThan(p);
  });
});
