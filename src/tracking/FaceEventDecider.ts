import { valenceArousal } from '../core/affect.js';
import type { Config, SmootherOptions } from '../core/config.js';
import type { BusEvent } from '../core/events.js';
import { maskRecord, round, roundBox, roundedScores } from '../core/faceRecord.js';
import { EMOTION_LABELS, type EmotionLabel } from '../core/labels.js';
import type { Box, FaceBox } from '../core/types.js';
import { EmotionSmoother, FaceTracker, SMOOTHER_DEFAULTS, type Track } from './index.js';

/** A tracked face as shown on snapshots and overlays. */
export interface TrackedFace {
  trackId: string;
  box: Box;
  label: EmotionLabel;
  /** Smoothed probability of the label. */
  confidence: number;
}

interface FrameInfo {
  seq: number;
  w: number;
  h: number;
}

interface TrackState {
  smoother: EmotionSmoother;
  /** Smoothed probability that the face wears a mask (when a mask model runs). */
  mask?: { score: number; ts: number };
  announced: boolean;
  last?: Omit<Extract<BusEvent, { type: 'face.update' }>, 'type'>;
}

/**
 * One stream's faces over time: the tracker decides which box is whom, a smoother per track turns raw emotion
 * scores into a steady label, and this turns both into the events of docs/interfaces.md (`face.new` when a track is
 * confirmed, `face.update` per analyzed frame (the bus limits their rate), `face.emotion` on a smoothed label change,
 * `face.end` with the track's summary).
 */
export class FaceEventDecider {
  readonly #streamId: string;
  readonly #tracker: FaceTracker;
  readonly #smoothing: Partial<SmootherOptions>;
  readonly #maskTauMs: number;
  readonly #states = new Map<string, TrackState>();
  #pendingEnds: BusEvent[] = [];
  #active: Track[] = [];
  #lostSinceDetection = false;

  constructor(streamId: string, tracking: Config['tracking'] = {}) {
    this.#streamId = streamId;
    this.#tracker = new FaceTracker(streamId, tracking);
    this.#smoothing = tracking;
    this.#maskTauMs = tracking.tauMs ?? SMOOTHER_DEFAULTS.tauMs;
  }

  /**
   * Detect on the next frame: no track to predict, or the last detection missed a track for the first time (one
   * look at once to find it again; a face the detector keeps missing is looked for at the usual cadence, else one
   * such face made every frame a detection frame: docs/performance.md).
   */
  get needsDetection(): boolean {
    return this.#active.length === 0 || this.#lostSinceDetection;
  }

  /** Tracks alive (tentative, confirmed, or lost but not ended). */
  get trackCount(): number {
    return this.#tracker.tracks.length;
  }

  /** Lowest detection score worth giving the tracker (its second association round uses low scores). */
  get minDetectionScore(): number {
    return this.#tracker.options.lowScore;
  }

  /** Moves the tracks to `ts` (with detections when the detector ran); returns the boxes to classify, in order. */
  step(ts: number, detections: FaceBox[] | null): { trackId: string; box: Box; score: number }[] {
    const result = detections ? this.#tracker.update(ts, detections) : this.#tracker.predict(ts);
    if (detections) this.#lostSinceDetection = result.missed.some((t) => t.misses === 1);
    for (const track of result.ended) this.#end(track.id, ts);
    for (const id of [...this.#states.keys()]) {
      if (!this.#tracker.tracks.some((t) => t.id === id)) this.#states.delete(id); // tentative tracks that died
    }
    this.#active = result.active;
    return result.active.map((t) => ({ trackId: t.id, box: t.box, score: t.score }));
  }

  /** The emotion scores for the boxes of the last `step`, in the same order; returns the events they cause. */
  observe(ts: number, frame: FrameInfo, probs: readonly Float32Array[]): BusEvent[] {
    const events = this.#pendingEnds;
    this.#pendingEnds = [];
    this.#active.forEach((track, i) => {
      const p = probs[i];
      if (!p) return;
      const state = this.#state(track.id);
      const change = state.smoother.observe(ts, p);
      if (track.status !== 'confirmed') return;
      const smoothed = state.smoother.probs;
      const { valence, arousal } = valenceArousal(smoothed);
      const fields = {
        streamId: this.#streamId,
        trackId: track.id,
        ts,
        frameSeq: frame.seq,
        frame: { w: frame.w, h: frame.h },
        box: roundBox(track.box, frame),
        detScore: round(Math.min(1, Math.max(0, track.score))),
        emotion: { label: state.smoother.label, scores: roundedScores(smoothed) },
        valence: round(valence),
        arousal: round(arousal),
        mask: maskRecord(state.mask?.score),
      };
      state.last = fields;
      if (!state.announced) {
        state.announced = true;
        events.push({ type: 'face.new', ...fields });
        return;
      }
      if (change) events.push({ type: 'face.emotion', ...fields, from: change.from, to: change.to });
      events.push({ type: 'face.update', ...fields });
    });
    return events;
  }

  /**
   * Mask probabilities computed apart from the emotions (the live pipeline runs the mask head off the frame's path):
   * they reach the tracks still alive and show in their next events.
   */
  observeMasks(ts: number, trackIds: readonly string[], scores: Float32Array): void {
    trackIds.forEach((id, i) => {
      const score = scores[i];
      if (score === undefined || !this.#tracker.tracks.some((t) => t.id === id)) return;
      this.#observeMask(this.#state(id), ts, score);
    });
  }

  /** When this track last had a mask score (frame time), or undefined when it never had one. */
  lastMaskTs(trackId: string): number | undefined {
    return this.#states.get(trackId)?.mask?.ts;
  }

  /** A track's smoothed state: its label, and its mask probability when a mask model scored it. */
  smoothed(trackId: string): { label: EmotionLabel; announced: boolean; maskScore?: number } | undefined {
    const state = this.#states.get(trackId);
    if (!state) return undefined;
    return { label: state.smoother.label, announced: state.announced, maskScore: state.mask?.score };
  }

  #state(trackId: string): TrackState {
    let state = this.#states.get(trackId);
    if (!state) {
      state = { smoother: new EmotionSmoother(this.#smoothing), announced: false };
      this.#states.set(trackId, state);
    }
    return state;
  }

  /** Mask scores are smoothed in time like the emotions (same time constant). */
  #observeMask(state: TrackState, ts: number, score: number): void {
    const prev = state.mask;
    const alpha = prev ? 1 - Math.exp(-Math.max(0, ts - prev.ts) / this.#maskTauMs) : 1;
    state.mask = { score: prev ? prev.score + alpha * (score - prev.score) : score, ts };
  }

  /** Confirmed, announced faces with their smoothed label (for snapshots). */
  visible(): TrackedFace[] {
    return this.#active.flatMap((t) => {
      const state = this.#states.get(t.id);
      if (!state?.announced || !state.last) return [];
      const label = state.smoother.label;
      return [{ trackId: t.id, box: state.last.box, label, confidence: state.last.emotion.scores[label] }];
    });
  }

  /** Ends every track (the stream stopped); returns their `face.end` events. */
  endAll(ts: number): BusEvent[] {
    for (const track of this.#tracker.endAll()) this.#end(track.id, ts);
    this.#active = [];
    const events = this.#pendingEnds;
    this.#pendingEnds = [];
    return events;
  }

  #end(trackId: string, ts: number): void {
    const state = this.#states.get(trackId);
    this.#states.delete(trackId);
    if (!state?.announced || !state.last) return;
    const summary = state.smoother.summary(ts);
    this.#pendingEnds.push({
      type: 'face.end',
      ...state.last,
      ts: Math.max(ts, state.last.ts),
      durationMs: Math.round(summary.durationMs),
      dominant: summary.dominant,
      timeShare: roundedScores(EMOTION_LABELS.map((l) => summary.timeShare[l])),
    });
  }
}
