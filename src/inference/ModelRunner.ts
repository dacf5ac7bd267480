import { CloseOnce } from '../core/CloseOnce.js';
import type { BackendName, EngineName } from '../core/config.js';
import { ModelLoadError } from '../core/errors.js';
import type { FaceBox, RgbImage } from '../core/types.js';
import { BlazeFaceDetector } from './BlazeFaceDetector.js';
import { type BackendChoice, selectBackend } from './backendSelection.js';
import {
  type CropBatch,
  type EmotionClassifier,
  FaceApiEmotionClassifier,
  GraphEmotionClassifier,
  LayersEmotionClassifier,
} from './EmotionClassifier.js';
import { type EngineChoice, selectEngine } from './engineSelection.js';
import { FaceApiDetector } from './FaceApiDetector.js';
import type { FaceDetector } from './FaceDetector.js';
import { HeadEmotionClassifier } from './HeadEmotionClassifier.js';
import { MaskClassifier, type MaskScorer } from './MaskClassifier.js';
import { type ResolvedModel, resolveModel } from './modelManifest.js';
import { OnnxBlazeFace } from './OnnxBlazeFace.js';
import { cudaUnavailable, type OrtSessionOptions, ort } from './OnnxRuntime.js';
import { OnnxEmotionClassifier, OnnxMaskClassifier, onnxFile } from './onnxClassifiers.js';
import { requireModule, tf } from './tf.js';

export interface RunnerOptions {
  engine?: EngineName | 'auto';
  /** The tfjs backend, for models the tfjs engine runs. */
  backend?: BackendName | 'auto';
  /** ONNX Runtime intra-op threads. */
  threads?: number;
}

/** What runs where: the engine, the tfjs backend when a model needs it, and each loaded model's engine. */
export interface RunnerInfo {
  engine: EngineChoice;
  /** The tfjs backend, once a model runs on tfjs (all of them under the tfjs engine). */
  tfjs?: BackendChoice;
  models: Record<string, EngineName>;
}

/**
 * The models of one thread, each loaded once (on first use or at start) on the engine picked at creation: ONNX
 * Runtime for models that have an ONNX file when it is the engine, tfjs for the others (its backend chosen when the
 * first such model loads). Lives inside an inference worker; also usable directly in a single-threaded tool.
 */
export class ModelRunner {
  readonly choice: EngineChoice;
  readonly #forced: EngineName | 'auto';
  readonly #backend: BackendName | 'auto';
  readonly #ortOptions: OrtSessionOptions;
  readonly #detectors = new Map<string, Promise<FaceDetector>>();
  readonly #classifiers = new Map<string, Promise<EmotionClassifier>>();
  readonly #maskModels = new Map<string, Promise<MaskScorer>>();
  readonly #models: Record<string, EngineName> = {};
  #tfjs: Promise<BackendChoice> | undefined;
  #tfjsChoice: BackendChoice | undefined;
  readonly #lifecycle = new CloseOnce('ModelRunner', () => this.#dispose());

  private constructor(choice: EngineChoice, options: RunnerOptions, tfjs: BackendChoice | undefined) {
    this.choice = choice;
    this.#forced = options.engine ?? 'auto';
    this.#backend = options.backend ?? 'auto';
    this.#ortOptions = { provider: choice.detail === 'cuda' ? 'cuda' : 'cpu', threads: options.threads || 1 };
    if (tfjs) {
      this.#tfjs = Promise.resolve(tfjs);
      this.#tfjsChoice = tfjs;
    }
  }

  static async create(options: RunnerOptions = {}): Promise<ModelRunner> {
    let tfjs: BackendChoice | undefined;
    const choice = await selectEngine(options.engine ?? 'auto', options.backend ?? 'auto', {
      loadOrt: async () => ort(),
      cudaUnavailable,
      selectBackend: async (forced) => {
        tfjs = await selectTfjsBackend(forced);
        return tfjs;
      },
    });
    return new ModelRunner(choice, options, choice.engine === 'tfjs' ? tfjs : undefined);
  }

  info(): RunnerInfo {
    return { engine: this.choice, tfjs: this.#tfjsChoice, models: { ...this.#models } };
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  async detect(detector: string, image: RgbImage, minScore?: number): Promise<FaceBox[]> {
    this.#lifecycle.assertOpen();
    return (await this.#detector(detector)).detect(image, minScore);
  }

  async classify(model: string, crops: CropBatch): Promise<Float32Array> {
    this.#lifecycle.assertOpen();
    if (crops.count === 0) return new Float32Array(0);
    return (await this.#classifier(model)).classify(crops);
  }

  /** Probability that each face wears a mask, from a mask head. */
  async maskScores(model: string, crops: CropBatch): Promise<Float32Array> {
    this.#lifecycle.assertOpen();
    if (crops.count === 0) return new Float32Array(0);
    return (await this.#mask(model)).score(crops);
  }

  /** Loads models ahead of use, so the first frame does not pay for it. */
  async preload(
    detectors: readonly string[],
    classifiers: readonly string[],
    masks: readonly string[] = [],
  ): Promise<void> {
    await Promise.all([
      ...detectors.map((d) => this.#detector(d)),
      ...classifiers.map((c) => this.#classifier(c)),
      ...masks.map((m) => this.#mask(m)),
    ]);
  }

  /** Live tfjs tensors in this thread (0 while no model runs on tfjs). */
  numTensors(): number {
    return this.#tfjs ? tf.memory().numTensors : 0;
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #detector(name: string): Promise<FaceDetector> {
    return cached(this.#detectors, name, async () => {
      const resolved = resolveModel(name);
      expectKind(resolved, 'detector');
      if ((await this.#engineFor(resolved)) === 'onnx') return OnnxBlazeFace.load(resolved, this.#ortOptions);
      return resolved.manifest.runtime === 'blazeface'
        ? BlazeFaceDetector.load(resolved)
        : FaceApiDetector.load(resolved);
    });
  }

  #classifier(name: string): Promise<EmotionClassifier> {
    return cached(this.#classifiers, name, async () => {
      const resolved = resolveModel(name);
      expectKind(resolved, 'emotion');
      if ((await this.#engineFor(resolved)) === 'onnx') return OnnxEmotionClassifier.load(resolved, this.#ortOptions);
      switch (resolved.manifest.runtime) {
        case 'faceapi-expression':
          return FaceApiEmotionClassifier.load(resolved);
        case 'head':
          return HeadEmotionClassifier.load(resolved);
        case 'layers':
          return LayersEmotionClassifier.load(resolved);
        default:
          return GraphEmotionClassifier.load(resolved);
      }
    });
  }

  #mask(name: string): Promise<MaskScorer> {
    return cached(this.#maskModels, name, async () => {
      const resolved = resolveModel(name);
      if ((await this.#engineFor(resolved)) === 'onnx') return OnnxMaskClassifier.load(resolved, this.#ortOptions);
      return MaskClassifier.load(resolved);
    });
  }

  /**
   * ONNX Runtime when it is the engine and the model has an ONNX file; else tfjs (whose backend starts here the first
   * time), unless `--engine onnx` was asked for: then a model without an ONNX file is `MODEL_ENGINE_UNSUPPORTED`.
   */
  async #engineFor(resolved: ResolvedModel): Promise<EngineName> {
    const engine = await this.#pickEngine(resolved);
    this.#models[resolved.manifest.name] = engine;
    return engine;
  }

  async #pickEngine(resolved: ResolvedModel): Promise<EngineName> {
    if (this.choice.engine === 'onnx') {
      if (resolved.onnxFile) return 'onnx';
      if (this.#forced === 'onnx') onnxFile(resolved); // throws MODEL_ENGINE_UNSUPPORTED
    }
    this.#tfjs ??= selectTfjsBackend(this.#backend);
    this.#tfjsChoice = await this.#tfjs;
    return 'tfjs';
  }

  async #dispose(): Promise<void> {
    const all = [...this.#detectors.values(), ...this.#classifiers.values(), ...this.#maskModels.values()];
    this.#detectors.clear();
    this.#classifiers.clear();
    this.#maskModels.clear();
    for (const model of await Promise.allSettled(all)) {
      if (model.status === 'fulfilled') await model.value.dispose();
    }
  }
}

/** The engine in use, its backend (ONNX Runtime's provider or the tfjs backend), why others were passed over, and
 * each model's engine: what /healthz, /metrics and the start-up log say. */
export function engineSummary(info: RunnerInfo) {
  return {
    engine: info.engine.engine,
    backend: info.engine.detail,
    passedOver: info.engine.skipped,
    ...(info.tfjs ? { tfjsBackend: info.tfjs.name } : {}),
    models: info.models,
  };
}

/** Selects (and starts) a tfjs backend in this thread. */
async function selectTfjsBackend(forced: BackendName | 'auto'): Promise<BackendChoice> {
  const choice = await selectBackend(forced, {
    importModule: requireModule,
    setBackend: (name) => tf.setBackend(name),
    getBackend: () => tf.getBackend(),
  });
  await tf.ready();
  return choice;
}

/** A loaded-once cache that forgets a failed load, so a later call can try again. */
function cached<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let promise = map.get(key);
  if (!promise) {
    promise = load();
    map.set(key, promise);
    promise.catch(() => map.delete(key));
  }
  return promise;
}

function expectKind(resolved: ResolvedModel, kind: 'detector' | 'emotion'): void {
  const actual = resolved.manifest.kind;
  const ok = kind === 'emotion' ? actual === 'emotion' || actual === 'head' : actual === kind;
  if (!ok) {
    throw new ModelLoadError(`model "${resolved.manifest.name}" is a ${actual} model, not ${kind}`, {
      code: 'MODEL_WRONG_KIND',
    });
  }
}
