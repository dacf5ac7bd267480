import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../../src/core/config.js';
import { ModelLoadError } from '../../../src/core/errors.js';
import type { BackendChoice } from '../../../src/inference/backendSelection.js';
import { type EngineDeps, selectEngine } from '../../../src/inference/engineSelection.js';

/** A fake host: whether ONNX Runtime loads, whether its CUDA provider is installed, which tfjs backends start. */
function host(opts: { ort: boolean; cuda?: boolean; tfjs: BackendName[] }) {
  const calls: string[] = [];
  const deps: EngineDeps = {
    loadOrt: async () => {
      calls.push('ort');
      if (!opts.ort) throw new Error('libonnxruntime.so.1: cannot open shared object file\nmore');
    },
    cudaUnavailable: () => (opts.cuda ? undefined : 'the CUDA provider is not installed'),
    selectBackend: async (forced): Promise<BackendChoice> => {
      calls.push(`tfjs:${forced}`);
      const order: BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];
      const tried = forced === 'auto' ? order : [forced];
      const skipped: BackendChoice['skipped'] = [];
      for (const name of tried) {
        if (opts.tfjs.includes(name)) return { name, tfBackend: name, skipped };
        skipped.push({ name, reason: `cannot load ${name}` });
      }
      const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
      throw new ModelLoadError(`no usable tfjs backend (${why})`, { code: 'BACKEND_UNAVAILABLE' });
    },
  };
  return { deps, calls };
}

describe('selectEngine', () => {
  it('auto: ONNX Runtime on the CPU here, having tried CUDA and tfjs-node-gpu first, and says why they lost', async () => {
    const { deps } = host({ ort: true, tfjs: ['wasm', 'cpu'] });
    expect(await selectEngine('auto', 'auto', deps)).toEqual({
      engine: 'onnx',
      detail: 'cpu',
      skipped: [
        { name: 'onnx/cuda', reason: 'the CUDA provider is not installed' },
        { name: 'tfjs/tfjs-node-gpu', reason: 'no usable tfjs backend (tfjs-node-gpu: cannot load tfjs-node-gpu)' },
      ],
    });
  });

  it('auto: GPU providers first (ORT with CUDA, else tfjs-node-gpu)', async () => {
    expect((await selectEngine('auto', 'auto', host({ ort: true, cuda: true, tfjs: [] }).deps)).detail).toBe('cuda');
    const gpu = await selectEngine('auto', 'auto', host({ ort: true, tfjs: ['tfjs-node-gpu', 'wasm'] }).deps);
    expect(gpu).toMatchObject({ engine: 'tfjs', detail: 'tfjs-node-gpu' });
  });

  it('auto: where ONNX Runtime cannot load, tfjs, with the reason', async () => {
    const choice = await selectEngine('auto', 'auto', host({ ort: false, tfjs: ['wasm', 'cpu'] }).deps);
    expect(choice).toMatchObject({ engine: 'tfjs', detail: 'wasm' });
    const reasons = Object.fromEntries(choice.skipped.map((s) => [s.name, s.reason]));
    expect(reasons['onnx/cpu']).toBe(
      'cannot load onnxruntime-node: libonnxruntime.so.1: cannot open shared object file',
    );
    expect(Object.keys(reasons)).toEqual(['onnx/cuda', 'tfjs/tfjs-node-gpu', 'onnx/cpu', 'tfjs/tfjs-node']);
  });

  it('onnx: a clear ENGINE_UNAVAILABLE error where ONNX Runtime cannot load; never tries tfjs', async () => {
    const { deps, calls } = host({ ort: false, tfjs: ['wasm'] });
    const err = await selectEngine('onnx', 'auto', deps).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/onnx\/cpu: cannot load onnxruntime-node/);
    expect(calls).toEqual(['ort']);
  });

  it('tfjs: only tfjs backends, narrowed by --backend, without loading ONNX Runtime', async () => {
    const { deps, calls } = host({ ort: true, tfjs: ['tfjs-node-gpu', 'wasm', 'cpu'] });
    expect(await selectEngine('tfjs', 'wasm', deps)).toEqual({ engine: 'tfjs', detail: 'wasm', skipped: [] });
    expect(calls).toEqual(['tfjs:wasm']);
  });
});
