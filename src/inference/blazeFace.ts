import type { FaceBox } from '../core/types.js';
import { nonMaxSuppression } from './FaceDetector.js';

/** Values per anchor in the model's output: score logit, box (cx, cy, w, h offsets), 6 keypoints (x, y). */
const ROW = 17;

/**
 * The detector's 896 rows (anchor order: the 16x16 grid's 512 first, then the 8x8 grid's 384; 17 values each) as
 * face boxes in the image's pixels: scored, un-letterboxed, clipped, suppressed. Shared by the tfjs and ONNX engines.
 */
export function decodeBlazeFace(
  rows: Float32Array,
  anchors: Float32Array,
  o: {
    size: number;
    image: { width: number; height: number };
    minScore: number;
    iouThreshold: number;
    maxFaces: number;
  },
): FaceBox[] {
  const { image } = o;
  const side = Math.max(image.width, image.height);
  const padX = (side - image.width) / 2;
  const padY = (side - image.height) / 2;
  const scale = side / o.size;
  const candidates: FaceBox[] = [];
  const logitFloor = Math.log(o.minScore / (1 - o.minScore));
  const count = anchors.length / 2;
  for (let i = 0; i < count; i++) {
    const logit = rows[i * ROW] as number;
    if (logit < logitFloor) continue;
    const cx = (rows[i * ROW + 1] as number) + (anchors[i * 2] as number);
    const cy = (rows[i * ROW + 2] as number) + (anchors[i * 2 + 1] as number);
    const w = rows[i * ROW + 3] as number;
    const h = rows[i * ROW + 4] as number;
    candidates.push(
      clipBox(
        { x: (cx - w / 2) * scale - padX, y: (cy - h / 2) * scale - padY, w: w * scale, h: h * scale },
        image,
        1 / (1 + Math.exp(-logit)),
      ),
    );
  }
  return nonMaxSuppression(
    candidates.filter((b) => b.w > 1 && b.h > 1),
    o.iouThreshold,
    o.maxFaces,
  );
}

/** The letterbox that makes the image square (top, bottom, left, right), odd pixels at the bottom and right. */
export function letterbox(image: { width: number; height: number }) {
  const side = Math.max(image.width, image.height);
  const padX = (side - image.width) / 2;
  const padY = (side - image.height) / 2;
  return { side, top: Math.floor(padY), bottom: Math.ceil(padY), left: Math.floor(padX), right: Math.ceil(padX) };
}

/** Anchor centres in input pixels: stride 16 with 2 anchors per cell, then stride 32 with 6. */
export function blazeFaceAnchors(size: number): Float32Array {
  const layers = [
    { stride: size / 16, perCell: 2 },
    { stride: size / 8, perCell: 6 },
  ];
  const out: number[] = [];
  for (const { stride, perCell } of layers) {
    const cells = Math.ceil(size / stride);
    for (let row = 0; row < cells; row++) {
      for (let col = 0; col < cells; col++) {
        for (let k = 0; k < perCell; k++) out.push(stride * (col + 0.5), stride * (row + 0.5));
      }
    }
  }
  return Float32Array.from(out);
}

function clipBox(
  b: { x: number; y: number; w: number; h: number },
  image: { width: number; height: number },
  score: number,
): FaceBox {
  const x1 = Math.max(0, b.x);
  const y1 = Math.max(0, b.y);
  const x2 = Math.min(image.width, b.x + b.w);
  const y2 = Math.min(image.height, b.y + b.h);
  return { x: x1, y: y1, w: Math.max(0, x2 - x1), h: Math.max(0, y2 - y1), score };
}
