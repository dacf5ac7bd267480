import { CloseOnce } from '../core/CloseOnce.js';
import { AppError } from '../core/errors.js';
import type { CropJob, FaceRegions } from './faceCrop.js';
import type { CropSpec } from './modelManifest.js';

export interface BatcherOptions {
  /** Send a batch as soon as it holds this many faces. */
  maxBatch: number;
  /** ...or when its oldest face has waited this long. */
  maxWaitMs: number;
}

/** What the batcher sends its batches to: the inference pool (which cuts the crops where the model runs). */
export interface BatchClassifier {
  classify(model: string, crops: CropJob): Promise<Float32Array[]>;
}

/** Told about every batch sent: its size, and how long the model took for it. */
export type BatchObserver = (size: number, seconds: number) => void;

interface Pending {
  faces: FaceRegions;
  resolve: (rows: Float32Array[]) => void;
  reject: (err: Error) => void;
}

export interface BatcherStats {
  batches: number;
  crops: number;
  /** Size of the last batch sent. */
  lastBatchSize: number;
}

/**
 * One batcher in front of the emotion model collects the faces of every stream's frames and sends them as one batch
 * (one tensor, crops cut in the worker from the shared frames) when it holds `maxBatch` faces or the oldest has waited
 * `maxWaitMs`. Each caller gets back its own rows, in order. Batching pays on ONNX Runtime and GPUs, hardly on wasm
 * (docs/performance.md); both limits are config.
 */
export class EmotionBatcher {
  readonly model: string;
  readonly #spec: CropSpec;
  readonly #target: BatchClassifier;
  readonly #options: BatcherOptions;
  readonly #onBatch: BatchObserver | undefined;
  #pending: Pending[] = [];
  #pendingCrops = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = new Set<Promise<void>>();
  readonly #lifecycle = new CloseOnce('EmotionBatcher', () => this.#drain());
  readonly stats: BatcherStats = { batches: 0, crops: 0, lastBatchSize: 0 };

  constructor(target: BatchClassifier, model: CropSpec, options: BatcherOptions, onBatch?: BatchObserver) {
    if (options.maxBatch < 1) throw new RangeError('maxBatch must be at least 1');
    this.model = model.name;
    this.#spec = model;
    this.#target = target;
    this.#options = options;
    this.#onBatch = onBatch;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /** Crops waiting to be sent. */
  get queued(): number {
    return this.#pendingCrops;
  }

  /** Probabilities for these faces of one frame, one row each, in order. */
  classify(faces: FaceRegions): Promise<Float32Array[]> {
    this.#lifecycle.assertOpen();
    if (faces.boxes.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#pending.push({ faces, resolve, reject });
      this.#pendingCrops += faces.boxes.length;
      if (this.#pendingCrops >= this.#options.maxBatch) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#options.maxWaitMs);
    });
  }

  /** Sends everything waiting now, then waits for all batches in flight. `close()` does this once more. */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  async #drain(): Promise<void> {
    this.#flush();
    await Promise.allSettled([...this.#inFlight]);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      // Take whole requests up to maxBatch crops (a request larger than maxBatch goes alone).
      const batch: Pending[] = [];
      let count = 0;
      while (this.#pending.length > 0) {
        const next = this.#pending[0] as Pending;
        if (batch.length > 0 && count + next.faces.boxes.length > this.#options.maxBatch) break;
        batch.push(next);
        count += next.faces.boxes.length;
        this.#pending.shift();
      }
      this.#pendingCrops -= count;
      this.#send(batch, count);
      if (this.#pendingCrops < this.#options.maxBatch) break;
    }
    if (this.#pending.length > 0) this.#timer = setTimeout(() => this.#flush(), this.#options.maxWaitMs);
  }

  #send(batch: Pending[], count: number): void {
    this.stats.batches++;
    this.stats.crops += count;
    this.stats.lastBatchSize = count;
    const job: CropJob = { size: this.#spec.size, margin: this.#spec.margin, faces: batch.map((p) => p.faces) };
    const t0 = performance.now();
    const run = this.#target
      .classify(this.model, job)
      .then((rows) => {
        this.#onBatch?.(count, (performance.now() - t0) / 1000);
        if (rows.length !== count) {
          throw new AppError('BATCH_MISMATCH', `classifier returned ${rows.length} rows for ${count} faces`);
        }
        let offset = 0;
        for (const p of batch) {
          p.resolve(rows.slice(offset, offset + p.faces.boxes.length));
          offset += p.faces.boxes.length;
        }
      })
      .catch((err: Error) => {
        for (const p of batch) p.reject(err);
      });
    const tracked = run.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}
