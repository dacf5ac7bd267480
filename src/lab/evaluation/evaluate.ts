import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EmotionLabel, topLabel } from '../../core/labels.js';
import type { RgbImage } from '../../core/types.js';
import type { InferencePool } from '../../inference/InferencePool.js';
import { decodeImage } from '../../media/imageFile.js';
import { ProgressBar } from '../ProgressBar.js';
import { confusionMatrixPng } from './charts.js';
import { type ClassificationReport, classificationReport } from './classificationMetrics.js';
import { type ClassifyFn, imageClassifier, largestFace } from './emotionClassifiers.js';
import { readLabelledImages } from './labelledImages.js';

export interface EvaluateOptions {
  dataDir: string;
  labels: 'fer2013' | 'ferplus';
  ferplusCsv?: string;
  /** A model name, a folder, or an ensemble `a+b`. */
  model: string;
  tta: 'none' | 'flip';
  /** Run this detector first and classify the largest face (for full photos); none = the image is the face. */
  detector?: string;
  outDir: string;
  batchSize?: number;
  /** How images are classified; by default `imageClassifier(pool, model, tta)` (tests inject a known model). */
  classify?: ClassifyFn;
  /** Batches in flight (default: two per worker). */
  concurrency?: number;
}

export interface EvaluateResult extends ClassificationReport {
  model: string;
  labels: string;
  tta: string;
  detector: string | null;
  dataDir: string;
  skipped: number;
  ignoredFolders: string[];
  facesPerSecond: number;
}

/** `emostream evaluate`: accuracy of an emotion model on a labelled folder; writes report.json and confusion.png. */
export async function evaluate(pool: InferencePool | undefined, options: EvaluateOptions): Promise<EvaluateResult> {
  if (options.labels === 'ferplus' && !options.ferplusCsv) {
    throw new Error('--labels ferplus needs --ferplus-csv FILE');
  }
  const set = readLabelledImages(options.dataDir, options.labels === 'ferplus' ? options.ferplusCsv : undefined);
  const classify = options.classify ?? imageClassifier(required(pool), options.model, options.tta);
  const batchSize = options.batchSize ?? 64;
  const predictions: (EmotionLabel | null)[] = new Array(set.images.length).fill(null);
  const bar = new ProgressBar(process.stderr, `evaluate ${options.model}`);
  const rate = () => `${(done / Math.max(0.001, (performance.now() - t0) / 1000)).toFixed(0)}/s`;
  const t0 = performance.now();
  let done = 0;
  const batches: Promise<void>[] = [];
  const runBatch = async (start: number) => {
    const slice = set.images.slice(start, start + batchSize);
    const decoded = await Promise.all(slice.map((im) => decodeImage(im.path)));
    const faces: (RgbImage | null)[] = options.detector
      ? await Promise.all(decoded.map((im) => largestFace(required(pool), options.detector as string, im)))
      : decoded;
    const present = faces.flatMap((f, i) => (f ? [{ f, i }] : []));
    const probs = await classify(present.map((p) => p.f));
    present.forEach(({ i }, k) => {
      predictions[start + i] = topLabel(probs[k] as Float32Array);
    });
    done += slice.length;
    bar.update(done, set.images.length, rate());
  };
  // Two batches per worker in flight keeps every worker busy while the next batch decodes.
  for (let start = 0; start < set.images.length; start += batchSize) {
    batches.push(runBatch(start));
    if (batches.length >= (options.concurrency ?? (pool?.size ?? 1) * 2)) await batches.shift();
  }
  await Promise.all(batches);
  bar.line(done, set.images.length, rate());
  const seconds = (performance.now() - t0) / 1000;
  const report = classificationReport(
    set.images.map((im) => im.truth),
    predictions,
  );
  const result: EvaluateResult = {
    model: options.model,
    labels: options.labels,
    tta: options.tta,
    detector: options.detector ?? null,
    dataDir: options.dataDir,
    skipped: set.skipped,
    ignoredFolders: set.ignoredFolders,
    facesPerSecond: set.images.length / seconds,
    ...report,
  };
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, 'report.json'), `${JSON.stringify(result, null, 2)}\n`);
  const title = `${options.model}${options.tta === 'flip' ? ' + flip' : ''} on ${options.labels} labels: accuracy ${report.accuracy.toFixed(4)}, macro-F1 ${report.macroF1.toFixed(4)}, n=${report.n}`;
  const { rows, cols, counts, rowNormalised } = report.confusion;
  const shown = rows.flatMap((r, i) =>
    r !== 'contempt' || (counts[i] ?? []).some((c) => c > 0) || set.images.some((im) => im.truth === r) ? [i] : [],
  );
  writeFileSync(
    join(options.outDir, 'confusion.png'),
    confusionMatrixPng({
      title,
      cols,
      rows: shown.map((i) => rows[i] as string),
      counts: shown.map((i) => counts[i] as number[]),
      rowNormalised: shown.map((i) => rowNormalised[i] as number[]),
    }),
  );
  return result;
}

function required(pool: InferencePool | undefined): InferencePool {
  if (!pool) throw new Error('evaluate needs an inference pool unless a classifier is given');
  return pool;
}
