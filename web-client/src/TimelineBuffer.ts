import type { EventsMessage } from '../../src/core/events.js';
import type { EmotionLabel } from '../../src/core/labels.js';

export interface TimelinePoint {
  /** Capture time (ms since the epoch, the server's clock). */
  readonly ts: number;
  readonly valence: number;
  /** The smoothed label at that time (the dominant emotion). */
  readonly label: EmotionLabel;
}

export interface TimelineTrack {
  readonly trackId: string;
  readonly points: TimelinePoint[];
  ended: boolean;
}

export interface TimelineOptions {
  /** How much history to keep (ms of capture time). */
  windowMs?: number;
  /** Cap per track (a few updates per second for minutes stays far below). */
  maxPointsPerTrack?: number;
  /** Cap on tracks kept; the ones whose last point is oldest go first. */
  maxTracks?: number;
}

/**
 * Valence and dominant emotion per track over the last minutes, from face events, for the timeline chart. Times are
 * capture times from the server; `now()` extrapolates the server's clock from the last event so the chart keeps
 * scrolling when a stream goes quiet, whatever the offset between the two clocks.
 */
export class TimelineBuffer {
  readonly windowMs: number;
  readonly #maxPoints: number;
  readonly #maxTracks: number;
  readonly #tracks = new Map<string, TimelineTrack>();
  #latestTs = Number.NaN;
  #latestAt = 0;

  constructor(options: TimelineOptions = {}) {
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.#maxPoints = options.maxPointsPerTrack ?? 3000;
    this.#maxTracks = options.maxTracks ?? 40;
  }

  /** Adds the point a face event carries; `localNow` is the local time it arrived. Returns true if it was added. */
  add(message: EventsMessage, localNow: number): boolean {
    if (message.type !== 'face.new' && message.type !== 'face.update' && message.type !== 'face.emotion') {
      if (message.type === 'face.end') {
        const track = this.#tracks.get(message.trackId);
        if (track) track.ended = true;
      }
      return false;
    }
    let track = this.#tracks.get(message.trackId);
    if (!track) {
      track = { trackId: message.trackId, points: [], ended: false };
      this.#tracks.set(message.trackId, track);
    }
    const last = track.points.at(-1);
    if (last && message.ts < last.ts) return false; // out of order: the chart's lines only go forward
    track.points.push({ ts: message.ts, valence: message.valence, label: message.emotion.label });
    if (track.points.length > this.#maxPoints) track.points.splice(0, track.points.length - this.#maxPoints);
    if (!(message.ts <= this.#latestTs)) {
      this.#latestTs = message.ts;
      this.#latestAt = localNow;
    }
    this.#evictTracks();
    return true;
  }

  /** The server's time now, extrapolated from the newest event (undefined before any). */
  now(localNow: number): number | undefined {
    return Number.isNaN(this.#latestTs) ? undefined : this.#latestTs + Math.max(0, localNow - this.#latestAt);
  }

  /** Drops points older than the window (before `serverNow`) and tracks left empty. */
  prune(serverNow: number): void {
    const from = serverNow - this.windowMs;
    for (const [id, track] of this.#tracks) {
      const firstKept = track.points.findIndex((p) => p.ts >= from);
      if (firstKept === -1) this.#tracks.delete(id);
      else if (firstKept > 0) track.points.splice(0, firstKept);
    }
  }

  tracks(): TimelineTrack[] {
    return [...this.#tracks.values()];
  }

  clear(): void {
    this.#tracks.clear();
    this.#latestTs = Number.NaN;
  }

  #evictTracks(): void {
    if (this.#tracks.size <= this.#maxTracks) return;
    const byAge = [...this.#tracks.values()].sort((a, b) => (a.points.at(-1)?.ts ?? 0) - (b.points.at(-1)?.ts ?? 0));
    for (const track of byAge.slice(0, this.#tracks.size - this.#maxTracks)) this.#tracks.delete(track.trackId);
  }
}
