export interface KeyframeRequesterOptions {
  /** Sends one PLI. */
  send: () => void;
  /** At most one PLI per this many ms. */
  minIntervalMs?: number;
  now?: () => number;
}

/**
 * Rate-limited keyframe requests (PLI). Requests made before `setReady(true)` (DTLS/ICE not connected: a PLI would be
 * lost) are remembered and sent once ready. Repeated requests inside the interval are counted and dropped: the
 * assembler asks again on each dropped frame, so a lost PLI is repeated after the interval.
 */
export class KeyframeRequester {
  readonly #send: () => void;
  readonly #minIntervalMs: number;
  readonly #now: () => number;
  #ready = false;
  #pending = false;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  sent = 0;
  suppressed = 0;

  constructor(options: KeyframeRequesterOptions) {
    this.#send = options.send;
    this.#minIntervalMs = options.minIntervalMs ?? 500;
    this.#now = options.now ?? Date.now;
  }

  get ready(): boolean {
    return this.#ready;
  }

  setReady(ready: boolean): void {
    this.#ready = ready;
    if (ready && this.#pending) this.request();
  }

  request(): void {
    if (!this.#ready) {
      this.#pending = true;
      return;
    }
    const now = this.#now();
    if (now - this.#lastSentAt < this.#minIntervalMs) {
      this.suppressed++;
      return;
    }
    this.#pending = false;
    this.#lastSentAt = now;
    this.sent++;
    this.#send();
  }
}
