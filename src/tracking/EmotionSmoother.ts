import type { SmootherOptions } from '../core/config.js';
import { EMOTION_LABELS, type EmotionLabel, NUM_EMOTIONS } from '../core/labels.js';

export type { SmootherOptions };

/** Defaults, measured on a recorded real-video sequence and on synthetic ones (docs/tracking.md). */
export const SMOOTHER_DEFAULTS: Readonly<SmootherOptions> = Object.freeze({
  tauMs: 1000,
  margin: 0.1,
  minHoldMs: 100,
});

export interface LabelChange {
  from: EmotionLabel;
  to: EmotionLabel;
}

/**
 * One track's emotion over time: an exponential moving average of the probability vector with a time constant
 * (alpha = 1 - exp(-dt/tau)), a label with hysteresis, and the time spent in each label for the end summary.
 */
export class EmotionSmoother {
  readonly #options: SmootherOptions;
  readonly #probs = new Float64Array(NUM_EMOTIONS);
  readonly #timeIn = new Float64Array(NUM_EMOTIONS);
  #label = -1;
  #challenger = -1;
  #challengerSince = 0;
  #lastTs = 0;
  #firstTs = 0;

  constructor(options: Partial<SmootherOptions> = {}) {
    this.#options = { ...SMOOTHER_DEFAULTS, ...options };
  }

  /** Adds one observation; returns the label change it caused, if any. */
  observe(ts: number, probs: ArrayLike<number>): LabelChange | undefined {
    if (this.#label < 0) {
      for (let i = 0; i < NUM_EMOTIONS; i++) this.#probs[i] = probs[i] ?? 0;
      normalise(this.#probs);
      this.#label = argmax(this.#probs);
      this.#firstTs = this.#lastTs = ts;
      return undefined;
    }
    const dt = Math.max(0, ts - this.#lastTs);
    this.#timeIn[this.#label] = (this.#timeIn[this.#label] as number) + dt;
    this.#lastTs = Math.max(this.#lastTs, ts);
    const alpha = 1 - Math.exp(-dt / this.#options.tauMs);
    for (let i = 0; i < NUM_EMOTIONS; i++) {
      this.#probs[i] = (this.#probs[i] as number) + alpha * ((probs[i] ?? 0) - (this.#probs[i] as number));
    }
    normalise(this.#probs);
    return this.#hysteresis(ts);
  }

  #hysteresis(ts: number): LabelChange | undefined {
    const best = argmax(this.#probs);
    const lead = (this.#probs[best] as number) - (this.#probs[this.#label] as number);
    if (best === this.#label || lead < this.#options.margin) {
      this.#challenger = -1;
      return undefined;
    }
    if (best !== this.#challenger) {
      this.#challenger = best;
      this.#challengerSince = ts;
    }
    if (ts - this.#challengerSince < this.#options.minHoldMs) return undefined;
    const from = EMOTION_LABELS[this.#label] as EmotionLabel;
    this.#label = best;
    this.#challenger = -1;
    return { from, to: EMOTION_LABELS[best] as EmotionLabel };
  }

  get started(): boolean {
    return this.#label >= 0;
  }

  /** The smoothed distribution, in the project's label order, summing to 1. */
  get probs(): Float64Array {
    return this.#probs;
  }

  get label(): EmotionLabel {
    return EMOTION_LABELS[Math.max(0, this.#label)] as EmotionLabel;
  }

  /** For the `face.end` summary: time tracked, share of that time per label, and the dominant label. */
  summary(endTs: number): { durationMs: number; timeShare: Record<EmotionLabel, number>; dominant: EmotionLabel } {
    const times = Float64Array.from(this.#timeIn);
    if (this.#label >= 0) times[this.#label] = (times[this.#label] as number) + Math.max(0, endTs - this.#lastTs);
    const total = times.reduce((a, b) => a + b, 0);
    const timeShare = {} as Record<EmotionLabel, number>;
    EMOTION_LABELS.forEach((label, i) => {
      timeShare[label] = total > 0 ? (times[i] as number) / total : 0;
    });
    const dominant = total > 0 ? (EMOTION_LABELS[argmax(times)] as EmotionLabel) : this.label;
    return { durationMs: Math.max(0, endTs - this.#firstTs), timeShare, dominant };
  }
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

function normalise(p: Float64Array): void {
  const sum = p.reduce((a, b) => a + b, 0);
  if (sum > 0) for (let i = 0; i < p.length; i++) p[i] = (p[i] as number) / sum;
}
