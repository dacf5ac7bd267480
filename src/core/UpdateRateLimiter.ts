/**
 * "At most a few `face.update`s per second per track" (docs/interfaces.md): lets an update through when at least
 * `1000 / maxPerSecond` ms of event time (`ts`, the capture time) passed since the last one let through for the
 * same track. Event time, not wall time, so a replayed file behaves like a live camera and tests are exact.
 * Pure: no timers, no I/O. Memory is bounded: a track is forgotten at `forget(trackId)` (its `face.end`) and the
 * least recently seen tracks are evicted beyond `maxTracks`.
 */
export interface UpdateRateLimiterOptions {
  /** Updates per second per track; `Infinity` lets everything through. */
  maxPerSecond: number;
  /** Tracks remembered at most (least recently seen evicted first). */
  maxTracks?: number;
}

export class UpdateRateLimiter {
  readonly #minIntervalMs: number;
  readonly #maxTracks: number;
  /** trackId → ts of the last update let through; Map order = least recently seen first. */
  readonly #last = new Map<string, number>();
  #allowed = 0;
  #limited = 0;

  constructor(options: UpdateRateLimiterOptions) {
    if (!(options.maxPerSecond > 0)) throw new RangeError('maxPerSecond must be > 0');
    this.#minIntervalMs = Number.isFinite(options.maxPerSecond) ? 1000 / options.maxPerSecond : 0;
    this.#maxTracks = options.maxTracks ?? 10_000;
    if (!(this.#maxTracks >= 1)) throw new RangeError('maxTracks must be >= 1');
  }

  /** True when an update of `trackId` at event time `ts` (ms) may go out now; records it if so. */
  allow(trackId: string, ts: number): boolean {
    const last = this.#last.get(trackId);
    // A clock that went backwards (a new source for the same id) restarts the track's window.
    if (last !== undefined && ts >= last && ts - last < this.#minIntervalMs) {
      this.#limited++;
      return false;
    }
    this.#last.delete(trackId);
    this.#last.set(trackId, ts);
    if (this.#last.size > this.#maxTracks) {
      const oldest = this.#last.keys().next().value;
      if (oldest !== undefined) this.#last.delete(oldest);
    }
    this.#allowed++;
    return true;
  }

  /** Forgets a track (call on its `face.end`). */
  forget(trackId: string): void {
    this.#last.delete(trackId);
  }

  get stats(): { tracks: number; allowed: number; limited: number } {
    return {
      tracks: this.#last.size,
      allowed: this.#allowed,
      limited: this.#limited,
    };
  }
}
