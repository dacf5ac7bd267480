import type { ModelManifest } from '../../inference/modelManifest.js';
import type { GraphBuilder } from './GraphBuilder.js';
import type { Value } from './nchwOps.js';
import { DataType } from './onnxProto.js';

/** uint8 NHWC pixels -> float32 NCHW (tfjs casts int32 crops to float: the same values). */
export function pixelsToNchw(b: GraphBuilder, pixels: string, shape: number[], hint: string): Value {
  const float = b.op('Cast', [pixels], { to: { i: DataType.FLOAT } }, `${hint}/float`);
  const name = b.op('Transpose', [float], { perm: { ints: [0, 3, 1, 2] } }, `${hint}/nchw`);
  const [n, h, w, c] = shape as [number, number, number, number];
  return { name, shape: [n, c, h, w], layout: 'nchw' };
}

/**
 * `tf.image.resizeBilinear` with its defaults (alignCorners and halfPixelCenters false): ONNX Resize, linear,
 * asymmetric coordinates. Output sizes are built from the input's shape so the batch stays dynamic.
 */
export function resizeBilinear(b: GraphBuilder, x: Value, height: number, width: number, hint: string): Value {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (h === height && w === width) return x;
  let sizes: string;
  if (n > 0) {
    sizes = b.int64s(`${hint}/sizes`, [n, c, height, width]);
  } else {
    const shape = b.op('Shape', [x.name], {}, `${hint}/shape`);
    const nc = b.op('Slice', [shape, b.int64s('const/i64/0', [0]), b.int64s('const/i64/2', [2])], {}, `${hint}/nc`);
    sizes = b.op(
      'Concat',
      [nc, b.int64s(`const/i64/${height},${width}`, [height, width])],
      { axis: { i: 0 } },
      `${hint}/sizes`,
    );
  }
  const name = b.op(
    'Resize',
    [x.name, '', '', sizes],
    { coordinate_transformation_mode: { s: 'asymmetric' }, mode: { s: 'linear' } },
    hint,
  );
  return { name, shape: [n, c, height, width], layout: 'nchw' };
}

/** Multiply then add scalars, as tfjs's `x.mul(scale).add(offset)`, skipping the identities. */
export function scaleOffset(b: GraphBuilder, x: Value, scale: number, offset: number, hint: string): Value {
  let name = x.name;
  if (scale !== 1) name = b.op('Mul', [name, b.floats(`const/f32/${scale}`, [scale], [])], {}, `${hint}/scale`);
  if (offset !== 0) name = b.op('Add', [name, b.floats(`const/f32/${offset}`, [offset], [])], {}, `${hint}/offset`);
  return { ...x, name };
}

/** Subtracts a per-channel mean from an NCHW tensor. */
export function subtractMean(b: GraphBuilder, x: Value, mean: readonly number[], hint: string): Value {
  const m = b.floats(`${hint}/mean`, mean, [1, mean.length, 1, 1]);
  return { ...x, name: b.op('Sub', [x.name, m], {}, `${hint}/sub`) };
}

/**
 * `cropTensor` (src/inference/EmotionClassifier.ts) in the graph: float crops (NCHW) at the model's size, minus the
 * mean, grey (0.2989, 0.587, 0.114) when asked, then scale and offset.
 */
export function cropTensor(b: GraphBuilder, crops: Value, input: ModelManifest['input'], hint: string): Value {
  let x = resizeBilinear(b, crops, input.size, input.size, `${hint}/resize`);
  if (input.mean) x = subtractMean(b, x, input.mean, hint);
  if (input.colour === 'grey') {
    const weights = b.floats('const/f32/grey', [0.2989, 0.587, 0.114], [1, 3, 1, 1]);
    const weighted = b.op('Mul', [x.name, weights], {}, `${hint}/grey/mul`);
    const name = b.op('ReduceSum', [weighted, b.int64s('const/i64/1', [1])], { keepdims: { i: 1 } }, `${hint}/grey`);
    x = { name, shape: [x.shape[0] as number, 1, input.size, input.size], layout: 'nchw' };
  }
  return scaleOffset(b, x, input.scale, input.offset, hint);
}
