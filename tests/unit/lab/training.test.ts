import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mirrorBatch } from '../../../src/inference/HeadModel.js';
import { render } from '../../../src/lab/ProgressBar.js';
import { sampleImages } from '../../../src/lab/training/ExtraViews.js';
import { FeatureCache, imageKey } from '../../../src/lab/training/FeatureCache.js';
import { degrade } from '../../../src/lab/training/FeatureExtractor.js';
import { classWeights } from '../../../src/lab/training/HeadTrainer.js';
import { SeededRandom, stratifiedSplit } from '../../../src/lab/training/SeededRandom.js';

const tmp = mkdtempSync(join(tmpdir(), 'emostream-training-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('seeded randomness', () => {
  it('repeats the same sequence for a seed and differs for another', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
    for (const v of seqA) expect(v >= 0 && v < 1).toBe(true);
    expect(new SeededRandom(7).shuffle([1, 2, 3, 4, 5, 6]).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('splits every class in proportion, disjointly, the same way for the same seed', () => {
    const labels = [...new Array(50).fill(0), ...new Array(20).fill(1), ...new Array(3).fill(2)];
    const [rest, held] = stratifiedSplit(labels, 0.1, new SeededRandom(1));
    expect(held.filter((i) => labels[i] === 0)).toHaveLength(5);
    expect(held.filter((i) => labels[i] === 1)).toHaveLength(2);
    expect(held.filter((i) => labels[i] === 2)).toHaveLength(1);
    expect(new Set([...rest, ...held]).size).toBe(labels.length);
    expect(rest.length + held.length).toBe(labels.length);
    expect(stratifiedSplit(labels, 0.1, new SeededRandom(1))).toEqual([rest, held]);
    expect(stratifiedSplit(labels, 0.1, new SeededRandom(2))[1]).not.toEqual(held);
  });
});

describe('class weights', () => {
  it('balances inverse to class frequency, softened by the power, mean 1', () => {
    const labels = [0, 0, 0, 1];
    const balanced = classWeights(labels, 2, 1);
    // n/(k n_c) = 4/6 and 2, normalised to mean 1: 0.5 and 1.5
    expect(balanced[0]).toBeCloseTo(0.5, 6);
    expect(balanced[1]).toBeCloseTo(1.5, 6);
    const none = classWeights(labels, 2, 0);
    expect(none).toEqual([1, 1]);
    const soft = classWeights(labels, 2, 0.5);
    expect((soft[1] as number) / (soft[0] as number)).toBeCloseTo(Math.sqrt(3), 5);
  });
});

describe('feature cache', () => {
  it('keeps rows across instances and separates backbones and crop parameters', () => {
    const img = join(tmp, 'a.jpg');
    writeFileSync(img, 'not really an image');
    const key = imageKey(img);
    const row = Float32Array.from([1, 2, 3]);
    const first = new FeatureCache(tmp, 'backboneA', { crop: 112 }, 3);
    first.set(key, row);
    first.flush();
    const again = new FeatureCache(tmp, 'backboneA', { crop: 112 }, 3);
    expect([...(again.get(key) ?? [])]).toEqual([1, 2, 3]);
    expect(new FeatureCache(tmp, 'backboneB', { crop: 112 }, 3).get(key)).toBeUndefined();
    expect(new FeatureCache(tmp, 'backboneA', { crop: 64 }, 3).get(key)).toBeUndefined();
  });

  it('gives a changed image another key', () => {
    const img = join(tmp, 'b.jpg');
    writeFileSync(img, 'one');
    const before = imageKey(img);
    writeFileSync(img, 'three');
    expect(imageKey(img)).not.toBe(before);
  });

  it('gives a copy of an image at another path the same key', () => {
    const img = join(tmp, 'c.jpg');
    const copy = join(tmp, 'copy-of-c.jpg');
    writeFileSync(img, 'same bytes');
    writeFileSync(copy, 'same bytes');
    expect(imageKey(copy)).toBe(imageKey(img));
  });

  it('ignores a corrupt cache file', () => {
    const cache = new FeatureCache(tmp, 'corrupt', {}, 2);
    writeFileSync(cache.file, Buffer.from([9, 9, 9, 9, 1, 2]));
    expect(new FeatureCache(tmp, 'corrupt', {}, 2).size).toBe(0);
    expect(readFileSync(cache.file).length).toBe(6);
  });
});

describe('mirrored crop batch', () => {
  it('reverses each row of each crop', () => {
    // two 2x2 crops, pixel value = crop*100 + y*10 + x in every channel
    const data = new Uint8Array(2 * 2 * 2 * 3);
    for (let k = 0; k < 2; k++)
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 2; x++)
          data.fill(k * 100 + y * 10 + x, ((k * 2 + y) * 2 + x) * 3, ((k * 2 + y) * 2 + x) * 3 + 3);
    const out = mirrorBatch({ data, count: 2, size: 2 });
    expect([...out.data].filter((_, i) => i % 3 === 0)).toEqual([1, 0, 11, 10, 101, 100, 111, 110]);
  });
});

describe('progress bar', () => {
  it('renders done/total with a proportional bar', () => {
    expect(render('epoch', 5, 10, 10, 'loss=1')).toBe('epoch [#####.....] 5/10 loss=1');
    expect(render('x', 0, 0, 4, '')).toBe('x [####] 0/0');
  });
});

describe('low-resolution view', () => {
  const SIZE = 112;
  const image = (pixel: (x: number, y: number) => number) => {
    const data = new Uint8Array(SIZE * SIZE * 3);
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) data.fill(pixel(x, y), (y * SIZE + x) * 3, (y * SIZE + x + 1) * 3);
    return data;
  };
  const contrast = (d: Uint8Array) => {
    let sum = 0;
    for (let i = 3; i < d.length; i += 3) sum += Math.abs((d[i] as number) - (d[i - 3] as number));
    return sum / (d.length / 3);
  };

  it('wipes out detail finer than the low resolution and keeps coarse shapes', () => {
    const fine = image((x, y) => ((x + y) % 2 ? 255 : 0)); // a 1-pixel checkerboard
    const coarse = image((x) => (x < SIZE / 2 ? 40 : 220)); // two halves
    const fineOut = fine.slice();
    const coarseOut = coarse.slice();
    degrade(fineOut, SIZE, 32);
    degrade(coarseOut, SIZE, 32);
    expect(contrast(fine)).toBeGreaterThan(200);
    expect(contrast(fineOut)).toBeLessThan(5);
    expect(Math.abs((fineOut[(56 * SIZE + 56) * 3] as number) - 128)).toBeLessThan(3);
    expect(coarseOut[(56 * SIZE + 10) * 3]).toBe(40);
    expect(coarseOut[(56 * SIZE + 100) * 3]).toBe(220);
  });
});

describe('synthetic mask faces', () => {
  it('samples images recursively, sorted, evenly thinned to the limit', () => {
    const dir = join(tmp, 'faces');
    for (const sub of ['b', 'a']) {
      mkdirSync(join(dir, sub), { recursive: true });
      for (let i = 0; i < 5; i++) writeFileSync(join(dir, sub, `${i}.jpg`), '');
    }
    writeFileSync(join(dir, 'a', 'notes.txt'), '');
    const all = sampleImages(dir, 100).map((p) => p.slice(dir.length + 1));
    expect(all).toEqual([...[0, 1, 2, 3, 4].map((i) => `a/${i}.jpg`), ...[0, 1, 2, 3, 4].map((i) => `b/${i}.jpg`)]);
    expect(sampleImages(dir, 5).map((p) => p.slice(dir.length + 1))).toEqual([
      'a/0.jpg',
      'a/2.jpg',
      'a/4.jpg',
      'b/1.jpg',
      'b/3.jpg',
    ]);
  });
});
