import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { type BackendName, DETECTOR_NAMES } from '../../core/config.js';
import { InputError } from '../../core/errors.js';
import type { RgbImage } from '../../core/types.js';
import { concatBatches, cropBatch } from '../../inference/faceCrop.js';
import { InferencePool } from '../../inference/InferencePool.js';
import { resolveModel } from '../../inference/modelManifest.js';
import { decodeImage, resizeImage } from '../../media/imageFile.js';
import { analyzeImage, createAnalysisEngine } from '../../pipeline/FrameAnalyzer.js';

export interface BenchOptions {
  seconds: number;
  backend: BackendName | 'auto';
  /** A folder of photos (scaled and cropped to 640x480). */
  photos: string;
  out: (line: string) => void;
}

const EMOTION_MODELS = ['human', 'faceapi'];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The shared group photos as 640x480 frames (scaled and centre-cropped). */
async function loadFrames(dir: string): Promise<RgbImage[]> {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort();
  } catch {
    throw new InputError('INPUT_NOT_FOUND', `${dir}: photo folder not found (pass --data)`);
  }
  return Promise.all(files.map(async (f) => resizeImage(await decodeImage(join(dir, f)), 640, 480)));
}

/**
 * `npm run bench`: the engine's speed on 640x480 frames. Latencies are medians of per-call wall time through a
 * one-worker pool (what one stream sees); throughput is whole-frame analysis (detect, crop, classify) with 1 worker
 * and with one per core, in the same run, so the ratio is meaningful on a noisy machine.
 */
export async function bench(options: BenchOptions): Promise<void> {
  const dir = resolve(options.photos);
  const frames = await loadFrames(dir);
  const { out } = options;
  out(`frames: ${frames.length} photos from ${dir} at 640x480`);

  const single = await InferencePool.create({
    workers: 1,
    backend: options.backend,
    preload: { detectors: [...DETECTOR_NAMES], classifiers: EMOTION_MODELS },
  });
  out(`backend: ${single.backend.name}`);
  try {
    for (const detector of DETECTOR_NAMES) {
      const times: number[] = [];
      let found = 0;
      for (let round = 0; round < 3; round++) {
        for (const frame of frames) {
          const t0 = performance.now();
          const boxes = await single.detect(detector, frame);
          times.push(performance.now() - t0);
          if (round === 0) found += boxes.length;
        }
      }
      out(`detect ${detector}: median ${median(times).toFixed(1)} ms/frame, ${found} faces in ${frames.length} frames`);
    }
    const boxesByFrame = await Promise.all(frames.map((f) => single.detect('blazeface', f)));
    for (const model of EMOTION_MODELS) {
      const { manifest } = resolveModel(model);
      const margin = manifest.crop?.margin ?? 0.25;
      for (const batch of [1, 8]) {
        const crops = frames.flatMap((frame, i) => (boxesByFrame[i] ?? []).map((box) => ({ frame, box })));
        const times: number[] = [];
        for (let round = 0; round < 3; round++) {
          for (let k = 0; k + batch <= crops.length; k += batch) {
            const group = crops.slice(k, k + batch);
            // Crops of one batch may come from different frames: cut them one by one and concatenate.
            const batchOfCrops = concatBatches(
              group.map((c) => cropBatch(c.frame, [c.box], manifest.input.size, margin)),
            );
            const t0 = performance.now();
            await single.classify(model, batchOfCrops);
            times.push((performance.now() - t0) / batch);
          }
        }
        out(`classify ${model} batch ${batch}: median ${median(times).toFixed(2)} ms/face`);
      }
    }
  } finally {
    await single.close();
  }

  const cores = availableParallelism();
  const rates: number[] = [];
  for (const workers of [1, cores]) {
    const pool = await InferencePool.create({
      workers,
      backend: options.backend,
      preload: { detectors: ['blazeface'], classifiers: ['human'] },
    });
    const engine = createAnalysisEngine(pool, { detector: 'blazeface', emotion: 'human' });
    try {
      await Promise.all(frames.slice(0, workers).map((f) => analyzeImage(f, engine))); // warm-up
      let faces = 0;
      let next = 0;
      let analyzed = 0;
      const deadline = performance.now() + options.seconds * 1000;
      const t0 = performance.now();
      const lane = async () => {
        while (performance.now() < deadline) {
          const frame = frames[next++ % frames.length] as RgbImage;
          analyzed++;
          // Not `faces += await ...`: that reads `faces` before the await and loses the other lanes' counts.
          const found = (await analyzeImage(frame, engine)).length;
          faces += found;
        }
      };
      await Promise.all(Array.from({ length: workers * 2 }, lane));
      const rate = faces / ((performance.now() - t0) / 1000);
      rates.push(rate);
      out(
        `pool ${workers} worker(s): ${rate.toFixed(1)} faces/s (blazeface + human, whole frames, ${analyzed} frames)`,
      );
    } finally {
      await engine.batcher.close();
      await pool.close();
    }
  }
  out(`pool scaling: ${((rates[1] ?? 0) / (rates[0] ?? 1)).toFixed(2)}x with ${cores} workers vs 1`);
}
