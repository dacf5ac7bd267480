/**
 * Where the CPU goes on the frame's path: milliseconds spent per stage, summed over the process's life (the main
 * thread's stages timed where they run; the inference workers' reported with each answer). `/metrics` exports them as
 * `emostream_stage_seconds_total{stage}` and `bench-live` divides them by the analyzed frames.
 */
export class StageTimes {
  readonly #ms = new Map<string, number>();
  /** Time spent in stages timed inside the one running now (so each stage counts its own time only). */
  #nested = 0;

  add(stage: string, ms: number): void {
    this.#ms.set(stage, (this.#ms.get(stage) ?? 0) + ms);
  }

  /**
   * Runs `fn` (synchronous: for work on one thread, wall time is CPU time) and adds its time to `stage`, less the time
   * of stages timed inside it.
   */
  time<T>(stage: string, fn: () => T): T {
    const outer = this.#nested;
    this.#nested = 0;
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const total = performance.now() - t0;
      this.add(stage, total - this.#nested);
      this.#nested = outer + total;
    }
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#ms);
  }
}

/** The process's stage times (one per process: the main thread and what its workers report). */
export const stageTimes = new StageTimes();
