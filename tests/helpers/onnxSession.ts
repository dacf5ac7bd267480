import { createRequire } from 'node:module';
import type { CropBatch } from '../../src/inference/EmotionClassifier.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

/** An ONNX Runtime session on a converted model, optimised as the engine runs it (level `all`). */
export async function onnxSession(bytes: Uint8Array): Promise<import('onnxruntime-node').InferenceSession> {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
}

/** `probabilities` for a crop batch, row-major [N, K]. */
export async function onnxClassify(
  session: import('onnxruntime-node').InferenceSession,
  crops: CropBatch,
): Promise<Float32Array> {
  const input = new ort.Tensor('uint8', crops.data, [crops.count, crops.size, crops.size, 3]);
  const out = await session.run({ crops: input });
  return out.probabilities?.data as Float32Array;
}

/** BlazeFace `rows` [896, 17] for a frame and its letterbox pads. */
export async function onnxBlazeFaceRows(
  session: import('onnxruntime-node').InferenceSession,
  image: { data: Uint8Array; width: number; height: number },
  pads: { top: number; bottom: number; left: number; right: number },
): Promise<Float32Array> {
  const feeds = {
    // ORT's binding refuses shared memory, and decoded frames are shared (see src/inference/OnnxBlazeFace.ts)
    image: new ort.Tensor('uint8', new Uint8Array(image.data), [1, image.height, image.width, 3]),
    pads: new ort.Tensor(
      'int64',
      BigInt64Array.from([0, pads.top, pads.left, 0, 0, pads.bottom, pads.right, 0].map(BigInt)),
      [8],
    ),
  };
  const out = await session.run(feeds);
  return out.rows?.data as Float32Array;
}
