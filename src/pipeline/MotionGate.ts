import type { MotionOptions } from '../core/config.js';
import type { RgbImage } from '../core/types.js';
import { changedShare, greyThumbnail } from './thumbnails.js';

const COLS = 40;
const ROWS = 30;

/**
 * Decides whether a frame needs the detector when no face is tracked: only when enough of the picture changed since the
 * last detection (a 40x30 grey thumbnail compared cell by cell), or when the last detection is `maxIdleMs` old.
 */
export class MotionGate {
  readonly #options: MotionOptions;
  #reference: Uint8Array | undefined;
  #lastDetectTs = Number.NEGATIVE_INFINITY;

  constructor(options: MotionOptions) {
    this.#options = options;
  }

  /** The frame's thumbnail, to pass back to `moved` and `detected`. */
  thumbnail(frame: RgbImage): Uint8Array {
    return greyThumbnail(frame, { x: 0, y: 0, w: frame.width, h: frame.height }, COLS, ROWS);
  }

  /** Whether the frame changed enough since the last detection, or the last detection is too old. */
  moved(thumbnail: Uint8Array, ts: number): boolean {
    if (!this.#reference || ts - this.#lastDetectTs >= this.#options.maxIdleMs) return true;
    return changedShare(thumbnail, this.#reference, this.#options.cellThreshold) >= this.#options.minChangedShare;
  }

  /** The detector ran on this frame: it is the new reference. */
  detected(thumbnail: Uint8Array, ts: number): void {
    this.#reference = thumbnail;
    this.#lastDetectTs = ts;
  }
}
