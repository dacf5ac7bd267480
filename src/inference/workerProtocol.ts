import type { ErrorCode } from '../core/errors.js';
import type { FaceBox, RgbImage } from '../core/types.js';
import type { CropBatch } from './EmotionClassifier.js';
import type { CropJob } from './faceCrop.js';
import type { RunnerInfo, RunnerOptions } from './ModelRunner.js';

/** Messages between an `InferencePool` and its workers (structured clone; buffers transferred where possible). */
export interface WorkerInit {
  runner: RunnerOptions;
  preload: { detectors: string[]; classifiers: string[]; masks: string[] };
}

export type WorkerRequest =
  | { id: number; op: 'detect'; detector: string; image: RgbImage; minScore?: number }
  | { id: number; op: 'classify'; model: string; crops: CropBatch | CropJob }
  | { id: number; op: 'mask'; model: string; crops: CropBatch | CropJob }
  | { id: number; op: 'numTensors' }
  | { id: number; op: 'info' };

export type WorkerResponse =
  | {
      id: number;
      ok: true;
      result: FaceBox[] | Float32Array | number | RunnerInfo;
      /** Milliseconds the request spent in the worker, by stage (crop, detect, classify, mask). */
      stages?: Record<string, number>;
    }
  | { id: number; ok: false; error: { code: ErrorCode; message: string } };

export type WorkerReady =
  | { ready: true; info: RunnerInfo }
  | { ready: false; error: { code: ErrorCode; message: string } };

/**
 * Not a request: the fault suite's hook (InferencePool.crashWorker). The worker exits as soon as the job it runs
 * (or its next one) has its result, without answering: a death in mid-inference as the pool sees it, but never
 * while native inference code runs (ending a thread inside ONNX Runtime aborts the whole process).
 */
export type WorkerControl = { control: 'crash' };
