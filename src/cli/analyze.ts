import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { errorCode, errorMessage, InputError } from '../core/errors.js';
import type { BusEvent } from '../core/events.js';
import type { FaceAnalysis, FaceBox, Frame } from '../core/types.js';
import type { BackendName } from '../inference/backendSelection.js';
import { InferencePool } from '../inference/InferencePool.js';
import { FileSource } from '../media/FileSource.js';
import { decodeImage, IMAGE_EXTENSIONS } from '../media/imageFile.js';
import { describeFace, FaceAnalyzer } from '../pipeline/FaceAnalyzer.js';
import { TrackedFaces } from '../tracking/FaceEventDecider.js';

export interface AnalyzeOptions {
  paths: string[];
  detector: string;
  emotionModel: string;
  /** A mask head, or null for none. */
  maskModel: string | null;
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
    preload: {
      detectors: [options.detector],
      classifiers: [options.emotionModel],
      masks: options.maskModel ? [options.maskModel] : [],
    },
  });
  try {
    const analyzer = new FaceAnalyzer(pool, options.detector, options.emotionModel, options.maskModel);
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
 * Frames sampled at `fps` of video time. Detection runs a few frames ahead (one per worker and one waiting each);
 * tracking, classification and output follow in frame order. Each face carries its track id and smoothed label;
 * after the last frame, one summary line per track.
 */
async function analyzeVideo(path: string, analyzer: FaceAnalyzer, options: AnalyzeOptions, workers: number) {
  const source = new FileSource({ path, pace: 'consumer', fps: options.fps, width: options.width });
  const tracking = new TrackedFaces('video');
  const window: { frame: Frame; detections: Promise<FaceBox[]> }[] = [];
  const summaries: Record<string, unknown>[] = [];
  let faces = 0;
  let firstTs: number | undefined;
  let lastTs = 0;
  const toMs = (ts: number) => Math.round(ts - (firstTs ?? ts));
  const collect = (events: BusEvent[]) => {
    for (const e of events) {
      if (e.type !== 'face.end') continue;
      const { trackId, durationMs, dominant, timeShare } = e;
      summaries.push({ type: 'track', file: path, trackId, durationMs, dominant, timeShare, endMs: toMs(e.ts) });
    }
  };
  const flush = async () => {
    const head = window.shift();
    if (!head) return;
    const { frame } = head;
    firstTs ??= frame.ts;
    lastTs = frame.ts;
    const tracked = tracking.step(frame.ts, await head.detections);
    const boxes = tracked.map((t) => t.box);
    const [probs, masks] = await Promise.all([analyzer.classifyBoxes(frame, boxes), analyzer.maskBoxes(frame, boxes)]);
    collect(tracking.observe(frame.ts, { seq: frame.seq, w: frame.width, h: frame.height }, probs, masks));
    const smoothed = new Map(tracking.visible().map((f) => [f.trackId, f]));
    const records = tracked.map((t, i) => {
      const face = describeFace({ ...t.box, score: t.score }, probs[i] as Float32Array, masks?.[i]);
      const s = smoothed.get(t.trackId);
      return { trackId: s ? t.trackId : null, ...faceJson(face), smoothedLabel: s?.label ?? null };
    });
    faces += records.length;
    const line = { file: path, frame: frame.seq, tMs: toMs(frame.ts), width: frame.width, height: frame.height };
    options.out(JSON.stringify({ ...line, faces: records }));
  };
  try {
    await source.start();
    for await (const frame of source.frames()) {
      const detections = analyzer.detect(frame, tracking.minDetectionScore);
      detections.catch(() => undefined); // awaited in order by flush()
      window.push({ frame, detections });
      if (window.length >= workers * 2) await flush();
    }
    while (window.length > 0) await flush();
    collect(tracking.endAll(lastTs));
    for (const summary of summaries) options.out(JSON.stringify(summary));
  } finally {
    await source.close();
  }
  return faces;
}
