/**
 * When a crashed inference worker may be replaced (issue 15, supervision): after `initialMs`, doubling with every
 * restart still inside the window up to `maxMs`, and at most `budget` restarts in any `windowMs`. A worker that
 * keeps crashing (a model that brings it down, memory it cannot get) then stops being restarted instead of
 * looping, and the pool says so (its jobs fail with WORKERS_EXHAUSTED, /healthz is degraded).
 */
export interface RestartPolicy {
  /** Delay before the first restart in a window (default 250 ms). */
  initialMs?: number;
  /** Longest delay (default 10 000 ms). */
  maxMs?: number;
  /** Restarts allowed in a window (default 5). */
  budget?: number;
  /** The window, ms (default 60 000). */
  windowMs?: number;
}

export const RESTART_DEFAULTS = Object.freeze({ initialMs: 250, maxMs: 10_000, budget: 5, windowMs: 60_000 });

export class RestartBudget {
  readonly policy: Readonly<Required<RestartPolicy>>;
  readonly #recent: number[] = [];
  #total = 0;

  constructor(policy: RestartPolicy = {}) {
    this.policy = {
      ...RESTART_DEFAULTS,
      ...Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)),
    };
    const { initialMs, maxMs, budget, windowMs } = this.policy;
    if (!(initialMs > 0 && maxMs >= initialMs && budget >= 0 && windowMs > 0)) {
      throw new RangeError('a restart policy needs 0 < initialMs <= maxMs, budget >= 0, windowMs > 0');
    }
  }

  /** Restarts granted since start. */
  get restarts(): number {
    return this.#total;
  }

  /** The delay before the next restart, counting it; undefined when the window's budget is spent. */
  next(now = Date.now()): number | undefined {
    while (this.#recent.length > 0 && (this.#recent[0] as number) <= now - this.policy.windowMs) this.#recent.shift();
    if (this.#recent.length >= this.policy.budget) return undefined;
    this.#recent.push(now);
    this.#total++;
    return Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** (this.#recent.length - 1));
  }
}
