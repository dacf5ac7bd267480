import { BACKEND_NAMES, type BackendName } from '../core/config.js';
import { errorMessage, ModelLoadError } from '../core/errors.js';

interface Candidate {
  name: BackendName;
  /** The module that registers the backend; none for the cpu backend built into tfjs. */
  module?: string;
  /** The name tfjs registers it under. */
  tfBackend: string;
}

/** How each backend is loaded; tried in the order of `BACKEND_NAMES`. */
const LOADERS: Readonly<Record<BackendName, Omit<Candidate, 'name'>>> = {
  'tfjs-node-gpu': { module: '@tensorflow/tfjs-node-gpu', tfBackend: 'tensorflow' },
  'tfjs-node': { module: '@tensorflow/tfjs-node', tfBackend: 'tensorflow' },
  wasm: { module: '@tensorflow/tfjs-backend-wasm', tfBackend: 'wasm' },
  cpu: { tfBackend: 'cpu' },
};

const CANDIDATES: readonly Candidate[] = BACKEND_NAMES.map((name) => ({ name, ...LOADERS[name] }));

/** What selection needs from the outside world; injected so the order and the fallback can be tested. */
export interface BackendDeps {
  /** Imports a module; rejects when it does not resolve or fails to load (a native addon without its library). */
  importModule(specifier: string): Promise<unknown>;
  setBackend(tfBackend: string): Promise<boolean>;
  getBackend(): string | undefined;
}

export interface BackendChoice {
  name: BackendName;
  tfBackend: string;
  /** The candidates tried before it, with why each was passed over. */
  skipped: { name: BackendName; reason: string }[];
}

/**
 * Picks the first backend that resolves, initialises, and is really the active one afterwards (tfjs falls back
 * silently to cpu when a backend fails to start, so `setBackend`'s answer and `getBackend()` are both checked).
 * `forced` tries only that one and throws `ModelLoadError` (code `BACKEND_UNAVAILABLE`) when it cannot start.
 */
export async function selectBackend(forced: BackendName | 'auto', deps: BackendDeps): Promise<BackendChoice> {
  const candidates = forced === 'auto' ? CANDIDATES : CANDIDATES.filter((c) => c.name === forced);
  const skipped: BackendChoice['skipped'] = [];
  for (const candidate of candidates) {
    const reason = await tryCandidate(candidate, deps);
    if (reason === undefined) return { name: candidate.name, tfBackend: candidate.tfBackend, skipped };
    skipped.push({ name: candidate.name, reason });
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new ModelLoadError(`no usable tfjs backend (${why})`, { code: 'BACKEND_UNAVAILABLE' });
}

async function tryCandidate(candidate: Candidate, deps: BackendDeps): Promise<string | undefined> {
  if (candidate.module) {
    try {
      await deps.importModule(candidate.module);
    } catch (err) {
      return `cannot load ${candidate.module}: ${firstLine(errorMessage(err))}`;
    }
  }
  let ok: boolean;
  try {
    ok = await deps.setBackend(candidate.tfBackend);
  } catch (err) {
    return `initialisation failed: ${firstLine(errorMessage(err))}`;
  }
  if (!ok) return 'initialisation failed';
  const active = deps.getBackend();
  if (active !== candidate.tfBackend) return `tfjs fell back to "${active}"`;
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
