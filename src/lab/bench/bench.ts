import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackendName, EngineName } from '../../core/config.js';
import { InputError } from '../../core/errors.js';
import type { FaceBox, RgbImage } from '../../core/types.js';
import type { CropBatch } from '../../inference/EmotionClassifier.js';
import { concatBatches, cropBatch } from '../../inference/faceCrop.js';
import { InferencePool } from '../../inference/InferencePool.js';
import { cropSpec } from '../../inference/modelManifest.js';
import { decodeImage, resizeImage } from '../../media/imageFile.js';
import { analyzeImage, createAnalysisEngine } from '../../pipeline/FrameAnalyzer.js';

export interface BenchOptions {
  seconds: number;
  /** The tfjs backend of the tfjs engine's runs. */
  backend: BackendName | 'auto';
  /** ONNX Runtime threads per worker in the onnx runs. */
  threads: number;
  /** A folder of photos (scaled and cropped to 640x480). */
  photos: string;
  out: (line: string) => void;
}

const ENGINES: readonly EngineName[] = ['tfjs', 'onnx'];
const EMOTION_MODELS = ['emotion-cnn', 'fer-head', 'human', 'faceapi'];
const ROUNDS = 5;

export function median(values: number[]): number {
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
    throw new InputError('INPUT_NOT_FOUND', `${dir}: photo folder not found (pass --photos)`);
  }
  return Promise.all(
    files.map(async (f) => inSharedMemory(await resizeImage(await decodeImage(join(dir, f)), 640, 480))),
  );
}

/** The frame as live sources hand frames over: in shared memory, so no request copies it. */
function inSharedMemory(image: RgbImage): RgbImage {
  const data = new Uint8Array(new SharedArrayBuffer(image.data.byteLength));
  data.set(image.data);
  return { data, width: image.width, height: image.height };
}

/** Median ms of `call` per engine, calls interleaved round by round so both engines see the same machine. */
async function interleaved(
  pools: Map<EngineName, InferencePool>,
  calls: ((pool: InferencePool) => Promise<unknown>)[],
) {
  const times = new Map<EngineName, number[]>([...pools.keys()].map((e) => [e, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const call of calls) {
      for (const [engine, pool] of pools) {
        const t0 = performance.now();
        await call(pool);
        times.get(engine)?.push(performance.now() - t0);
      }
    }
  }
  return new Map([...times].map(([e, t]) => [e, median(t)]));
}

/**
 * `npm run bench`: inference speed on 640x480 frames, each engine in the same run (calls interleaved): detection per
 * frame, emotion per face at batch 1 and 8 through a one-worker pool (what one stream sees), then whole-frame
 * throughput (detect, crop, classify) with one worker and with one per core.
 */
export async function bench(options: BenchOptions): Promise<void> {
  const dir = resolve(options.photos);
  const frames = await loadFrames(dir);
  const { out } = options;
  out(`frames: ${frames.length} photos from ${dir} at 640x480; ${ROUNDS} interleaved rounds, medians`);

  const pools = new Map<EngineName, InferencePool>();
  try {
    for (const engine of ENGINES) {
      const pool = await InferencePool.create({
        workers: 1,
        engine,
        backend: options.backend,
        threads: options.threads,
        preload: { detectors: ['blazeface'], classifiers: EMOTION_MODELS },
      });
      pools.set(engine, pool);
      const { engine: choice, models } = pool.engine;
      out(`engine ${engine}: backend ${choice.detail}, models ${JSON.stringify(models)}`);
    }
    const detect = await interleaved(
      pools,
      frames.map((f) => (pool) => pool.detect('blazeface', f)),
    );
    out(`detect blazeface: ${perEngine(detect, 'ms/frame')}`);

    const faces = await facesOf(pools, frames);
    out(`faces: ${faces.length}`);
    for (const model of EMOTION_MODELS) {
      const spec = cropSpec(model);
      for (const batch of [1, 8]) {
        const batches = cropGroups(faces, batch, spec.size, spec.margin);
        const ms = await interleaved(
          pools,
          batches.map((crops) => (pool) => pool.classify(model, crops)),
        );
        out(
          `classify ${model} batch ${batch}: ${perEngine(new Map([...ms].map(([e, v]) => [e, v / batch])), 'ms/face')}`,
        );
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }

  const cores = availableParallelism();
  for (const engine of ENGINES) {
    const rates: number[] = [];
    for (const workers of [1, cores]) {
      const rate = await throughput(engine, workers, frames, options);
      rates.push(rate);
      out(`${engine} pool ${workers} worker(s): ${rate.toFixed(1)} faces/s (blazeface + emotion-cnn, whole frames)`);
    }
    out(`${engine} pool scaling: ${((rates[1] ?? 0) / (rates[0] ?? 1)).toFixed(2)}x with ${cores} workers vs 1`);
  }
}

function perEngine(ms: Map<EngineName, number>, unit: string): string {
  const tfjs = ms.get('tfjs') ?? Number.NaN;
  const onnx = ms.get('onnx') ?? Number.NaN;
  return `tfjs ${tfjs.toFixed(2)} ${unit}, onnx ${onnx.toFixed(2)} ${unit}, onnx ${(tfjs / onnx).toFixed(1)}x faster`;
}

/** Every detected face of every frame (detected once, by the tfjs pool). */
async function facesOf(pools: Map<EngineName, InferencePool>, frames: RgbImage[]) {
  const pool = pools.get('tfjs') as InferencePool;
  const found: { frame: RgbImage; box: FaceBox }[] = [];
  for (const frame of frames) for (const box of await pool.detect('blazeface', frame)) found.push({ frame, box });
  return found;
}

/** The faces as crop batches of `size` faces (crops of one batch may come from different frames). */
function cropGroups(faces: { frame: RgbImage; box: FaceBox }[], size: number, px: number, margin: number) {
  const groups: CropBatch[] = [];
  for (let k = 0; k + size <= faces.length; k += size) {
    groups.push(concatBatches(faces.slice(k, k + size).map((f) => cropBatch(f.frame, [f.box], px, margin))));
  }
  return groups;
}

/** Faces per second through the frame step, `workers * 2` frames in flight. */
async function throughput(engine: EngineName, workers: number, frames: RgbImage[], options: BenchOptions) {
  const pool = await InferencePool.create({
    workers,
    engine,
    backend: options.backend,
    threads: options.threads,
    preload: { detectors: ['blazeface'], classifiers: ['emotion-cnn'] },
  });
  const analysis = createAnalysisEngine(pool, { detector: 'blazeface', emotion: 'emotion-cnn' });
  try {
    await Promise.all(frames.slice(0, workers).map((f) => analyzeImage(f, analysis))); // warm-up
    let faces = 0;
    let next = 0;
    const deadline = performance.now() + options.seconds * 1000;
    const t0 = performance.now();
    const lane = async () => {
      while (performance.now() < deadline) {
        const frame = frames[next++ % frames.length] as RgbImage;
        // Not `faces += await ...`: that reads `faces` before the await and loses the other lanes' counts.
        const found = (await analyzeImage(frame, analysis)).length;
        faces += found;
      }
    };
    await Promise.all(Array.from({ length: workers * 2 }, lane));
    return faces / ((performance.now() - t0) / 1000);
  } finally {
    await analysis.batcher.close();
    await pool.close();
  }
}
