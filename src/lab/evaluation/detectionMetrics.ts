import { iou } from '../../core/geometry.js';
import type { Box } from '../../core/types.js';

export interface ScoredBox extends Box {
  score: number;
}

export interface DetectionImage {
  truth: Box[];
  detections: ScoredBox[];
}

export interface DetectionReport {
  /** Average precision at IoU 0.5, all-point interpolation (PASCAL VOC 2010 and later). */
  ap50: number;
  /** Recall and precision of all detections given (at the detector's own threshold). */
  recall: number;
  precision: number;
  truths: number;
  detections: number;
  /** The precision/recall curve, one point per detection in descending score order. */
  curve: { recall: number; precision: number; score: number }[];
}

/**
 * VOC-style evaluation: detections of all images sorted by descending score; each is a true positive when its best
 * IoU with a not-yet-matched ground-truth box of its image is ≥ `minIou`, else a false positive. AP is the area
 * under the precision/recall curve after making precision monotonically decreasing (all-point interpolation).
 */
export function detectionReport(images: readonly DetectionImage[], minIou = 0.5): DetectionReport {
  const truths = images.reduce((n, im) => n + im.truth.length, 0);
  const all = images.flatMap((im, i) => im.detections.map((d) => ({ d, i })));
  all.sort((a, b) => b.d.score - a.d.score);
  const used = images.map((im) => new Array<boolean>(im.truth.length).fill(false));
  let tp = 0;
  let fp = 0;
  const curve: DetectionReport['curve'] = [];
  for (const { d, i } of all) {
    const image = images[i] as DetectionImage;
    let best = -1;
    let bestIou = minIou;
    image.truth.forEach((t, k) => {
      const overlap = iou(d, t);
      if (!(used[i] as boolean[])[k] && overlap >= bestIou) {
        bestIou = overlap;
        best = k;
      }
    });
    if (best >= 0) {
      (used[i] as boolean[])[best] = true;
      tp++;
    } else {
      fp++;
    }
    curve.push({ recall: truths > 0 ? tp / truths : 0, precision: tp / (tp + fp), score: d.score });
  }
  return {
    ap50: averagePrecision(curve),
    recall: truths > 0 ? tp / truths : 0,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
    truths,
    detections: all.length,
    curve,
  };
}

/** All-point interpolated AP: Σ (r_k - r_{k-1}) · max precision at recall ≥ r_k. */
export function averagePrecision(curve: readonly { recall: number; precision: number }[]): number {
  const recalls = [0, ...curve.map((p) => p.recall), 1];
  const precisions = [0, ...curve.map((p) => p.precision), 0];
  for (let k = precisions.length - 2; k >= 0; k--) {
    precisions[k] = Math.max(precisions[k] as number, precisions[k + 1] as number);
  }
  let ap = 0;
  for (let k = 1; k < recalls.length; k++) {
    ap += ((recalls[k] as number) - (recalls[k - 1] as number)) * (precisions[k] as number);
  }
  return ap;
}
