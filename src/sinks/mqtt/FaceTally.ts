import type { FaceEvent } from '../../core/events.js';
import { EMOTION_LABELS, type EmotionLabel } from '../../core/labels.js';

/** The per-stream summary published on `<prefix>/<streamId>/summary` (docs/events.md, "MQTT"). */
export interface StreamSummary {
  streamId: string;
  /** Capture time of the latest event that went into it, ms since the epoch. */
  ts: number;
  /** Faces (confirmed tracks) present now. */
  faces: number;
  /** The label most faces show (ties: the higher mean probability); null without faces. */
  dominant: EmotionLabel | null;
  /** Mean valence and arousal of the faces present, 3 decimals; null without faces. */
  valence: number | null;
  arousal: number | null;
  /** Faces per label, all seven labels in label order. */
  labels: Record<EmotionLabel, number>;
}

interface FaceState {
  label: EmotionLabel;
  scores: Record<EmotionLabel, number>;
  valence: number;
  arousal: number;
}

/**
 * The faces present in one stream, kept from its face events: a track enters with `face.new`, changes with
 * `face.update` / `face.emotion`, leaves with `face.end`. Pure. Bounded: beyond `maxFaces` the least recently
 * updated track is forgotten (a safety net; the pipeline ends every track it starts).
 */
export class FaceTally {
  readonly #faces = new Map<string, FaceState>();
  readonly #maxFaces: number;
  #ts = 0;

  constructor(maxFaces = 1000) {
    this.#maxFaces = maxFaces;
  }

  get size(): number {
    return this.#faces.size;
  }

  apply(event: FaceEvent): void {
    this.#ts = Math.max(this.#ts, event.ts);
    if (event.type === 'face.end') {
      this.#faces.delete(event.trackId);
      return;
    }
    this.#faces.delete(event.trackId); // re-inserted last: Map order = least recently updated first
    this.#faces.set(event.trackId, {
      label: event.emotion.label,
      scores: event.emotion.scores,
      valence: event.valence,
      arousal: event.arousal,
    });
    if (this.#faces.size > this.#maxFaces) {
      const oldest = this.#faces.keys().next().value;
      if (oldest !== undefined) this.#faces.delete(oldest);
    }
  }

  /** No face can be present (the stream stalled, ended or closed). */
  clear(ts: number): void {
    this.#ts = Math.max(this.#ts, ts);
    this.#faces.clear();
  }

  summary(streamId: string): StreamSummary {
    const labels = Object.fromEntries(EMOTION_LABELS.map((l) => [l, 0])) as Record<EmotionLabel, number>;
    const meanScore = Object.fromEntries(EMOTION_LABELS.map((l) => [l, 0])) as Record<EmotionLabel, number>;
    let valence = 0;
    let arousal = 0;
    for (const face of this.#faces.values()) {
      labels[face.label]++;
      for (const l of EMOTION_LABELS) meanScore[l] += face.scores[l];
      valence += face.valence;
      arousal += face.arousal;
    }
    const n = this.#faces.size;
    let dominant: EmotionLabel | null = null;
    for (const l of EMOTION_LABELS) {
      if (labels[l] === 0) continue;
      if (
        dominant === null ||
        labels[l] > labels[dominant] ||
        (labels[l] === labels[dominant] && meanScore[l] > meanScore[dominant])
      ) {
        dominant = l;
      }
    }
    return {
      streamId,
      ts: this.#ts,
      faces: n,
      dominant,
      valence: n > 0 ? round3(valence / n) : null,
      arousal: n > 0 ? round3(arousal / n) : null,
      labels,
    };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
