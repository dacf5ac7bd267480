import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { errorCode, errorMessage, InputError } from '../../core/errors.js';
import type { FaceAnalysis, RgbImage } from '../../core/types.js';
import { FileSource } from '../../media/FileSource.js';
import { decodeImage, IMAGE_EXTENSIONS } from '../../media/imageFile.js';
import type { BackendName } from '../../pipeline/backendSelection.js';
import { FaceAnalyzer } from '../../pipeline/FaceAnalyzer.js';
import { InferencePool } from '../../pipeline/InferencePool.js';

export interface AnalyzeOptions {
  paths: string[];
  detector: string;
  emotionModel: string;
  fps: number;
  width: number;
  backend: BackendName | 'auto';
  workers?: number;
  /** Where JSON lines go (stdout in the CLI). */
  out: (line: string) => void;
  /** Where per-file errors go (stderr in the CLI). */
  err: (line: string) => void;
}

export interface AnalyzeSummary {
  files: number;
  faces: number;
  failed: number;
}

/** One rounded face record, as printed. */
function faceJson(face: FaceAnalysis) {
  const r = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;
  return {
    box: { x: Math.round(face.box.x), y: Math.round(face.box.y), w: Math.round(face.box.w), h: Math.round(face.box.h) },
    detScore: r(face.detScore),
    emotion: {
      label: face.emotion.label,
      scores: Object.fromEntries(Object.entries(face.emotion.scores).map(([k, v]) => [k, r(v)])),
    },
    valence: r(face.valence),
    arousal: r(face.arousal),
    mask: face.mask,
  };
}

/**
 * `emostream analyze`: images give one JSON object per file, videos one JSON line per analysed frame. A file that
 * cannot be read gets one line on `err` and the others are still analysed.
 */
export async function analyze(options: AnalyzeOptions): Promise<AnalyzeSummary> {
  const summary: AnalyzeSummary = { files: 0, faces: 0, failed: 0 };
  const pool = await InferencePool.create({
    workers: options.workers,
    backend: options.backend,
    preload: { detectors: [options.detector], classifiers: [options.emotionModel] },
  });
  try {
    const analyzer = new FaceAnalyzer(pool, options.detector, options.emotionModel);
    for (const path of options.paths) {
      try {
        if (!existsSync(path) || !statSync(path).isFile()) {
          throw new InputError('INPUT_NOT_FOUND', `${path}: no such file`);
        }
        const faces = IMAGE_EXTENSIONS.includes(extname(path).toLowerCase() as (typeof IMAGE_EXTENSIONS)[number])
          ? await analyzeImage(path, analyzer, options)
          : await analyzeVideo(path, analyzer, options, pool.size);
        summary.files++;
        summary.faces += faces;
      } catch (err) {
        summary.failed++;
        options.err(`emostream analyze: ${errorMessage(err)} [${errorCode(err)}]`);
      }
    }
  } finally {
    await pool.close();
  }
  return summary;
}

async function analyzeImage(path: string, analyzer: FaceAnalyzer, options: AnalyzeOptions): Promise<number> {
  const image = await decodeImage(path);
  const faces = await analyzer.analyze(image);
  options.out(JSON.stringify({ file: path, width: image.width, height: image.height, faces: faces.map(faceJson) }));
  return faces.length;
}

/**
 * Frames sampled at `fps` of video time, analysed a few at a time (one per worker and one waiting each) and
 * printed in order.
 */
async function analyzeVideo(path: string, analyzer: FaceAnalyzer, options: AnalyzeOptions, workers: number) {
  const source = new FileSource({ path, pace: 'consumer', fps: options.fps, width: options.width });
  const window: { frame: { seq: number; ts: number; image: RgbImage }; result: Promise<FaceAnalysis[]> }[] = [];
  let faces = 0;
  let firstTs: number | undefined;
  const flush = async () => {
    const head = window.shift();
    if (!head) return;
    const found = await head.result;
    faces += found.length;
    firstTs ??= head.frame.ts;
    options.out(
      JSON.stringify({
        file: path,
        frame: head.frame.seq,
        tMs: Math.round(head.frame.ts - firstTs),
        width: head.frame.image.width,
        height: head.frame.image.height,
        faces: found.map(faceJson),
      }),
    );
  };
  try {
    await source.start();
    for await (const frame of source.frames()) {
      const result = analyzer.analyze(frame);
      result.catch(() => undefined); // awaited in order by flush()
      window.push({ frame: { seq: frame.seq, ts: frame.ts, image: frame }, result });
      if (window.length >= workers * 2) await flush();
    }
    while (window.length > 0) await flush();
  } finally {
    await source.close();
  }
  return faces;
}
