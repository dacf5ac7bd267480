import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { type BackendName, configSchema, type EngineName } from '../core/config.js';
import { errorCode, errorMessage, InputError } from '../core/errors.js';
import type { BusEvent } from '../core/events.js';
import { facesInSource } from '../core/faceRecord.js';
import type { FaceBox, Frame } from '../core/types.js';
import { InferencePool } from '../inference/InferencePool.js';
import { FileSource } from '../media/FileSource.js';
import { decodeImage, IMAGE_EXTENSIONS, MAX_ANALYSIS_SIDE } from '../media/imageFile.js';
import { type AnalysisEngine, analyzeImage, createAnalysisEngine, FrameAnalyzer } from '../pipeline/FrameAnalyzer.js';
import { defineCommand } from './command.js';
import { backendOf, detectorOf, engineOf, MODEL_OPTIONS, maskModelOf, workersOf } from './modelOptions.js';

export const analyzeCommand = defineCommand(
  {
    name: 'analyze',
    synopsis: 'PATH... [options]',
    description: [
      'Faces and emotions in images (jpg, png, webp) and videos (anything ffmpeg reads), as JSON lines on stdout.',
      'An image gives one object per file; a video one line per analyzed frame (tracked faces with their track id',
      'and smoothed label), then one summary line per track. The last line is `files=N faces=N`. An unreadable file',
      'gets one line on stderr with a stable code, and the others are still analyzed (exit code 1).',
    ].join('\n'),
    options: {
      ...MODEL_OPTIONS,
      fps: { type: 'string', arg: 'N', help: 'videos: frames analyzed per second of video', default: 5 },
      width: { type: 'string', arg: 'W', help: 'videos: decoded frame width (height keeps the aspect)', default: 640 },
      'detect-every': {
        type: 'string',
        arg: 'K',
        help: 'videos: run the detector every K frames; the tracker predicts between',
        default: 1,
      },
      json: { type: 'boolean', help: 'JSON lines (the only output format; accepted for scripts that pass it)' },
    },
    examples: [
      'emostream analyze photo.jpg',
      'emostream analyze clip.mp4 --fps 10 --emotion-model human --mask-model none',
    ],
  },
  async (args, io) => {
    if (args.positionals.length === 0) throw new InputError('BAD_ARGUMENT', 'analyze needs at least one PATH');
    const summary = await analyze({
      paths: args.positionals,
      detector: detectorOf(args),
      emotionModel: args.required('emotion-model'),
      maskModel: maskModelOf(args),
      fps: args.number('fps', 0.1, 120),
      width: Math.round(args.number('width', 64, 4096) / 2) * 2,
      detectEvery: args.int('detect-every', 1, 100),
      engine: engineOf(args),
      backend: backendOf(args),
      workers: workersOf(args),
      out: io.out,
      err: io.err,
    });
    io.out(`files=${summary.files} faces=${summary.faces}`);
    return summary.failed > 0 ? 1 : 0;
  },
);

export interface AnalyzeOptions {
  paths: string[];
  detector: string;
  emotionModel: string;
  /** A mask head, or null for none. */
  maskModel: string | null;
  fps: number;
  width: number;
  /** Videos: run the detector every k analyzed frames (the tracker predicts in between). */
  detectEvery: number;
  engine: EngineName | 'auto';
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

/**
 * `emostream analyze`: images give one JSON object per file, videos one JSON line per analyzed frame. A file that
 * cannot be read gets one line on `err` and the others are still analyzed.
 */
export async function analyze(options: AnalyzeOptions): Promise<AnalyzeSummary> {
  const summary: AnalyzeSummary = { files: 0, faces: 0, failed: 0 };
  const pool = await InferencePool.create({
    workers: options.workers,
    engine: options.engine,
    backend: options.backend,
    preload: {
      detectors: [options.detector],
      classifiers: [options.emotionModel],
      masks: options.maskModel ? [options.maskModel] : [],
    },
  });
  const engine = createAnalysisEngine(pool, {
    detector: options.detector,
    emotion: options.emotionModel,
    mask: options.maskModel,
  });
  try {
    for (const path of options.paths) {
      try {
        if (!existsSync(path) || !statSync(path).isFile()) {
          throw new InputError('INPUT_NOT_FOUND', `${path}: no such file`);
        }
        const faces = IMAGE_EXTENSIONS.includes(extname(path).toLowerCase() as (typeof IMAGE_EXTENSIONS)[number])
          ? await printImage(path, engine, options)
          : await printVideo(path, engine, options, pool.size);
        summary.files++;
        summary.faces += faces;
      } catch (err) {
        summary.failed++;
        options.err(`emostream analyze: ${errorMessage(err)} [${errorCode(err)}]`);
      }
    }
  } finally {
    await engine.batcher.close();
    await pool.close();
  }
  return summary;
}

async function printImage(path: string, engine: AnalysisEngine, options: AnalyzeOptions): Promise<number> {
  // Analyzed at most MAX_ANALYSIS_SIDE wide or high, reported in the file's own pixels (as /api/analyze does).
  const image = await decodeImage(path, path, { maxSide: MAX_ANALYSIS_SIDE });
  const source = { width: image.sourceWidth, height: image.sourceHeight };
  const faces = facesInSource(await analyzeImage(image, engine), image, source);
  options.out(JSON.stringify({ file: path, ...source, faces }));
  return faces.length;
}

/**
 * Frames sampled at `fps` of video time go through the stream's frame step in order; each face carries its track id
 * and smoothed label; after the last frame, one summary line per track. When the detector runs on every frame, the
 * detections of the next few frames (one per worker and one waiting each) are started ahead.
 */
async function printVideo(path: string, engine: AnalysisEngine, options: AnalyzeOptions, workers: number) {
  const source = new FileSource({ path, pace: 'consumer', fps: options.fps, width: options.width });
  const { motion, reuse } = configSchema.parse({}).analysis; // the server's defaults
  const analyzer = new FrameAnalyzer('video', engine, { detectEvery: options.detectEvery, motion, reuse });
  const ahead: { frame: Frame; detections?: Promise<FaceBox[]> }[] = [];
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
  const next = async () => {
    const head = ahead.shift();
    if (!head) return;
    const { frame } = head;
    firstTs ??= frame.ts;
    lastTs = frame.ts;
    const result = await analyzer.step(frame, head.detections);
    frame.release?.(); // every inference on it is done
    collect(result.events);
    faces += result.faces.length;
    const line = { file: path, frame: frame.seq, tMs: toMs(frame.ts), width: frame.width, height: frame.height };
    options.out(JSON.stringify({ ...line, ...(result.skipped ? { skipped: true } : {}), faces: result.faces }));
  };
  try {
    await source.start();
    for await (const frame of source.frames()) {
      let detections: Promise<FaceBox[]> | undefined;
      if (options.detectEvery === 1) {
        detections = engine.pool.detect(engine.models.detector, frame, analyzer.decider.minDetectionScore);
        detections.catch(() => undefined); // awaited in order by next()
      }
      ahead.push({ frame, detections });
      if (ahead.length >= workers * 2) await next();
    }
    while (ahead.length > 0) await next();
    collect(analyzer.endAll(lastTs));
    for (const summary of summaries) options.out(JSON.stringify(summary));
  } finally {
    await source.close();
  }
  return faces;
}
