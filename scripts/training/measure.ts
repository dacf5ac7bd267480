/**
 * Measures emotion models on a folder-per-class test split (FER2013 PublicTest): accuracy with the folder labels
 * and with FER+ majority labels (contempt counts as wrong, unknown/NF skipped), optionally under a drawn
 * surgical mask, and the per-face cost of each model measured in the same run (batch 1, interleaved).
 *
 *   npx vite-node scripts/training/measure.ts -- --data ../shared/data/fer2013/test \
 *     --ferplus-csv ../shared/data/fer2013/ferplus.csv --models human,faceapi,models/fer-head [--masked] [--tta]
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EMOTION_LABELS, toEmotionLabel } from '../../src/core/labels.js';
import type { RgbImage } from '../../src/core/types.js';
import {
  type CropBatch,
  type EmotionClassifier,
  FaceApiEmotionClassifier,
  GraphEmotionClassifier,
  LayersEmotionClassifier,
} from '../../src/inference/EmotionClassifier.js';
import { cropResize, mirror } from '../../src/inference/faceCrop.js';
import { HeadEmotionClassifier } from '../../src/inference/HeadEmotionClassifier.js';
import { ModelRunner } from '../../src/inference/ModelRunner.js';
import { resolveModel } from '../../src/inference/modelManifest.js';
import { SurgicalMask } from '../../src/lab/training/SurgicalMask.js';
import { readFolderDataset } from '../../src/lab/training/TrainingSet.js';
import { decodeImage } from '../../src/media/imageFile.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    'ferplus-csv': { type: 'string' },
    models: { type: 'string', default: 'human' },
    masked: { type: 'boolean', default: false },
    tta: { type: 'boolean', default: false },
    limit: { type: 'string' },
    'timing-faces': { type: 'string', default: '300' },
  },
});

async function load(name: string): Promise<EmotionClassifier> {
  const resolved = resolveModel(name);
  if (resolved.manifest.runtime === 'head') return HeadEmotionClassifier.load(resolved);
  if (resolved.manifest.runtime === 'faceapi-expression') return FaceApiEmotionClassifier.load(resolved);
  if (resolved.manifest.runtime === 'layers') return LayersEmotionClassifier.load(resolved);
  return GraphEmotionClassifier.load(resolved);
}

function ferPlus(csv: string): Map<string, string> {
  const lines = readFileSync(csv, 'utf8').split(/\r?\n/).filter(Boolean);
  const header = (lines[0] ?? '').split(',');
  const p = header.indexOf('msambare_path');
  const m = header.indexOf('ferplus_majority');
  return new Map(lines.slice(1).map((l) => [l.split(',')[p] ?? '', l.split(',')[m] ?? '']));
}

function batchOf(images: RgbImage[], size: number): CropBatch {
  const data = new Uint8Array(images.length * size * size * 3);
  images.forEach((img, k) => {
    cropResize(img, { x: 0, y: 0, w: img.width, h: img.height }, size, data, k * size * size * 3);
  });
  return { data, count: images.length, size };
}

const runner = await ModelRunner.create({ engine: 'tfjs', backend: 'wasm' });
const dataDir = resolve(values.data ?? '../shared/data/fer2013/test');
let items = readFolderDataset(dataDir, 'emotion');
if (values.limit) items = items.filter((_, i) => i % Math.ceil(items.length / Number(values.limit)) === 0);
const csv = values['ferplus-csv'];
const fp = csv ? ferPlus(csv) : undefined;
// FER+ label per item: class index, -2 for contempt (always wrong), -1 when skipped (unknown, NF, missing)
const fpLabels = items.map((it) => {
  if (!fp || !csv) return -1;
  const maj = fp.get(relative(dirname(resolve(csv)), it.path)) ?? '';
  if (maj === 'contempt') return -2;
  const l = toEmotionLabel(maj);
  return l ? EMOTION_LABELS.indexOf(l) : -1;
});
const masker = values.masked ? SurgicalMask.load() : undefined;
process.stderr.write(`decoding ${items.length} images${masker ? ' and drawing masks' : ''}\n`);
const images: RgbImage[] = [];
for (const it of items) {
  const img = await decodeImage(it.path);
  images.push(masker ? await masker.apply(img) : img);
}
masker?.dispose();
const names = (values.models ?? 'human').split(',');
const models = await Promise.all(names.map(load));
const results: Record<string, unknown>[] = [];
for (const model of models) {
  const probs = new Float32Array(items.length * 7);
  for (let s = 0; s < items.length; s += 64) {
    const part = images.slice(s, s + 64);
    const p = await model.classify(batchOf(part, model.inputSize));
    if (values.tta) {
      const q = await model.classify(batchOf(part.map(mirror), model.inputSize));
      for (let i = 0; i < p.length; i++) p[i] = ((p[i] as number) + (q[i] as number)) / 2;
    }
    probs.set(p, s * 7);
  }
  const argmax = (i: number) => {
    let b = 0;
    for (let c = 1; c < 7; c++) if ((probs[i * 7 + c] as number) > (probs[i * 7 + b] as number)) b = c;
    return b;
  };
  let ok = 0;
  let fpOk = 0;
  let fpN = 0;
  const tp = new Array(7).fill(0);
  const fpos = new Array(7).fill(0);
  const fneg = new Array(7).fill(0);
  items.forEach((it, i) => {
    const pred = argmax(i);
    if (pred === it.label) {
      ok++;
      tp[pred]++;
    } else {
      fpos[pred]++;
      fneg[it.label]++;
    }
    const f = fpLabels[i] as number;
    if (f !== -1) {
      fpN++;
      if (f === pred) fpOk++;
    }
  });
  const f1 = tp.map((t, c) => (2 * t) / Math.max(1, 2 * t + fpos[c] + fneg[c]));
  results.push({
    model: model.name,
    n: items.length,
    accuracy: +(ok / items.length).toFixed(4),
    macroF1: +(f1.reduce((a, b) => a + b, 0) / 7).toFixed(4),
    ferplusN: fpN,
    ferplusAccuracy: fpN ? +(fpOk / fpN).toFixed(4) : null,
  });
}
// Per-face cost, batch 1, models interleaved so they share the same machine load.
const timing = Math.min(Number(values['timing-faces']), images.length);
const times: number[][] = models.map(() => []);
for (let i = 0; i < timing; i++) {
  for (const [k, model] of models.entries()) {
    const b = batchOf([images[i] as RgbImage], model.inputSize);
    const t0 = performance.now();
    await model.classify(b);
    if (values.tta) await model.classify(batchOf([mirror(images[i] as RgbImage)], model.inputSize));
    (times[k] as number[]).push(performance.now() - t0);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? Number.NaN;
results.forEach((r, k) => {
  r.msPerFace = +median(times[k] as number[]).toFixed(2);
  r.masked = values.masked;
  r.tta = values.tta;
  process.stdout.write(`${JSON.stringify(r)}\n`);
});
for (const m of models) m.dispose();
await runner.close();
