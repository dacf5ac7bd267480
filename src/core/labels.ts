/** The one label order used everywhere inside the project, on the wire and in reports. */
export const EMOTION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;

export type EmotionLabel = (typeof EMOTION_LABELS)[number];

export type EmotionScores = Record<EmotionLabel, number>;

export const NUM_EMOTIONS = EMOTION_LABELS.length;

/** Spellings of our labels found in models and data sets (folder names, model label lists). */
const ALIASES: Record<string, EmotionLabel> = {
  angry: 'angry',
  anger: 'angry',
  disgust: 'disgust',
  disgusted: 'disgust',
  fear: 'fear',
  fearful: 'fear',
  scared: 'fear',
  happy: 'happy',
  happiness: 'happy',
  sad: 'sad',
  sadness: 'sad',
  surprise: 'surprise',
  surprised: 'surprise',
  neutral: 'neutral',
};

/** Maps a spelling (case-insensitive) to our label, or undefined when it is not one of the seven. */
export function toEmotionLabel(name: string): EmotionLabel | undefined {
  return ALIASES[name.trim().toLowerCase()];
}

/** Turns a probability vector in our label order into a record keyed by label. */
export function scoresFromVector(probs: ArrayLike<number>): EmotionScores {
  const out = {} as EmotionScores;
  EMOTION_LABELS.forEach((label, i) => {
    out[label] = probs[i] ?? 0;
  });
  return out;
}

/** Index of the largest value (first wins on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if ((values[i] ?? -Infinity) > (values[best] ?? -Infinity)) best = i;
  }
  return best;
}

export function topLabel(probs: ArrayLike<number>): EmotionLabel {
  return EMOTION_LABELS[argmax(probs)] ?? 'neutral';
}
