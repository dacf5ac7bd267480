import { CloseOnce } from '../core/CloseOnce.js';
import { AppError } from '../core/errors.js';
import type { CropBatch } from './EmotionClassifier.js';
import { concatBatches } from './faceCrop.js';

export interface BatcherOptions {
  /** Send a batch as soon as it holds this many crops. */
  maxBatch: number;
  /** ...or when its oldest crop has waited this long. */
  maxWaitMs: number;
}

/** What the batcher sends its batches to: the inference pool. */
export interface BatchClassifier {
  classify(model: string, crops: CropBatch): Promise<Float32Array[]>;
}

/** Told about every batch sent: its size, and how long the model took for it. */
export type BatchObserver = (size: number, seconds: number) => void;

interface Pending {
  crops: CropBatch;
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
 * One batcher in front of the emotion model collects crops from every stream and sends them as one batch when it
 * holds `maxBatch` crops or the oldest has waited `maxWaitMs`. Each caller gets back its own rows, in order. On the
 * wasm backend batching buys no speed (docs/field-notes.md); it is there for GPU backends, so both limits are config.
 */
export class EmotionBatcher {
  readonly model: string;
  readonly #target: BatchClassifier;
  readonly #options: BatcherOptions;
  readonly #onBatch: BatchObserver | undefined;
  #pending: Pending[] = [];
  #pendingCrops = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = new Set<Promise<void>>();
  readonly #lifecycle = new CloseOnce('EmotionBatcher', () => this.#drain());
  readonly stats: BatcherStats = { batches: 0, crops: 0, lastBatchSize: 0 };

  constructor(target: BatchClassifier, model: string, options: BatcherOptions, onBatch?: BatchObserver) {
    if (options.maxBatch < 1) throw new RangeError('maxBatch must be at least 1');
    this.model = model;
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

  /** Probabilities for these crops, one row each, in order. */
  classify(crops: CropBatch): Promise<Float32Array[]> {
    this.#lifecycle.assertOpen();
    if (crops.count === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#pending.push({ crops, resolve, reject });
      this.#pendingCrops += crops.count;
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
        if (batch.length > 0 && count + next.crops.count > this.#options.maxBatch) break;
        batch.push(next);
        count += next.crops.count;
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
    const sizes = new Set(batch.map((p) => p.crops.size));
    const groups = sizes.size === 1 ? [batch] : [...sizes].map((s) => batch.filter((p) => p.crops.size === s));
    for (const group of groups) {
      const crops = concatBatches(group.map((p) => p.crops));
      const t0 = performance.now();
      const run = this.#target
        .classify(this.model, crops)
        .then((rows) => {
          this.#onBatch?.(crops.count, (performance.now() - t0) / 1000);
          if (rows.length !== group.reduce((n, p) => n + p.crops.count, 0)) {
            throw new AppError('BATCH_MISMATCH', `classifier returned ${rows.length} rows for the batch`);
          }
          let offset = 0;
          for (const p of group) {
            p.resolve(rows.slice(offset, offset + p.crops.count));
            offset += p.crops.count;
          }
        })
        .catch((err: Error) => {
          for (const p of group) p.reject(err);
        });
      const tracked = run.finally(() => this.#inFlight.delete(tracked));
      this.#inFlight.add(tracked);
    }
  }
}
