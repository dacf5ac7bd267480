import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../core/errors.js';
import type { Box, FaceBox } from '../../core/types.js';
import type { InferencePool } from '../../inference/InferencePool.js';
import { resolveModel } from '../../inference/modelManifest.js';
import { decodeImage } from '../../media/imageFile.js';
import { precisionRecallPng } from './charts.js';
import { type DetectionReport, detectionReport } from './detectionMetrics.js';

export interface DetectorBench {
  detector: string;
  /** Over all detections down to a low score: the curve and its AP. */
  ap50: number;
  /** At the detector's default threshold (its manifest's `minScore`). */
  recall: number;
  precision: number;
  threshold: number;
  /** Median wall time of one detection call per image, ms. */
  msPerImage: number;
  truths: number;
  curve: DetectionReport['curve'];
}

/** `boxes.json`: `{file: {boxes_xywh: [[x, y, w, h], ...]}}`. */
function readTruth(dataDir: string): Map<string, Box[]> {
  let raw: Record<string, { boxes_xywh?: number[][] }>;
  try {
    raw = JSON.parse(readFileSync(join(dataDir, 'boxes.json'), 'utf8'));
  } catch (cause) {
    throw new InputError('INPUT_NOT_FOUND', `${dataDir}/boxes.json: missing or not JSON`, { cause });
  }
  return new Map(
    Object.entries(raw)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([file, v]) => [file, (v.boxes_xywh ?? []).map(([x = 0, y = 0, w = 0, h = 0]) => ({ x, y, w, h }))]),
  );
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? 0;

/** `emostream bench-detect`: AP at IoU 0.5, recall and precision at the default threshold, ms per image. */
export async function benchDetect(
  pool: InferencePool,
  opts: { dataDir: string; detectors: string[]; outDir: string },
): Promise<DetectorBench[]> {
  const truth = readTruth(opts.dataDir);
  const images = await Promise.all([...truth.keys()].map((f) => decodeImage(join(opts.dataDir, f))));
  const results: DetectorBench[] = [];
  for (const detector of opts.detectors) {
    const threshold = resolveModel(detector).manifest.detector?.minScore ?? 0.5;
    const low: FaceBox[][] = [];
    const times: number[] = [];
    for (const image of images) {
      const t0 = performance.now();
      await pool.detect(detector, image); // timed at the default threshold, as the pipeline runs it
      times.push(performance.now() - t0);
      low.push(await pool.detect(detector, image, 0.05));
    }
    const truths = [...truth.values()];
    const all = detectionReport(truths.map((t, i) => ({ truth: t, detections: low[i] ?? [] })));
    const atDefault = detectionReport(
      truths.map((t, i) => ({ truth: t, detections: (low[i] ?? []).filter((d) => d.score >= threshold) })),
    );
    results.push({
      detector,
      ap50: all.ap50,
      recall: atDefault.recall,
      precision: atDefault.precision,
      threshold,
      msPerImage: median(times),
      truths: all.truths,
      curve: all.curve,
    });
  }
  mkdirSync(opts.outDir, { recursive: true });
  writeFileSync(
    join(opts.outDir, 'pr-curve.png'),
    precisionRecallPng(
      `Face detectors on ${opts.dataDir.split('/').filter(Boolean).pop()} (IoU 0.5)`,
      results.map((r) => ({ name: `${r.detector} AP=${r.ap50.toFixed(3)}`, points: r.curve })),
    ),
  );
  writeFileSync(
    join(opts.outDir, 'bench-detect.json'),
    `${JSON.stringify(
      results.map(({ curve, ...r }) => r),
      null,
      2,
    )}\n`,
  );
  return results;
}
