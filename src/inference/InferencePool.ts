import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CloseOnce } from '../core/CloseOnce.js';
import type { BackendName, EngineName } from '../core/config.js';
import { AppError, errorMessage, InferenceError, ModelLoadError } from '../core/errors.js';
import { NUM_EMOTIONS } from '../core/labels.js';
import type { Logger } from '../core/logger.js';
import { stageTimes } from '../core/stageTimes.js';
import type { FaceBox, RgbImage } from '../core/types.js';
import type { CropBatch } from './EmotionClassifier.js';
import type { CropJob } from './faceCrop.js';
import type { RunnerInfo } from './ModelRunner.js';
import { RestartBudget, type RestartPolicy } from './RestartBudget.js';
import type { WorkerControl, WorkerInit, WorkerReady, WorkerRequest, WorkerResponse } from './workerProtocol.js';

export interface InferencePoolOptions {
  /** Worker threads; default one per core. */
  workers?: number;
  engine?: EngineName | 'auto';
  /** The tfjs backend, for models the tfjs engine runs. */
  backend?: BackendName | 'auto';
  /** ONNX Runtime intra-op threads per worker (default 1). */
  threads?: number;
  /** Models each worker loads before it reports ready. */
  preload?: { detectors?: string[]; classifiers?: string[]; masks?: string[] };
  startTimeoutMs?: number;
  /** Replacing crashed workers: backoff and budget (RestartBudget.ts). */
  restart?: RestartPolicy;
  /** How long `numTensors()` waits for a worker's answer (default 2000 ms); a silent worker reports null. */
  askTimeoutMs?: number;
  logger?: Logger;
}

/** The pool's health for /healthz and /metrics. */
export interface PoolHealth {
  /** Workers running now. */
  workers: number;
  /** Workers running a job now. */
  busy: number;
  /** Workers asked for at start. */
  wanted: number;
  /** Replacements being started (after their backoff). */
  restarting: number;
  /** Workers replaced since start. */
  restarts: number;
  /** Jobs that failed because their worker died (WORKER_CRASHED) or none was left (WORKERS_EXHAUSTED). */
  crashedJobs: number;
  /** A crash found the restart budget spent: the pool runs on fewer workers, or none. */
  exhausted: boolean;
}

type Payload = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

interface Job {
  payload: Payload;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  jobId: number;
}

/**
 * A pool of worker threads, each with its own engine and models (ONNX Runtime sessions or a tfjs backend), so
 * inference never blocks the main thread and uses every core. Requests queue in order and go to the first idle
 * worker; each resolves with its own result.
 */
export class InferencePool {
  /** The engine the workers picked, and each preloaded model's engine. */
  readonly engine: RunnerInfo;
  readonly #init: WorkerInit;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #startTimeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #lifecycle = new CloseOnce('InferencePool', () => this.#shutdown());
  readonly #budget: RestartBudget;
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  readonly #askTimeoutMs: number;
  readonly #wanted: number;
  #restarting = 0;
  #crashedJobs = 0;
  #exhausted = false;
  #nextId = 1;
  readonly #handOff = { sharedBytes: 0, copiedBytes: 0 };

  private constructor(engine: RunnerInfo, init: WorkerInit, options: InferencePoolOptions) {
    this.engine = engine;
    this.#init = init;
    this.#startTimeoutMs = options.startTimeoutMs ?? 120_000;
    this.#logger = options.logger;
    this.#budget = new RestartBudget(options.restart);
    this.#askTimeoutMs = options.askTimeoutMs ?? 2000;
    this.#wanted = Math.max(1, options.workers ?? availableParallelism());
  }

  static async create(options: InferencePoolOptions = {}): Promise<InferencePool> {
    const count = Math.max(1, options.workers ?? availableParallelism());
    const init: WorkerInit = {
      runner: { engine: options.engine ?? 'auto', backend: options.backend ?? 'auto', threads: options.threads },
      preload: {
        detectors: options.preload?.detectors ?? [],
        classifiers: options.preload?.classifiers ?? [],
        masks: options.preload?.masks ?? [],
      },
    };
    const timeout = options.startTimeoutMs ?? 120_000;
    const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker(init, timeout)));
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failure = started.find((s) => s.status === 'rejected');
    if (failure) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw (failure as PromiseRejectedResult).reason;
    }
    const first = workers[0] as { worker: Worker; info: RunnerInfo };
    const pool = new InferencePool(first.info, init, options);
    for (const { worker } of workers) pool.#adopt(worker);
    const { engine, tfjs, models } = first.info;
    options.logger?.info(
      {
        engine: engine.engine,
        backend: engine.detail,
        passedOver: engine.skipped,
        tfjs: tfjs?.name,
        models,
        workers: count,
      },
      'inference pool ready',
    );
    return pool;
  }

  get size(): number {
    return this.#slots.length;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /** Requests waiting for a worker. */
  get queueDepth(): number {
    return this.#queue.length;
  }

  /**
   * What crossed to the workers: bytes of shared memory (frames, passed without a copy) and bytes copied (crops cut
   * by the caller, images that are not in shared memory).
   */
  get handOff(): { sharedBytes: number; copiedBytes: number } {
    return { ...this.#handOff };
  }

  detect(detector: string, image: RgbImage, minScore?: number): Promise<FaceBox[]> {
    const plain = { data: image.data, width: image.width, height: image.height };
    this.#count(image.data);
    return this.#submit({ op: 'detect', detector, image: plain, minScore }) as Promise<FaceBox[]>;
  }

  /**
   * Emotion probabilities, one row per crop, in order: for a batch of crops, or for faces the worker cuts from their
   * frames (one tensor in the worker either way).
   */
  async classify(model: string, crops: CropBatch | CropJob): Promise<Float32Array[]> {
    const count = cropCount(crops);
    if (count === 0) return [];
    const flat = (await this.#submit({ op: 'classify', model, crops: this.#plainCrops(crops) })) as Float32Array;
    return Array.from({ length: count }, (_, i) => flat.subarray(i * NUM_EMOTIONS, (i + 1) * NUM_EMOTIONS));
  }

  /** Probability of "mask present" for each crop (or face of a job), from a mask head. */
  async maskScores(model: string, crops: CropBatch | CropJob): Promise<Float32Array> {
    if (cropCount(crops) === 0) return new Float32Array(0);
    return (await this.#submit({ op: 'mask', model, crops: this.#plainCrops(crops) })) as Float32Array;
  }

  /** The request as structured clone will carry it (frames as plain views), counting what it shares and copies. */
  #plainCrops(crops: CropBatch | CropJob): CropBatch | CropJob {
    if (!('faces' in crops)) {
      this.#count(crops.data);
      return crops;
    }
    const faces = crops.faces.map(({ image, boxes }) => {
      this.#count(image.data);
      return { image: { data: image.data, width: image.width, height: image.height }, boxes };
    });
    return { size: crops.size, margin: crops.margin, faces };
  }

  #count(data: Uint8Array): void {
    if (data.buffer instanceof SharedArrayBuffer) this.#handOff.sharedBytes += data.byteLength;
    else this.#handOff.copiedBytes += data.byteLength;
  }

  get health(): PoolHealth {
    return {
      workers: this.#slots.length,
      busy: this.#slots.filter((slot) => slot.job).length,
      wanted: this.#wanted,
      restarting: this.#restarting,
      restarts: this.#budget.restarts,
      crashedJobs: this.#crashedJobs,
      exhausted: this.#exhausted,
    };
  }

  /**
   * Test hook (the fault suite, docs/reliability.md): makes a worker die in the middle of a job, as a crash would:
   * it exits when its current job (or its next) has a result, without answering, so the pool sees an exit it did
   * not ask for with the job outstanding. Not `terminate()`: ending a thread while ONNX Runtime runs in it aborts the
   * whole process. A busy worker when there is one; with `busyOnly`, only a busy one. False when none.
   */
  crashWorker(options: { busyOnly?: boolean } = {}): boolean {
    const slot = this.#slots.find((s) => s.job) ?? (options.busyOnly ? undefined : this.#slots[0]);
    if (!slot) return false;
    slot.worker.postMessage({ control: 'crash' } satisfies WorkerControl);
    return true;
  }

  /** `tf.memory().numTensors` of every worker (for leak checks); null for a worker that did not answer in time. */
  numTensors(): Promise<(number | null)[]> {
    return this.#askEvery('numTensors') as Promise<(number | null)[]>;
  }

  /** What each worker runs where now (models loaded since start included). */
  info(): Promise<RunnerInfo[]> {
    return this.#askEvery('info') as Promise<RunnerInfo[]>;
  }

  /**
   * A question every worker answers beside its queue (it does not wait for a free worker). A worker that does not
   * answer within the ask timeout (busy in a long inference, dying) answers null.
   */
  #askEvery(op: 'numTensors' | 'info'): Promise<unknown[]> {
    this.#lifecycle.assertOpen();
    return Promise.all(
      this.#slots.map(
        (slot) =>
          new Promise<unknown>((resolve, reject) => {
            const id = this.#nextId++;
            const done = () => {
              clearTimeout(timer);
              slot.worker.off('message', onMessage);
            };
            const timer = setTimeout(() => {
              done();
              resolve(null);
            }, this.#askTimeoutMs);
            const onMessage = (msg: WorkerResponse) => {
              if (msg?.id !== id) return;
              done();
              if (msg.ok) resolve(msg.result);
              else reject(new AppError(msg.error.code, msg.error.message));
            };
            slot.worker.on('message', onMessage);
            slot.worker.postMessage({ id, op } satisfies WorkerRequest);
          }),
      ),
    );
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #submit(payload: Payload): Promise<unknown> {
    this.#lifecycle.assertOpen();
    if (this.#slots.length === 0 && this.#restarting === 0) return Promise.reject(this.#exhaustedError());
    return new Promise((resolve, reject) => {
      this.#queue.push({ payload, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.job) continue;
      const job = this.#queue.shift();
      if (!job) return;
      slot.job = job;
      slot.jobId = this.#nextId++;
      slot.worker.postMessage({ ...job.payload, id: slot.jobId });
    }
  }

  #adopt(worker: Worker): void {
    const slot: Slot = { worker, job: undefined, jobId: 0 };
    this.#slots.push(slot);
    worker.on('message', (msg: WorkerResponse) => {
      const job = slot.job;
      if (!job || msg?.id !== slot.jobId) return; // a numTensors answer, handled by its own listener
      slot.job = undefined;
      if (msg.ok && msg.stages) for (const [stage, ms] of Object.entries(msg.stages)) stageTimes.add(stage, ms);
      if (msg.ok) job.resolve(msg.result);
      else job.reject(new AppError(msg.error.code, msg.error.message));
      this.#dispatch();
    });
    worker.on('error', (err) => this.#logger?.error({ err }, 'inference worker error'));
    worker.on('exit', (code) => {
      const index = this.#slots.indexOf(slot);
      if (index >= 0) this.#slots.splice(index, 1);
      if (this.closed) return;
      if (slot.job) {
        this.#crashedJobs++;
        slot.job.reject(new InferenceError('WORKER_CRASHED', `inference worker exited (code ${code})`));
      }
      slot.job = undefined;
      this.#logger?.warn({ code, workers: this.#slots.length }, 'inference worker exited');
      this.#replace();
      this.#dispatch(); // the others take the queue meanwhile
    });
  }

  /** Starts a replacement after the budget's backoff, or gives up when the budget is spent. */
  #replace(): void {
    const delay = this.#budget.next();
    if (delay === undefined) {
      this.#exhausted = true;
      const { budget, windowMs } = this.#budget.policy;
      this.#logger?.error(
        { workers: this.#slots.length, budget, windowMs },
        'inference worker restart budget spent; not restarting',
      );
      this.#failIfNoWorker();
      return;
    }
    this.#restarting++;
    this.#logger?.info({ delayMs: delay, restarts: this.#budget.restarts }, 'restarting an inference worker');
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      startWorker(this.#init, this.#startTimeoutMs).then(
        ({ worker: fresh }) => {
          this.#restarting--;
          if (this.closed) {
            void fresh.terminate();
            return;
          }
          this.#adopt(fresh);
          this.#dispatch();
        },
        (err: unknown) => {
          this.#restarting--;
          if (this.closed) return;
          this.#logger?.error({ err: errorMessage(err) }, 'could not restart an inference worker');
          this.#replace();
        },
      );
    }, delay);
    this.#restartTimers.add(timer);
  }

  /** With no worker and none coming, queued jobs can never run: they fail now, typed. */
  #failIfNoWorker(): void {
    if (this.#slots.length > 0 || this.#restarting > 0) return;
    const error = this.#exhaustedError();
    for (const job of this.#queue.splice(0)) {
      this.#crashedJobs++;
      job.reject(error);
    }
  }

  #exhaustedError(): InferenceError {
    const { budget, windowMs } = this.#budget.policy;
    return new InferenceError(
      'WORKERS_EXHAUSTED',
      `no inference worker is running: they crashed more than ${budget} times in ${windowMs / 1000} s`,
    );
  }

  async #shutdown(): Promise<void> {
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    const closing = new InferenceError('POOL_CLOSED', 'inference pool closed');
    for (const job of this.#queue.splice(0)) job.reject(closing);
    const slots = this.#slots.splice(0);
    const running = slots.map((slot) => (slot.job ? slot.jobId : undefined));
    for (const slot of slots) slot.job?.reject(closing);
    // A worker is terminated only once its running job has returned (or after 10 s): ending a thread inside ONNX
    // Runtime's native code aborts the whole process.
    await Promise.all(
      slots.map(async (slot, i) => {
        const id = running[i];
        if (id !== undefined) await answered(slot.worker, id, 10_000);
        await slot.worker.terminate();
      }),
    );
  }
}

function cropCount(crops: CropBatch | CropJob): number {
  return 'faces' in crops ? crops.faces.reduce((n, f) => n + f.boxes.length, 0) : crops.count;
}

/** Resolves when `worker` answers job `id`, exits, or `timeoutMs` passes. */
function answered(worker: Worker, id: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', done);
      resolve();
    };
    const onMessage = (msg: WorkerResponse) => {
      if (msg?.id === id) done();
    };
    const timer = setTimeout(done, timeoutMs);
    worker.on('message', onMessage);
    worker.on('exit', done);
  });
}

/** The compiled worker entry: beside this file when running from dist/, else in dist/ (tests run src/ directly). */
function workerUrl(): URL {
  const beside = new URL('./inferenceWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../../dist/inference/inferenceWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new ModelLoadError('dist/inference/inferenceWorker.js is missing: run `npm run build`', {
    code: 'WORKER_MISSING',
  });
}

function startWorker(init: WorkerInit, timeoutMs: number): Promise<{ worker: Worker; info: RunnerInfo }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl(), { workerData: init });
    const timer = setTimeout(() => {
      cleanup();
      void worker.terminate();
      reject(new ModelLoadError(`inference worker did not start within ${timeoutMs} ms`, { code: 'WORKER_TIMEOUT' }));
    }, timeoutMs);
    const onMessage = (msg: WorkerReady) => {
      cleanup();
      if (msg.ready) resolve({ worker, info: msg.info });
      else reject(new ModelLoadError(msg.error.message, { code: msg.error.code }));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new ModelLoadError(`inference worker failed to start: ${err.message}`, { cause: err }));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new InferenceError('WORKER_CRASHED', `inference worker exited during start (code ${code})`));
    };
    function cleanup() {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
