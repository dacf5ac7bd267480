import { BATCHING_DEFAULTS, type Config, type MotionOptions, type ReuseOptions } from '../core/config.js';
import type { BusEvent } from '../core/events.js';
import { faceRecord } from '../core/faceRecord.js';
import type { EmotionLabel } from '../core/labels.js';
import { stageTimes } from '../core/stageTimes.js';
import type { Box, FaceAnalysis, FaceBox, Frame, RgbImage } from '../core/types.js';
import { type BatcherOptions, type BatchObserver, EmotionBatcher } from '../inference/EmotionBatcher.js';
import { cropRegion } from '../inference/faceCrop.js';
import type { InferencePool } from '../inference/InferencePool.js';
import { type CropSpec, cropSpec } from '../inference/modelManifest.js';
import { FaceEventDecider } from '../tracking/FaceEventDecider.js';
import { MotionGate } from './MotionGate.js';
import { ScoreReuse } from './ScoreReuse.js';

/** The models a stream's frames go through. The emotion model is the batcher's. */
export interface AnalysisModels {
  detector: string;
  emotion: CropSpec;
  /** A mask head run on the same faces, when configured. */
  mask?: CropSpec;
}

/** What a frame step runs on: shared by every stream of a process. */
export interface AnalysisEngine {
  pool: InferencePool;
  /** The cross-stream batcher in front of the emotion model. */
  batcher: EmotionBatcher;
  models: AnalysisModels;
  /** Told how long each inference stage of a frame took (for metrics). */
  onStage?: (stage: AnalysisStage, seconds: number) => void;
}

export type AnalysisStage = 'detect' | 'classify' | 'mask';

/**
 * An engine on `pool` for these models (by name; `mask` null for none), with its own batcher (close it with
 * `engine.batcher.close()` before the pool).
 */
export function createAnalysisEngine(
  pool: InferencePool,
  models: { detector: string; emotion: string; mask?: string | null },
  batching: BatcherOptions = BATCHING_DEFAULTS,
  observe: { onBatch?: BatchObserver; onStage?: AnalysisEngine['onStage'] } = {},
): AnalysisEngine {
  const emotion = cropSpec(models.emotion);
  return {
    pool,
    batcher: new EmotionBatcher(pool, emotion, batching, observe.onBatch),
    models: { detector: models.detector, emotion, mask: models.mask ? cropSpec(models.mask) : undefined },
    onStage: observe.onStage,
  };
}

export interface FrameAnalyzerOptions {
  /** Run the detector every k frames (1 = every frame); the tracker predicts the boxes in between. */
  detectEvery: number;
  /** Tracker and smoother settings; unset ones keep their defaults. */
  tracking?: Config['tracking'];
  /** Skip frames where nothing moves and no face is tracked (absent: never skip). */
  motion?: MotionOptions;
  /** Reuse a face's scores while its crop stays the same (absent: classify every face on every frame). */
  reuse?: ReuseOptions;
}

/** How often a track's mask score is refreshed (a track without one gets one on its first detection frame). */
export const MASK_INTERVAL_MS = 1000;

/** A face on an analyzed frame: this frame's scores, and its track's smoothed label and mask. */
export interface TrackedFaceRecord extends FaceAnalysis {
  /** The track's id once it is announced (`face.new`), else null. */
  trackId: string | null;
  smoothedLabel: EmotionLabel | null;
}

/** What one frame step produced. */
export interface FrameResult {
  frame: Frame;
  /** The motion gate skipped the frame: nothing moved and no face was tracked (no faces, no events). */
  skipped: boolean;
  /** Whether the detector ran on this frame (else the tracker predicted the boxes). */
  detected: boolean;
  /** Faces the emotion model ran on, and faces whose unchanged crop kept their last scores. */
  classified: number;
  reused: number;
  faces: TrackedFaceRecord[];
  /** The face events this frame caused, ready for the bus. */
  events: BusEvent[];
}

/**
 * The one frame step of a stream (live streams, `analyze` and `/api/analyze` alike): detect when due → track → crop →
 * classify (and mask when due) → decide face events. One per stream: it holds the stream's tracks. Steps must not
 * overlap (await one before the next).
 */
export class FrameAnalyzer {
  readonly decider: FaceEventDecider;
  readonly #engine: AnalysisEngine;
  readonly #detectEvery: number;
  readonly #gate: MotionGate | undefined;
  readonly #reuse: ScoreReuse | undefined;
  #sinceDetect = Number.POSITIVE_INFINITY;

  constructor(streamId: string, engine: AnalysisEngine, options: FrameAnalyzerOptions) {
    this.#engine = engine;
    this.#detectEvery = options.detectEvery;
    this.decider = new FaceEventDecider(streamId, options.tracking);
    this.#gate = options.motion?.enabled ? new MotionGate(options.motion) : undefined;
    this.#reuse = options.reuse?.enabled ? new ScoreReuse(options.reuse) : undefined;
  }

  /** Whether the next step runs the detector. */
  get detectionDue(): boolean {
    return this.#sinceDetect >= this.#detectEvery || this.decider.needsDetection;
  }

  /**
   * Analyzes the stream's next frame. `detections` may be passed when the caller started this frame's detection
   * ahead (only when detection is due on every frame).
   */
  async step(frame: Frame, detections?: Promise<FaceBox[]>): Promise<FrameResult> {
    const { pool, models, onStage } = this.#engine;
    const gate = this.#gate;
    let thumbnail: Uint8Array | undefined;
    if (gate && !detections && this.decider.trackCount === 0) {
      const t = stageTimes.time('motion', () => gate.thumbnail(frame));
      thumbnail = t;
      if (!stageTimes.time('motion', () => gate.moved(t, frame.ts))) {
        return { frame, skipped: true, detected: false, classified: 0, reused: 0, faces: [], events: [] };
      }
    }
    let found: FaceBox[] | null = null;
    if (detections || this.detectionDue) {
      const t0 = performance.now();
      found = await (detections ?? pool.detect(models.detector, frame, this.decider.minDetectionScore));
      onStage?.('detect', (performance.now() - t0) / 1000);
      this.#sinceDetect = 0;
      if (gate) gate.detected(thumbnail ?? stageTimes.time('motion', () => gate.thumbnail(frame)), frame.ts);
    }
    this.#sinceDetect++;
    const tracked = stageTimes.time('tracking', () => this.decider.step(frame.ts, found));
    const maskDue = found ? tracked.filter((t) => this.#maskDue(t.trackId, frame.ts)) : [];
    const [scored, masks] = await Promise.all([
      this.#scores(frame, tracked),
      this.#mask(
        frame,
        maskDue.map((t) => t.box),
      ),
    ]);
    const { probs } = scored;
    if (masks) {
      this.decider.observeMasks(
        frame.ts,
        maskDue.map((t) => t.trackId),
        masks,
      );
    }
    const t0 = performance.now();
    const size = { w: frame.width, h: frame.height };
    const events = this.decider.observe(frame.ts, { seq: frame.seq, ...size }, probs);
    const faces = tracked.map((t, i): TrackedFaceRecord => {
      const smoothed = this.decider.smoothed(t.trackId);
      const announced = smoothed?.announced === true;
      return {
        trackId: announced ? t.trackId : null,
        ...faceRecord(t.box, t.score, probs[i] as Float32Array, size, smoothed?.maskScore),
        smoothedLabel: announced ? (smoothed?.label ?? null) : null,
      };
    });
    stageTimes.add('tracking', performance.now() - t0);
    return {
      frame,
      skipped: false,
      detected: found !== null,
      classified: scored.classified,
      reused: probs.length - scored.classified,
      faces,
      events,
    };
  }

  /** The emotion scores of the tracked faces: reused where a face's crop is unchanged, else from the model. */
  async #scores(frame: Frame, tracked: readonly { trackId: string; box: Box }[]) {
    const reuse = this.#reuse;
    const probs: Float32Array[] = new Array(tracked.length);
    const thumbnails: Uint8Array[] = [];
    const fresh: number[] = [];
    const { margin } = this.#engine.models.emotion;
    tracked.forEach((t, i) => {
      if (reuse) {
        const thumbnail = stageTimes.time('reuse', () => reuse.thumbnail(frame, cropRegion(t.box, margin)));
        thumbnails[i] = thumbnail;
        const kept = reuse.reusable(t.trackId, thumbnail, frame.ts);
        if (kept) {
          probs[i] = kept;
          return;
        }
      }
      fresh.push(i);
    });
    const computed = await this.#classify(
      frame,
      fresh.map((i) => (tracked[i] as { box: Box }).box),
    );
    fresh.forEach((i, k) => {
      const p = computed[k] as Float32Array;
      probs[i] = p;
      reuse?.scored((tracked[i] as { trackId: string }).trackId, thumbnails[i] as Uint8Array, p, frame.ts);
    });
    return { probs, classified: fresh.length };
  }

  /** Ends every track (the stream stopped or paused); returns their `face.end` events. */
  endAll(ts: number): BusEvent[] {
    return this.decider.endAll(ts);
  }

  async #classify(frame: Frame, boxes: Box[]): Promise<Float32Array[]> {
    const { batcher, onStage } = this.#engine;
    if (boxes.length === 0) return [];
    const t0 = performance.now();
    const probs = await batcher.classify({ image: frame, boxes });
    onStage?.('classify', (performance.now() - t0) / 1000);
    return probs;
  }

  async #mask(frame: Frame, boxes: Box[]): Promise<Float32Array | undefined> {
    const { pool, models, onStage } = this.#engine;
    if (!models.mask || boxes.length === 0) return undefined;
    const t0 = performance.now();
    const { name, size, margin } = models.mask;
    const scores = await pool.maskScores(name, { size, margin, faces: [{ image: frame, boxes }] });
    onStage?.('mask', (performance.now() - t0) / 1000);
    return scores;
  }

  /** Whether a mask model runs and this track's mask score is missing or older than `MASK_INTERVAL_MS`. */
  #maskDue(trackId: string, ts: number): boolean {
    if (!this.#engine.models.mask) return false;
    const last = this.decider.lastMaskTs(trackId);
    return last === undefined || ts - last >= MASK_INTERVAL_MS;
  }
}

/**
 * A still image is a one-frame stream: every face the detector reports at its usual threshold (0.5) counts, where a
 * stream's tracker waits for a stronger detection (`tracking.highScore`) before it follows a new face.
 */
export const IMAGE_FACE_SCORE = 0.5;

/** The faces of one still image (`analyze IMAGE`, `/api/analyze`), through the same frame step as a stream's. */
export async function analyzeImage(
  image: RgbImage,
  engine: AnalysisEngine,
  tracking: Config['tracking'] = {},
): Promise<FaceAnalysis[]> {
  const analyzer = new FrameAnalyzer('image', engine, {
    detectEvery: 1,
    tracking: { ...tracking, highScore: IMAGE_FACE_SCORE, lowScore: IMAGE_FACE_SCORE },
  });
  const result = await analyzer.step({ ...inSharedMemory(image), ts: 0, seq: 0 });
  return result.faces.map(({ trackId: _id, smoothedLabel: _label, ...face }) => face);
}

/** The image in shared memory (one copy here, instead of one per inference request), unless it is there already. */
function inSharedMemory(image: RgbImage): RgbImage {
  if (image.data.buffer instanceof SharedArrayBuffer) return image;
  const data = new Uint8Array(new SharedArrayBuffer(image.data.byteLength));
  data.set(image.data);
  return { data, width: image.width, height: image.height };
}
