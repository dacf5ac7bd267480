import { describe, expect, it } from 'vitest';
import { type BackendDeps, selectBackend } from '../../../src/inference/backendSelection.js';

/** A fake tfjs world: which modules resolve, which backends start, and what tfjs then reports as active. */
function world(opts: { modules: string[]; starts: string[]; silentFallback?: string[] }) {
  let active: string | undefined = 'cpu';
  const imported: string[] = [];
  const deps: BackendDeps = {
    importModule: async (m) => {
      imported.push(m);
      if (!opts.modules.includes(m)) throw new Error(`Cannot find module '${m}'\nRequire stack: ...`);
    },
    setBackend: async (b) => {
      if (opts.silentFallback?.includes(b)) {
        active = 'cpu'; // tfjs answers true but fell back
        return true;
      }
      if (!opts.starts.includes(b)) return false;
      active = b;
      return true;
    },
    getBackend: () => active,
  };
  return { deps, imported };
}

describe('selectBackend', () => {
  it('prefers the GPU build when it resolves and starts', async () => {
    const { deps } = world({
      modules: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm'],
      starts: ['tensorflow', 'wasm', 'cpu'],
    });
    expect((await selectBackend('auto', deps)).name).toBe('tfjs-node-gpu');
  });

  it('tries gpu, then node, then wasm, in that order, and says why each was skipped', async () => {
    const { deps, imported } = world({ modules: ['@tensorflow/tfjs-backend-wasm'], starts: ['wasm', 'cpu'] });
    const choice = await selectBackend('auto', deps);
    expect(choice.name).toBe('wasm');
    expect(imported).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
    expect(choice.skipped.map((s) => s.name)).toEqual(['tfjs-node-gpu', 'tfjs-node']);
    expect(choice.skipped[0]?.reason).toContain("Cannot find module '@tensorflow/tfjs-node-gpu'");
    expect(choice.skipped[0]?.reason).not.toContain('Require stack'); // one line per reason
  });

  it('detects a silent fallback to cpu after setBackend and moves on', async () => {
    const { deps } = world({
      modules: ['@tensorflow/tfjs-backend-wasm'],
      starts: ['cpu'],
      silentFallback: ['wasm'],
    });
    const choice = await selectBackend('auto', deps);
    expect(choice.name).toBe('cpu');
    expect(choice.skipped.find((s) => s.name === 'wasm')?.reason).toMatch(/fell back to "cpu"/);
  });

  it('falls back to cpu when wasm fails to initialise', async () => {
    const { deps } = world({ modules: ['@tensorflow/tfjs-backend-wasm'], starts: ['cpu'] });
    expect((await selectBackend('auto', deps)).name).toBe('cpu');
  });

  it('uses a native build whose import works even when the GPU build is absent', async () => {
    const { deps } = world({ modules: ['@tensorflow/tfjs-node'], starts: ['tensorflow', 'cpu'] });
    expect((await selectBackend('auto', deps)).name).toBe('tfjs-node');
  });

  it('a forced backend tries only that one and fails with BACKEND_UNAVAILABLE', async () => {
    const { deps, imported } = world({ modules: ['@tensorflow/tfjs-backend-wasm'], starts: ['wasm', 'cpu'] });
    await expect(selectBackend('tfjs-node', deps)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(imported).toEqual(['@tensorflow/tfjs-node']);
    expect((await selectBackend('cpu', deps)).name).toBe('cpu');
  });

  it('a setBackend that throws counts as a failed start', async () => {
    const deps: BackendDeps = {
      importModule: async () => undefined,
      setBackend: async (b) => {
        if (b !== 'cpu') throw new Error('wasm: failed to compile');
        return true;
      },
      getBackend: () => 'cpu',
    };
    const choice = await selectBackend('auto', deps);
    expect(choice.name).toBe('cpu');
    expect(choice.skipped.map((s) => s.reason)).toContain('initialisation failed: wasm: failed to compile');
  });
});
