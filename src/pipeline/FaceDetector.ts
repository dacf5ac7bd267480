import type { FaceBox, RgbImage } from '../core/types.js';

/** A face detector that runs in this thread. Boxes are in the image's pixels, best score first. */
export interface FaceDetector {
  readonly name: string;
  detect(image: RgbImage, minScore?: number): Promise<FaceBox[]>;
  dispose(): void;
}

/** Greedy non-maximum suppression on boxes sorted by descending score. */
export function nonMaxSuppression(boxes: FaceBox[], iouThreshold: number, maxFaces: number): FaceBox[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: FaceBox[] = [];
  for (const box of sorted) {
    if (kept.length >= maxFaces) break;
    if (kept.every((k) => iou(k, box) <= iouThreshold)) kept.push(box);
  }
  return kept;
}

export function iou(a: { x: number; y: number; w: number; h: number }, b: typeof a): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.w, b.x + b.w);
  const y2 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}
