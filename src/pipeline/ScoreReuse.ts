import type { ReuseOptions } from '../core/config.js';
import type { Box, RgbImage } from '../core/types.js';
import { greyThumbnail, meanDifference } from './thumbnails.js';

const SIDE = 12;

interface Scored {
  thumbnail: Uint8Array;
  probs: Float32Array;
  ts: number;
}

/**
 * A tracked face whose crop has not changed since it was last classified keeps its scores for up to `maxAgeMs`: the
 * face region's 12x12 grey thumbnail is compared with the one it had then. Entries of tracks not seen for a while are
 * forgotten.
 */
export class ScoreReuse {
  readonly #options: ReuseOptions;
  readonly #scored = new Map<string, Scored>();

  constructor(options: ReuseOptions) {
    this.#options = options;
  }

  /** The face region's thumbnail (the crop region the emotion model sees). */
  thumbnail(frame: RgbImage, region: Box): Uint8Array {
    return greyThumbnail(frame, region, SIDE, SIDE);
  }

  /** The scores this track's face had, when its crop is unchanged and they are recent enough. */
  reusable(trackId: string, thumbnail: Uint8Array, ts: number): Float32Array | undefined {
    const last = this.#scored.get(trackId);
    if (!last || ts - last.ts > this.#options.maxAgeMs) return undefined;
    return meanDifference(thumbnail, last.thumbnail) <= this.#options.maxDifference ? last.probs : undefined;
  }

  /** Fresh scores of a track's face, with the thumbnail of the crop they came from. */
  scored(trackId: string, thumbnail: Uint8Array, probs: Float32Array, ts: number): void {
    this.#scored.set(trackId, { thumbnail, probs, ts });
    for (const [id, entry] of this.#scored)
      if (ts - entry.ts > 10 * this.#options.maxAgeMs + 10_000) this.#scored.delete(id);
  }
}
