import { iou } from '../core/geometry.js';
import type { FaceBox, RgbImage } from '../core/types.js';

/** A face detector that runs in this thread. Boxes are in the image's pixels, best score first. */
export interface FaceDetector {
  readonly name: string;
  detect(image: RgbImage, minScore?: number): Promise<FaceBox[]>;
  dispose(): void | Promise<void>;
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
