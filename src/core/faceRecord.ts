import { valenceArousal } from './affect.js';
import { type EmotionLabel, type EmotionScores, scoresFromVector, topLabel } from './labels.js';
import type { Box, FaceAnalysis } from './types.js';

/**
 * How every face leaves the project, rounded once and the same way: on events, in `analyze`'s JSON lines and in
 * `/api/analyze` answers. Boxes are whole pixels inside the frame; scores, valence, arousal and detection scores
 * have four decimals; the seven scores still sum to exactly 1.
 */

export function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Rounded scores that still sum to exactly 1 (the rounding remainder goes to the largest). */
export function roundedScores(probs: ArrayLike<number>): EmotionScores {
  const values = Array.from(probs, (p) => round(p));
  const total = values.reduce((a, b) => a + b, 0);
  if (total > 0) {
    const top = values.indexOf(Math.max(...values));
    values[top] = round((values[top] as number) + 1 - total);
  }
  return scoresFromVector(values);
}

/** The box clipped to the frame, in whole pixels. */
export function roundBox(box: Box, frame: { w: number; h: number }): Box {
  const x = Math.max(0, Math.min(frame.w, box.x));
  const y = Math.max(0, Math.min(frame.h, box.y));
  return {
    x: Math.round(x),
    y: Math.round(y),
    w: Math.round(Math.max(0, Math.min(frame.w, box.x + box.w) - x)),
    h: Math.round(Math.max(0, Math.min(frame.h, box.y + box.h) - y)),
  };
}

export function maskRecord(score: number | undefined): FaceAnalysis['mask'] {
  return score === undefined ? null : { present: score >= 0.5, score: round(score) };
}

/** One face as it leaves the project: `probs` in our label order, `maskScore` when a mask model scored it. */
export function faceRecord(
  box: Box,
  detScore: number,
  probs: ArrayLike<number>,
  frame: { w: number; h: number },
  maskScore?: number,
): FaceAnalysis {
  const { valence, arousal } = valenceArousal(probs);
  return {
    box: roundBox(box, frame),
    detScore: round(Math.min(1, Math.max(0, detScore))),
    emotion: { label: topLabel(probs) as EmotionLabel, scores: roundedScores(probs) },
    valence: round(valence),
    arousal: round(arousal),
    mask: maskRecord(maskScore),
  };
}

/**
 * Faces found on a shrunk copy of an image, in the pixels of the original (`source`): boxes scaled and rounded
 * again; everything else unchanged. The identity when the sizes are equal.
 */
export function facesInSource(
  faces: FaceAnalysis[],
  analyzed: { width: number; height: number },
  source: { width: number; height: number },
): FaceAnalysis[] {
  if (analyzed.width === source.width && analyzed.height === source.height) return faces;
  const sx = source.width / analyzed.width;
  const sy = source.height / analyzed.height;
  const frame = { w: source.width, h: source.height };
  return faces.map((face) => ({
    ...face,
    box: roundBox({ x: face.box.x * sx, y: face.box.y * sy, w: face.box.w * sx, h: face.box.h * sy }, frame),
  }));
}
