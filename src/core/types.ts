import type { EmotionLabel, EmotionScores } from './labels.js';

/** One decoded video frame: packed RGB, 3 bytes per pixel, row-major, no padding. */
export interface Frame {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Capture time in ms since the epoch (monotonic within a source). */
  readonly ts: number;
  /** Sequence number within its source, from 0. */
  readonly seq: number;
  /**
   * Gives the frame's memory back to its source for the next frames (live sources recycle it). Call it once nothing
   * reads the frame any more (analysis done, no longer the latest); the data must not be read after. Optional: a frame
   * never released is garbage-collected.
   */
  readonly release?: () => void;
}

/** An axis-aligned box in pixels of the frame it was found in. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A detected face. */
export interface FaceBox extends Box {
  score: number;
}

export interface EmotionResult {
  label: EmotionLabel;
  scores: EmotionScores;
}

/** Everything the pipeline knows about one face in one frame. */
export interface FaceAnalysis {
  box: Box;
  detScore: number;
  emotion: EmotionResult;
  valence: number;
  arousal: number;
  mask: { present: boolean; score: number } | null;
}

/** A packed RGB image (3 bytes per pixel, row-major). A `Frame` is one. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}
