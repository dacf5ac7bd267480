import { CloseOnce } from '../core/CloseOnce.js';
import type { BackendName } from '../core/config.js';
import { ModelLoadError } from '../core/errors.js';
import type { FaceBox, RgbImage } from '../core/types.js';
import { BlazeFaceDetector } from './BlazeFaceDetector.js';
import { type BackendChoice, selectBackend } from './backendSelection.js';
import {
  type CropBatch,
  type EmotionClassifier,
  FaceApiEmotionClassifier,
  GraphEmotionClassifier,
} from './EmotionClassifier.js';
import { FaceApiDetector } from './FaceApiDetector.js';
import type { FaceDetector } from './FaceDetector.js';
import { HeadEmotionClassifier } from './HeadEmotionClassifier.js';
import { MaskClassifier } from './MaskClassifier.js';
import { type ResolvedModel, resolveModel } from './modelManifest.js';
import { requireModule, tf } from './tf.js';

/**
 * Everything tfjs in one thread: the backend, and the models it has loaded (each loaded once, on first use or
 * at start). Lives inside an inference worker; also usable directly in a single-threaded tool.
 */
export class ModelRunner {
  readonly backend: BackendChoice;
  readonly #detectors = new Map<string, Promise<FaceDetector>>();
  readonly #classifiers = new Map<string, Promise<EmotionClassifier>>();
  readonly #maskModels = new Map<string, Promise<MaskClassifier>>();
  readonly #lifecycle = new CloseOnce('ModelRunner', () => this.#dispose());

  private constructor(backend: BackendChoice) {
    this.backend = backend;
  }

  static async create(backend: BackendName | 'auto' = 'auto'): Promise<ModelRunner> {
    const choice = await selectBackend(backend, {
      importModule: requireModule,
      setBackend: (name) => tf.setBackend(name),
      getBackend: () => tf.getBackend(),
    });
    await tf.ready();
    return new ModelRunner(choice);
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
    const mask = await cached(this.#maskModels, model, async () => MaskClassifier.load(resolveModel(model)));
    return mask.score(crops);
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
      ...masks.map((m) => cached(this.#maskModels, m, async () => MaskClassifier.load(resolveModel(m)))),
    ]);
  }

  numTensors(): number {
    return tf.memory().numTensors;
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #detector(name: string): Promise<FaceDetector> {
    return cached(this.#detectors, name, async () => {
      const resolved = resolveModel(name);
      expectKind(resolved, 'detector');
      return resolved.manifest.runtime === 'blazeface'
        ? BlazeFaceDetector.load(resolved)
        : FaceApiDetector.load(resolved);
    });
  }

  #classifier(name: string): Promise<EmotionClassifier> {
    return cached(this.#classifiers, name, async () => {
      const resolved = resolveModel(name);
      expectKind(resolved, 'emotion');
      switch (resolved.manifest.runtime) {
        case 'faceapi-expression':
          return FaceApiEmotionClassifier.load(resolved);
        case 'head':
          return HeadEmotionClassifier.load(resolved);
        default:
          return GraphEmotionClassifier.load(resolved);
      }
    });
  }

  async #dispose(): Promise<void> {
    const all = [...this.#detectors.values(), ...this.#classifiers.values(), ...this.#maskModels.values()];
    this.#detectors.clear();
    this.#classifiers.clear();
    this.#maskModels.clear();
    for (const model of await Promise.allSettled(all)) {
      if (model.status === 'fulfilled') model.value.dispose();
    }
  }
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
