import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Backbone } from '../../inference/Backbone.js';
import { ProgressBar } from '../ProgressBar.js';
import { type ExtractOptions, extractFeatures } from './FeatureExtractor.js';
import type { FeatureSet } from './HeadTrainer.js';
import type { SeededRandom } from './SeededRandom.js';
import type { SurgicalMask } from './SurgicalMask.js';
import { IMAGE_EXT } from './TrainingSet.js';

/** Rows of `a` then rows of `b` (same feature width). */
export function concatSets(a: FeatureSet, b: FeatureSet): FeatureSet {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  const labels = new Int32Array(a.labels.length + b.labels.length);
  labels.set(a.labels);
  labels.set(b.labels, a.labels.length);
  return { data, labels, dim: a.dim };
}

/**
 * Features of `paths` seen another way (a drawn mask, a lower resolution…: whatever `view` sets), computed once
 * and cached, each row labelled `labels[i]`. Images without a row (no face found) are left out.
 */
export async function extraView(
  paths: readonly string[],
  labels: readonly number[],
  backbones: readonly Backbone[],
  view: ExtractOptions,
  title: string,
  progress: NodeJS.WriteStream,
): Promise<FeatureSet> {
  const bar = new ProgressBar(progress, title);
  const got = await extractFeatures(paths, backbones, { ...view, onProgress: (d, t) => bar.update(d, t) });
  bar.line(paths.length, paths.length, `(${got.hits} cached, ${got.misses} computed)`);
  return { data: got.data, labels: Int32Array.from(got.kept, (i) => labels[i] as number), dim: got.dim };
}

/** Image files under `dir` (recursively, sorted), evenly thinned to at most `limit`. */
export function sampleImages(dir: string, limit: number): string[] {
  const all: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (IMAGE_EXT.has(extname(name).toLowerCase())) all.push(p);
    }
  };
  walk(dir);
  const step = Math.max(1, Math.ceil(all.length / limit));
  return all.filter((_, i) => i % step === 0);
}

/**
 * Synthetic mask examples: each face crop once as it is (class 0, without mask) and once with a drawn mask of a
 * varied colour (class 1). The same faces on both sides teach the head the mask and nothing else about the
 * photos (framing, resolution, colour of one data set). The faces are split, seeded, into training and validation.
 */
export async function syntheticMaskSets(
  paths: readonly string[],
  backbones: readonly Backbone[],
  view: Omit<ExtractOptions, 'mirrored' | 'transform' | 'detect'>,
  masker: SurgicalMask,
  valFraction: number,
  rng: SeededRandom,
  progress: NodeJS.WriteStream,
): Promise<{ train: FeatureSet; val: FeatureSet }> {
  const order = rng.shuffle([...paths.keys()]);
  const nVal = Math.round(paths.length * valFraction);
  const split = (idx: number[]) => idx.sort((a, b) => a - b).map((i) => paths[i] as string);
  const parts = { val: split(order.slice(0, nVal)), train: split(order.slice(nVal)) };
  const out: Record<'train' | 'val', FeatureSet> = {} as Record<'train' | 'val', FeatureSet>;
  for (const part of ['train', 'val'] as const) {
    const p = parts[part];
    const base = { ...view, mirrored: false };
    const plain = await extraView(p, new Array(p.length).fill(0), backbones, base, `synthetic ${part}`, progress);
    const masked = await extraView(
      p,
      new Array(p.length).fill(1),
      backbones,
      { ...base, transform: masker },
      `synthetic ${part} (masked)`,
      progress,
    );
    out[part] = concatSets(plain, masked);
  }
  return out;
}
