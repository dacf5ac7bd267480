import { createRequire } from 'node:module';

/**
 * The one tfjs instance of this thread. Loaded with `require` on purpose: face-api's node build requires
 * `@tensorflow/tfjs` as CommonJS, and an ESM `import` would give a second copy of tfjs-core with its own engine,
 * registry and tensors, so models loaded through one would not run on the other.
 */
const require = createRequire(import.meta.url);
export const tf: typeof import('@tensorflow/tfjs') = require('@tensorflow/tfjs');
export type Tensor = import('@tensorflow/tfjs').Tensor;
export type Tensor3D = import('@tensorflow/tfjs').Tensor3D;
export type Tensor4D = import('@tensorflow/tfjs').Tensor4D;
export type GraphModel = import('@tensorflow/tfjs').GraphModel;
export type LayersModel = import('@tensorflow/tfjs').LayersModel;

/** Imports a module in this thread's CommonJS world (backends register themselves with the tfjs above). */
export async function requireModule(specifier: string): Promise<unknown> {
  return require(specifier);
}
