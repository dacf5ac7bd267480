import { describe, expect, it } from 'vitest';
import { classificationReport } from '../../../src/lab/evaluation/classificationMetrics.js';
import { averagePrecision, detectionReport } from '../../../src/lab/evaluation/detectionMetrics.js';

describe('classification metrics (checked against hand-computed values)', () => {
  it('accuracy, per-class precision/recall/F1/support, macro-F1, confusion', () => {
    // happy x3 (2 right, 1 called sad), sad x2 (1 right, 1 called happy), angry x1 (called happy)
    const truth = ['happy', 'happy', 'happy', 'sad', 'sad', 'angry'] as const;
    const predicted = ['happy', 'happy', 'sad', 'sad', 'happy', 'happy'] as const;
    const r = classificationReport(truth, predicted);
    expect(r.n).toBe(6);
    expect(r.accuracy).toBeCloseTo(3 / 6, 12);
    // happy: TP 2, predicted 4 → P 0.5; support 3 → R 2/3; F1 = 2·0.5·(2/3)/(0.5+2/3) = 4/7
    expect(r.perClass.happy).toEqual({ precision: 0.5, recall: 2 / 3, f1: expect.closeTo(4 / 7, 12), support: 3 });
    // sad: TP 1, predicted 2 → P 0.5; support 2 → R 0.5; F1 0.5
    expect(r.perClass.sad).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(r.perClass.angry).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(r.macroF1).toBeCloseTo((4 / 7 + 0.5) / 7, 12);
    const row = (label: string) => r.confusion.counts[r.confusion.rows.indexOf(label as never)];
    expect(row('happy')).toEqual([0, 0, 0, 2, 1, 0, 0]);
    expect(row('angry')).toEqual([0, 0, 0, 1, 0, 0, 0]);
    expect(r.confusion.rowNormalised[r.confusion.rows.indexOf('happy')]?.[3]).toBeCloseTo(2 / 3, 12);
  });

  it('contempt (FER+) rows and unanswered images count in n and are always wrong', () => {
    const r = classificationReport(['contempt', 'happy', 'happy'], ['happy', 'happy', null]);
    expect(r.n).toBe(3);
    expect(r.accuracy).toBeCloseTo(1 / 3, 12);
    expect(r.unanswered).toBe(1);
    expect(r.confusion.counts[7]).toEqual([0, 0, 0, 1, 0, 0, 0]);
    expect(r.perClass.happy.support).toBe(2);
    expect(r.perClass.happy.recall).toBe(0.5);
  });
});

describe('detection metrics', () => {
  const box = (x: number, y: number) => ({ x, y, w: 10, h: 10 });

  it('AP is 1 for perfect detections, and all-point interpolation on a known curve', () => {
    const perfect = detectionReport([
      {
        truth: [box(0, 0), box(50, 50)],
        detections: [
          { ...box(0, 0), score: 0.9 },
          { ...box(50, 50), score: 0.8 },
        ],
      },
    ]);
    expect(perfect.ap50).toBe(1);
    expect(perfect.recall).toBe(1);
    // Ranked: TP (0.9), FP (0.8), TP (0.7); 2 truths. Curve: (0.5, 1), (0.5, 0.5), (1, 2/3).
    // Interpolated precision: 1 up to recall 0.5, then 2/3 up to recall 1 → AP = 0.5·1 + 0.5·2/3 = 5/6.
    const r = detectionReport([
      {
        truth: [box(0, 0), box(50, 50)],
        detections: [
          { ...box(0, 0), score: 0.9 },
          { ...box(200, 200), score: 0.8 },
          { ...box(51, 51), score: 0.7 },
        ],
      },
    ]);
    expect(r.curve.map((p) => [p.recall, p.precision])).toEqual([
      [0.5, 1],
      [0.5, 0.5],
      [1, 2 / 3],
    ]);
    expect(r.ap50).toBeCloseTo(5 / 6, 12);
    expect(r.precision).toBeCloseTo(2 / 3, 12);
  });

  it('a second detection of the same face is a false positive; a box under IoU 0.5 does not count', () => {
    const r = detectionReport([
      {
        truth: [box(0, 0)],
        detections: [
          { ...box(0, 0), score: 0.9 },
          { ...box(1, 1), score: 0.8 },
          { ...box(6, 6), score: 0.95 },
        ],
      },
    ]);
    // box(6,6) overlaps 16/184 < 0.5: FP first; then TP; then the duplicate FP.
    expect(r.curve.map((p) => p.precision)).toEqual([0, 0.5, 1 / 3]);
    expect(r.ap50).toBeCloseTo(0.5, 12);
    expect(averagePrecision([])).toBe(0);
  });
});
