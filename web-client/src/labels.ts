import type { EmotionLabel } from '../../src/core/labels.js';

/**
 * The seven labels in the project's order (src/core/labels.ts). The client keeps its own copy so that nothing of the
 * server is bundled; the type checks below fail the build if the two lists ever differ.
 */
export const LABELS = [
  'angry',
  'disgust',
  'fear',
  'happy',
  'sad',
  'surprise',
  'neutral',
] as const satisfies readonly EmotionLabel[];

type Missing = Exclude<EmotionLabel, (typeof LABELS)[number]>;
/** `true` only when every server label is in LABELS (a compile error otherwise). */
export const LABELS_MATCH_SERVER: [Missing] extends [never] ? true : never = true;

/** One colour per label, each readable as text on the dark panels and as a box stroke on video. */
export const LABEL_COLORS: Readonly<Record<EmotionLabel, string>> = {
  angry: '#ff6b6b',
  disgust: '#7bd88f',
  fear: '#c792ea',
  happy: '#ffd166',
  sad: '#6cb6ff',
  surprise: '#ff9f43',
  neutral: '#c0c4cc',
};

export function isEmotionLabel(value: unknown): value is EmotionLabel {
  return typeof value === 'string' && (LABELS as readonly string[]).includes(value);
}
