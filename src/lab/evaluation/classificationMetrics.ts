import { EMOTION_LABELS, type EmotionLabel } from '../../core/labels.js';
import type { TruthLabel } from './labelledImages.js';

export const TRUTH_ROWS: readonly TruthLabel[] = [...EMOTION_LABELS, 'contempt'];

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  n: number;
  /** Images where no prediction was made (no face found with `--detect`): counted in `n`, always wrong. */
  unanswered: number;
  accuracy: number;
  /** Mean F1 over the seven classes (contempt is not a class the model can answer). */
  macroF1: number;
  perClass: Record<EmotionLabel, ClassMetrics>;
  /** Rows: true label (seven, then contempt); columns: predicted label (seven). */
  confusion: { rows: TruthLabel[]; cols: EmotionLabel[]; counts: number[][]; rowNormalised: number[][] };
}

/**
 * Accuracy, per-class precision / recall / F1 / support, macro-F1, and the confusion matrix (counts and
 * row-normalised). Contempt rows (FER+) are counted in `n` and always wrong.
 */
export function classificationReport(
  truth: readonly TruthLabel[],
  predicted: readonly (EmotionLabel | null)[],
): ClassificationReport {
  if (truth.length !== predicted.length) throw new RangeError('truth and predictions differ in length');
  const counts = TRUTH_ROWS.map(() => EMOTION_LABELS.map(() => 0));
  let unanswered = 0;
  truth.forEach((t, i) => {
    const p = predicted[i];
    if (!p) {
      unanswered++;
      return;
    }
    const row = counts[TRUTH_ROWS.indexOf(t)] as number[];
    const col = EMOTION_LABELS.indexOf(p);
    row[col] = (row[col] as number) + 1;
  });
  const n = truth.length;
  const correct = EMOTION_LABELS.reduce((sum, _, k) => sum + ((counts[k] as number[])[k] as number), 0);
  const perClass = {} as Record<EmotionLabel, ClassMetrics>;
  EMOTION_LABELS.forEach((label, k) => {
    const tp = (counts[k] as number[])[k] as number;
    const support = truth.filter((t) => t === label).length;
    const predictedK = counts.reduce((sum, row) => sum + (row[k] as number), 0);
    const precision = predictedK > 0 ? tp / predictedK : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[label] = { precision, recall, f1, support };
  });
  const macroF1 = EMOTION_LABELS.reduce((sum, l) => sum + perClass[l].f1, 0) / EMOTION_LABELS.length;
  const rowNormalised = counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((c) => (total > 0 ? c / total : 0));
  });
  return {
    n,
    unanswered,
    accuracy: n > 0 ? correct / n : 0,
    macroF1,
    perClass,
    confusion: { rows: [...TRUTH_ROWS], cols: [...EMOTION_LABELS], counts, rowNormalised },
  };
}
