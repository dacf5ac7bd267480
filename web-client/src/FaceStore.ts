import type { EventsMessage, FaceEvent } from '../../src/core/events.js';

/** The live state of one face track, as last reported. */
export interface LiveFace {
  readonly event: FaceEvent;
  /** Local time (ms, caller's clock) the last event of this track arrived. */
  readonly seenAt: number;
}

/**
 * The faces currently on screen, per track, from the event stream: `face.new`/`face.update`/`face.emotion` add or
 * refresh a track, `face.end` removes it, a stream that ends removes its tracks, and a track with no event for
 * `staleMs` is dropped by `prune` (lost `face.end`, dropped updates, a stalled stream).
 */
export class FaceStore {
  readonly #faces = new Map<string, LiveFace>();

  constructor(readonly staleMs = 3000) {}

  /** Applies one message; returns true when the set of faces or their state changed. */
  apply(message: EventsMessage, now: number): boolean {
    switch (message.type) {
      case 'face.new':
      case 'face.update':
      case 'face.emotion':
        this.#faces.set(message.trackId, { event: message, seenAt: now });
        return true;
      case 'face.end':
        return this.#faces.delete(message.trackId);
      case 'stream.state':
        if (message.state === 'ended' || message.state === 'closed') return this.removeStream(message.streamId);
        return false;
      default:
        return false;
    }
  }

  /** Drops tracks not heard from for `staleMs`; returns how many were dropped. */
  prune(now: number): number {
    let n = 0;
    for (const [id, face] of this.#faces) {
      if (now - face.seenAt > this.staleMs) {
        this.#faces.delete(id);
        n++;
      }
    }
    return n;
  }

  removeStream(streamId: string): boolean {
    let changed = false;
    for (const [id, face] of this.#faces) {
      if (face.event.streamId === streamId) changed = this.#faces.delete(id) || changed;
    }
    return changed;
  }

  clear(): void {
    this.#faces.clear();
  }

  /** The live faces (of one stream, if given), ordered by track id. */
  faces(streamId?: string): LiveFace[] {
    const out = [...this.#faces.values()].filter((f) => streamId === undefined || f.event.streamId === streamId);
    return out.sort((a, b) => compareTrackIds(a.event.trackId, b.event.trackId));
  }

  get size(): number {
    return this.#faces.size;
  }
}

/** Orders `stream/2` before `stream/10`. */
export function compareTrackIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
