/**
 * The restart schedule of a live source: `initialMs`, doubling on every failed attempt, capped at `maxMs`
 * (defaults 1 s to 30 s). The owner calls `reset()` after a period of health (RtspSource: a minute of frames).
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

export class ReconnectBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  #attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 30_000;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs (got ${this.initialMs}, ${this.maxMs})`);
    }
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The delay before the next attempt; counts one more attempt. */
  next(): number {
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.#attempts, 30));
    this.#attempts++;
    return delay;
  }

  reset(): void {
    this.#attempts = 0;
  }
}
