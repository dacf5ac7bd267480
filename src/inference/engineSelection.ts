import type { BackendName, EngineName } from '../core/config.js';
import { errorMessage, ModelLoadError } from '../core/errors.js';
import type { BackendChoice } from './backendSelection.js';

/** The engine a worker runs its models on, and why the faster ones were passed over. */
export interface EngineChoice {
  engine: EngineName;
  /** onnx: the execution provider (`cuda`, `cpu`); tfjs: the backend. */
  detail: string;
  /** Candidates tried before it, with why each was passed over (`onnx/cuda`, `tfjs/tfjs-node-gpu`, ...). */
  skipped: { name: string; reason: string }[];
}

/** What selection needs from the outside world; injected so the order and the fallbacks can be tested. */
export interface EngineDeps {
  /** Loads onnxruntime-node; rejects when it is missing or its native library does not load. */
  loadOrt(): Promise<unknown>;
  /** Why ONNX Runtime's CUDA provider cannot run here, or undefined when its binaries are installed. */
  cudaUnavailable(): string | undefined;
  /** tfjs backend selection (`selectBackend` with the real tfjs). */
  selectBackend(forced: BackendName | 'auto'): Promise<BackendChoice>;
}

/**
 * Picks the engine, fastest first: ONNX Runtime with CUDA, tfjs-node-gpu, ONNX Runtime on the CPU, then tfjs on the
 * CPU (tfjs-node, wasm, cpu). `onnx` tries only the ONNX candidates and throws `ENGINE_UNAVAILABLE` when neither
 * loads; `tfjs` tries only tfjs backends (`backend` narrows them, as it does for `auto`'s tfjs candidates).
 */
export async function selectEngine(
  requested: EngineName | 'auto',
  backend: BackendName | 'auto',
  deps: EngineDeps,
): Promise<EngineChoice> {
  const skipped: EngineChoice['skipped'] = [];
  if (requested !== 'tfjs') {
    const ortFailure = await loadFailure(deps);
    const cudaFailure = ortFailure ?? deps.cudaUnavailable();
    if (cudaFailure === undefined) return { engine: 'onnx', detail: 'cuda', skipped };
    skipped.push({ name: 'onnx/cuda', reason: cudaFailure });
    if (requested === 'auto' && (backend === 'auto' || backend === 'tfjs-node-gpu')) {
      const gpu = await deps.selectBackend('tfjs-node-gpu').catch((err: unknown) => err as Error);
      if (!(gpu instanceof Error)) return { engine: 'tfjs', detail: gpu.name, skipped };
      skipped.push({ name: 'tfjs/tfjs-node-gpu', reason: firstLine(errorMessage(gpu)) });
    }
    if (ortFailure === undefined) return { engine: 'onnx', detail: 'cpu', skipped };
    skipped.push({ name: 'onnx/cpu', reason: ortFailure });
    if (requested === 'onnx') {
      const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
      throw new ModelLoadError(`the onnx engine cannot start (${why})`, { code: 'ENGINE_UNAVAILABLE' });
    }
  }
  const tfjs = await deps.selectBackend(backend);
  for (const s of tfjs.skipped) {
    const name = `tfjs/${s.name}`;
    if (!skipped.some((k) => k.name === name)) skipped.push({ name, reason: s.reason });
  }
  return { engine: 'tfjs', detail: tfjs.name, skipped };
}

async function loadFailure(deps: EngineDeps): Promise<string | undefined> {
  try {
    await deps.loadOrt();
    return undefined;
  } catch (err) {
    return `cannot load onnxruntime-node: ${firstLine(errorMessage(err))}`;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
