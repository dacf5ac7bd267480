import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ModelLoadError } from '../core/errors.js';

type Ort = typeof import('onnxruntime-node');
export type OrtSession = import('onnxruntime-node').InferenceSession;
export type OrtTensor = import('onnxruntime-node').Tensor;

const require = createRequire(import.meta.url);
let cached: Ort | undefined;

/** onnxruntime-node, loaded on first use (a host where it cannot load runs tfjs instead). */
export function ort(): Ort {
  cached ??= require('onnxruntime-node') as Ort;
  return cached;
}

/**
 * Why ORT's CUDA provider cannot run here, or undefined when its binaries sit beside the native binding (the
 * package ships only the CPU ones; `npm install --onnxruntime-node-install=cuda12` adds CUDA's on a GPU host).
 */
export function cudaUnavailable(): string | undefined {
  let binding: string;
  try {
    binding = require.resolve(
      `onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`,
    );
  } catch {
    return `no CUDA build of onnxruntime-node for ${process.platform}/${process.arch}`;
  }
  const provider = join(dirname(binding), 'libonnxruntime_providers_cuda.so');
  return existsSync(provider)
    ? undefined
    : 'the CUDA provider is not installed (npm install --onnxruntime-node-install=cuda12)';
}

export interface OrtSessionOptions {
  provider: 'cuda' | 'cpu';
  /** Intra-op threads (the work of one run); the pool's workers run in parallel besides. */
  threads: number;
}

/**
 * A session for one model file, with the options measured to be fast here (docs/performance.md): graph optimisation
 * `all` (the other levels are 2.4x slower), one inter-op thread, and no spinning: by default ORT keeps a core busy
 * for tens of ms after each run, which on a shared 2-core machine takes it from the other worker and from ffmpeg.
 */
export async function createSession(file: string, options: OrtSessionOptions): Promise<OrtSession> {
  const { InferenceSession } = ort();
  const base = {
    graphOptimizationLevel: 'all' as const,
    executionMode: 'sequential' as const,
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  try {
    return await InferenceSession.create(file, {
      ...base,
      executionProviders: options.provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    });
  } catch (cause) {
    throw new ModelLoadError(`ONNX Runtime cannot load ${file}: ${(cause as Error).message}`, {
      cause,
      code: 'MODEL_FILE_UNREADABLE',
    });
  }
}
