import { AppError } from '../core/errors.js';

/**
 * At most `max` tasks at once, at most `maxWaiting` more waiting in order; beyond that a task is refused at once
 * with `TOO_BUSY` (503). Used for `/api/analyze`, where each upload costs a body buffer, a decode and a trip
 * through the models: a burst of uploads waits or is refused instead of growing memory without bound.
 */
export class ConcurrencyLimit {
  readonly max: number;
  readonly maxWaiting: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  /** Tasks refused because the queue was full, since start. */
  refused = 0;

  constructor(max: number, maxWaiting: number) {
    if (!(max >= 1) || !(maxWaiting >= 0)) throw new RangeError('ConcurrencyLimit needs max >= 1, maxWaiting >= 0');
    this.max = max;
    this.maxWaiting = maxWaiting;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.max) {
      if (this.#waiting.length >= this.maxWaiting) {
        this.refused++;
        throw new AppError('TOO_BUSY', `${this.max} images are being analyzed and ${this.maxWaiting} wait; try again`);
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next)
        next(); // the slot passes straight to the next task
      else this.#running--;
    }
  }
}
