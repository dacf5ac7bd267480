import { valenceArousal } from '../core/affect.js';
import { scoresFromVector, topLabel } from '../core/labels.js';
import type { Box, FaceAnalysis, FaceBox, RgbImage } from '../core/types.js';
import { cropBatch } from './faceCrop.js';
import type { InferencePool } from './InferencePool.js';
import { resolveModel } from './modelManifest.js';

export interface EmotionModelSpec {
  name: string;
  size: number;
  margin: number;
}

/** What the main thread needs to know of an emotion model to cut crops for it. */
export function emotionModelSpec(nameOrPath: string): EmotionModelSpec {
  const { manifest } = resolveModel(nameOrPath);
  return { name: nameOrPath, size: manifest.input.size, margin: manifest.crop?.margin ?? 0.25 };
}

/** Probabilities → the per-face record of INTERFACES.md (label, seven scores, valence, arousal). */
export function describeFace(box: FaceBox, probs: Float32Array): FaceAnalysis {
  const { valence, arousal } = valenceArousal(probs);
  return {
    box: { x: box.x, y: box.y, w: box.w, h: box.h },
    detScore: box.score,
    emotion: { label: topLabel(probs), scores: scoresFromVector(probs) },
    valence,
    arousal,
    mask: null,
  };
}

/** Detect → crop → classify for one image, on a worker pool. Frames are independent (no tracking). */
export class FaceAnalyzer {
  readonly #pool: InferencePool;
  readonly #detector: string;
  readonly #model: EmotionModelSpec;

  constructor(pool: InferencePool, detector: string, emotionModel: string) {
    this.#pool = pool;
    this.#detector = detector;
    this.#model = emotionModelSpec(emotionModel);
  }

  detect(image: RgbImage, minScore?: number): Promise<FaceBox[]> {
    return this.#pool.detect(this.#detector, image, minScore);
  }

  async analyze(image: RgbImage): Promise<FaceAnalysis[]> {
    const boxes = await this.detect(image);
    const probs = await this.classifyBoxes(image, boxes);
    return boxes.map((box, i) => describeFace(box, probs[i] as Float32Array));
  }

  classifyBoxes(image: RgbImage, boxes: readonly Box[]): Promise<Float32Array[]> {
    return this.#pool.classify(this.#model.name, cropBatch(image, boxes, this.#model.size, this.#model.margin));
  }
}
