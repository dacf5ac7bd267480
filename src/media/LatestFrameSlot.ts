import type { Frame } from '../core/types.js';

/**
 * The one-frame slot between a source and its consumer: `put()` overwrites the frame that is waiting (counts it as
 * dropped, and releases its memory), `take()` hands over the newest frame once (the taker releases it). A slow
 * consumer therefore never makes memory grow.
 */
export class LatestFrameSlot<F extends Frame = Frame> {
  #frame: F | undefined;
  #received = 0;
  #dropped = 0;

  /** Frames put since creation. */
  get received(): number {
    return this.#received;
  }

  /** Frames overwritten before anyone took them. */
  get dropped(): number {
    return this.#dropped;
  }

  /** True when a frame is waiting. */
  get hasFrame(): boolean {
    return this.#frame !== undefined;
  }

  put(frame: F): void {
    if (this.#frame !== undefined) {
      this.#dropped++;
      this.#frame.release?.();
    }
    this.#frame = frame;
    this.#received++;
  }

  /** The newest frame, or undefined when none arrived since the last take. */
  take(): F | undefined {
    const frame = this.#frame;
    this.#frame = undefined;
    return frame;
  }

  /** Forgets (and releases) the waiting frame without counting it as dropped. */
  clear(): void {
    this.#frame?.release?.();
    this.#frame = undefined;
  }
}
