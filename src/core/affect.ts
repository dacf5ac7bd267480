import { EMOTION_LABELS, type EmotionLabel } from './labels.js';

/**
 * Angle of each category on Russell's circumplex of affect (degrees; 0° = pleasure, 90° = arousal).
 * Source and choices: docs/affect.md. Russell (1980) scaled 28 affect words onto a circle; we take the angle of
 * the word that names each of our categories, put it on the unit circle, and keep neutral at the origin.
 * Disgust is not one of Russell's 28 words: it sits between "annoyed" (123°) and "distressed" (137.5°).
 */
export const CIRCUMPLEX_DEGREES: Readonly<Record<Exclude<EmotionLabel, 'neutral'>, number>> = {
  happy: 7.8, // "happy"
  surprise: 69.8, // "astonished"
  angry: 99.0, // "angry"
  fear: 116.0, // "afraid"
  disgust: 130.0, // our choice, see above
  sad: 207.5, // "sad"
};

export const CIRCUMPLEX: Readonly<Record<EmotionLabel, { valence: number; arousal: number }>> = Object.freeze({
  ...(Object.fromEntries(
    Object.entries(CIRCUMPLEX_DEGREES).map(([label, deg]) => {
      const rad = (deg * Math.PI) / 180;
      return [label, { valence: round3(Math.cos(rad)), arousal: round3(Math.sin(rad)) }];
    }),
  ) as Record<Exclude<EmotionLabel, 'neutral'>, { valence: number; arousal: number }>),
  neutral: { valence: 0, arousal: 0 },
});

/**
 * Valence and arousal of a face: the expectation of the category points under the predicted distribution.
 * `valence > 0` is the "positive" class of the binary valence view.
 */
export function valenceArousal(probs: ArrayLike<number>): { valence: number; arousal: number } {
  let valence = 0;
  let arousal = 0;
  let total = 0;
  EMOTION_LABELS.forEach((label, i) => {
    const p = probs[i] ?? 0;
    valence += p * CIRCUMPLEX[label].valence;
    arousal += p * CIRCUMPLEX[label].arousal;
    total += p;
  });
  if (total <= 0) return { valence: 0, arousal: 0 };
  return { valence: clamp(valence / total), arousal: clamp(arousal / total) };
}

function clamp(v: number): number {
  return Math.max(-1, Math.min(1, v));
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
