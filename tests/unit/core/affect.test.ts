import { describe, expect, it } from 'vitest';
import { CIRCUMPLEX, valenceArousal } from '../../../src/core/affect.js';
import { EMOTION_LABELS } from '../../../src/core/labels.js';

const oneHot = (label: string) => EMOTION_LABELS.map((l) => (l === label ? 1 : 0));

describe('valenceArousal', () => {
  it('puts each pure category at its circumplex point', () => {
    for (const label of EMOTION_LABELS) {
      expect(valenceArousal(oneHot(label))).toEqual(CIRCUMPLEX[label]);
    }
  });

  it('places the categories in the quadrants of the circumplex', () => {
    expect(CIRCUMPLEX.happy.valence).toBeGreaterThan(0.9);
    expect(CIRCUMPLEX.sad.valence).toBeLessThan(0);
    expect(CIRCUMPLEX.sad.arousal).toBeLessThan(0);
    for (const l of ['angry', 'fear', 'disgust'] as const) {
      expect(CIRCUMPLEX[l].valence).toBeLessThan(0);
      expect(CIRCUMPLEX[l].arousal).toBeGreaterThan(0);
    }
    expect(CIRCUMPLEX.surprise.arousal).toBeGreaterThan(0.9);
    expect(CIRCUMPLEX.neutral).toEqual({ valence: 0, arousal: 0 });
  });

  it('is the probability-weighted mean, within [-1, 1], and normalises unnormalised input', () => {
    const probs = [0.1, 0, 0, 0.6, 0.2, 0, 0.1];
    const { valence, arousal } = valenceArousal(probs);
    const expectedV = 0.1 * CIRCUMPLEX.angry.valence + 0.6 * CIRCUMPLEX.happy.valence + 0.2 * CIRCUMPLEX.sad.valence;
    expect(valence).toBeCloseTo(expectedV, 6);
    expect(Math.abs(arousal)).toBeLessThanOrEqual(1);
    const scaled = valenceArousal(probs.map((p) => p * 3));
    expect(scaled.valence).toBeCloseTo(valence, 9);
    expect(scaled.arousal).toBeCloseTo(arousal, 9);
    expect(valenceArousal([0, 0, 0, 0, 0, 0, 0])).toEqual({ valence: 0, arousal: 0 });
  });
});
