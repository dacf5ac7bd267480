import { describe, expect, it } from 'vitest';
import { EMOTION_LABELS } from '../../../src/core/labels.js';
import { EmotionSmoother, SMOOTHER_DEFAULTS } from '../../../src/tracking/EmotionSmoother.js';
import { seededRandom as rng } from '../../helpers/seededRandom.js';
import { replay } from './sequenceReplay.js';

/**
 * Scores of a face clearly showing `truth`, as a frame-by-frame classifier reports them: most frames right, but
 * three in ten "confused" frames where another label wins (so the raw argmax flickers).
 */
function noisy(random: () => number, truth: number): number[] {
  const confused = random() < 0.3;
  const other = (truth + 1 + Math.floor(random() * 6)) % 7;
  const p = EMOTION_LABELS.map((_, i) => {
    if (i === truth) return confused ? 0.25 : 0.7;
    if (confused && i === other) return 0.6;
    return 0.02 + random() * 0.06;
  });
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / sum);
}

const argmax = (p: number[]) => p.indexOf(Math.max(...p));
const flips = (xs: unknown[]) => xs.filter((x, i) => i > 0 && x !== xs[i - 1]).length;

describe('EmotionSmoother', () => {
  it('on a noisy synthetic sequence: far fewer flips than the raw label, and it follows the real change in time', () => {
    for (const fps of [5, 30]) {
      const random = rng(7);
      const smoother = new EmotionSmoother();
      const raw: number[] = [];
      const smoothed: string[] = [];
      let followedAt = -1;
      for (let t = 0; t <= 10_000; t += 1000 / fps) {
        const truth = t < 5000 ? 3 : 4; // happy, then sad from 5 s
        const p = noisy(random, truth);
        smoother.observe(t, p);
        raw.push(argmax(p));
        smoothed.push(smoother.label);
        if (t >= 5000 && followedAt < 0 && smoother.label === 'sad') followedAt = t;
        expect(smoother.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      }
      expect(flips(raw)).toBeGreaterThan(10);
      // The one real change, plus at most one early correction when the very first frame was a confused one.
      expect(flips(smoothed)).toBeLessThanOrEqual(2);
      expect(smoothed.at(-1)).toBe('sad');
      const lag = followedAt - 5000;
      expect(lag).toBeGreaterThanOrEqual(0);
      // About one time constant (measured 0.8-1.2 s with the defaults), plus the hold and sampling.
      expect(lag).toBeLessThanOrEqual(SMOOTHER_DEFAULTS.tauMs + SMOOTHER_DEFAULTS.minHoldMs + 2 * (1000 / fps));
      console.log(`fps ${fps}: raw flips ${flips(raw)}, smoothed ${flips(smoothed)}, lag ${Math.round(lag)} ms`);
    }
  });

  it('behaves the same at 5 and 30 fps (a time constant, not a per-frame factor)', () => {
    const at = (fps: number) => {
      const s = new EmotionSmoother();
      // The change happens at 400 ms, a sample time on both grids.
      for (let i = 0; i <= fps; i++) {
        const t = (i * 1000) / fps;
        s.observe(t, t < 401 ? [0, 0, 0, 1, 0, 0, 0] : [0, 0, 0, 0, 1, 0, 0]);
      }
      return s.probs[4] as number;
    };
    const expected = 1 - Math.exp(-600 / SMOOTHER_DEFAULTS.tauMs);
    expect(at(5)).toBeCloseTo(expected, 6);
    expect(at(30)).toBeCloseTo(expected, 6);
  });

  it('reports the change once, with from and to, and summarises time per label', () => {
    const s = new EmotionSmoother({ tauMs: 100, margin: 0.1, minHoldMs: 0 });
    const changes = [];
    for (let t = 0; t <= 4000; t += 100) {
      const change = s.observe(t, t < 1000 ? [0, 0, 0, 1, 0, 0, 0] : [0, 0, 0, 0, 0, 0, 1]);
      if (change) changes.push(change);
    }
    expect(changes).toEqual([{ from: 'happy', to: 'neutral' }]);
    const summary = s.summary(4000);
    expect(summary.durationMs).toBe(4000);
    expect(summary.dominant).toBe('neutral');
    expect(summary.timeShare.happy).toBeGreaterThan(0.2);
    expect(summary.timeShare.happy).toBeLessThan(0.35);
    expect(Object.values(summary.timeShare).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('on the recorded real video: far fewer label flips than raw, and about as many tracks as faces', () => {
    const result = replay();
    expect(result.frames).toBeGreaterThan(80);
    expect(result.rawFlips).toBeGreaterThan(20); // measured 38
    expect(result.smoothedFlips).toBeLessThanOrEqual(result.rawFlips / 5); // measured 38 -> 1
    // The clip shows 1-2 people across several shots; each shot may start new tracks.
    expect(result.tracks).toBeGreaterThanOrEqual(2);
    expect(result.tracks).toBeLessThanOrEqual(8);
  });
});
