import { valenceArousal } from '../core/affect.js';
import { scoresFromVector, topLabel } from '../core/labels.js';
import type { Box, FaceAnalysis, FaceBox, RgbImage } from '../core/types.js';
import { cropBatch } from '../inference/faceCrop.js';
import type { InferencePool } from '../inference/InferencePool.js';
import { resolveModel } from '../inference/modelManifest.js';

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

/** Probabilities → the per-face record of INTERFACES.md (label, seven scores, valence, arousal, mask). */
export function describeFace(box: FaceBox, probs: Float32Array, maskScore?: number): FaceAnalysis {
  const { valence, arousal } = valenceArousal(probs);
  return {
    box: { x: box.x, y: box.y, w: box.w, h: box.h },
    detScore: box.score,
    emotion: { label: topLabel(probs), scores: scoresFromVector(probs) },
    valence,
    arousal,
    mask: maskScore === undefined ? null : { present: maskScore >= 0.5, score: maskScore },
  };
}

/** Detect → crop → classify (and mask, when a mask model is given) for one image. Frames are independent. */
export class FaceAnalyzer {
  readonly #pool: InferencePool;
  readonly #detector: string;
  readonly #model: EmotionModelSpec;
  readonly #mask: EmotionModelSpec | undefined;

  constructor(pool: InferencePool, detector: string, emotionModel: string, maskModel?: string | null) {
    this.#pool = pool;
    this.#detector = detector;
    this.#model = emotionModelSpec(emotionModel);
    this.#mask = maskModel ? emotionModelSpec(maskModel) : undefined;
  }

  detect(image: RgbImage, minScore?: number): Promise<FaceBox[]> {
    return this.#pool.detect(this.#detector, image, minScore);
  }

  async analyze(image: RgbImage): Promise<FaceAnalysis[]> {
    const boxes = await this.detect(image);
    const [probs, masks] = await Promise.all([this.classifyBoxes(image, boxes), this.maskBoxes(image, boxes)]);
    return boxes.map((box, i) => describeFace(box, probs[i] as Float32Array, masks?.[i]));
  }

  /** Mask probabilities for these boxes, or undefined without a mask model. */
  async maskBoxes(image: RgbImage, boxes: readonly Box[]): Promise<Float32Array | undefined> {
    if (!this.#mask) return undefined;
    return this.#pool.maskScores(this.#mask.name, cropBatch(image, boxes, this.#mask.size, this.#mask.margin));
  }

  classifyBoxes(image: RgbImage, boxes: readonly Box[]): Promise<Float32Array[]> {
    return this.#pool.classify(this.#model.name, cropBatch(image, boxes, this.#model.size, this.#model.margin));
  }
}
