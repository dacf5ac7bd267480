import type { GraphBuilder } from './GraphBuilder.js';
import type { Weight } from './tfjsWeights.js';
import { weightTensor } from './weightTensor.js';

/**
 * ONNX layers with TensorFlow's semantics, on NCHW tensors whose shape is tracked here (batch -1: dynamic). TF
 * stores conv filters HWIO and depthwise filters HW(C)(multiplier); ONNX wants OIHW and a grouped conv.
 */
export interface Value {
  name: string;
  /** NCHW for `nchw`; as is for `flat`. */
  shape: number[];
  layout: 'nchw' | 'flat';
}

export type Padding = 'SAME' | 'VALID';

interface ConvOptions {
  /** Initializer names (unique per weight). */
  names: { filter: string; bias?: string };
  filter: Weight;
  bias?: Float32Array;
  stride: number;
  dilation?: number;
  padding: Padding;
}

/** TF's output size and padding (begin, end) of one spatial axis: SAME puts the odd pixel at the end. */
export function tfPadding(size: number, kernel: number, stride: number, dilation: number, padding: Padding) {
  const k = (kernel - 1) * dilation + 1;
  if (padding === 'VALID') return { out: Math.floor((size - k) / stride) + 1, begin: 0, end: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, begin: Math.floor(total / 2), end: total - Math.floor(total / 2) };
}

function spatial(x: Value, kh: number, kw: number, stride: number, dilation: number, padding: Padding) {
  if (x.layout !== 'nchw') throw new Error(`${x.name}: expected an NCHW tensor`);
  const [n, , h, w] = x.shape as [number, number, number, number];
  const ph = tfPadding(h, kh, stride, dilation, padding);
  const pw = tfPadding(w, kw, stride, dilation, padding);
  return { n, h: ph.out, w: pw.out, pads: [ph.begin, pw.begin, ph.end, pw.end] };
}

/** Element order HWIO -> OIHW (index into the stored filter of each output element). */
function oihwOrder(shape: readonly number[]): Int32Array {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const order = new Int32Array(kh * kw * ci * co);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) order[((o * ci + i) * kh + y) * kw + x] = ((y * kw + x) * ci + i) * co + o;
  return order;
}

/** Depthwise HW(C)(M) -> [C*M, 1, H, W] is HWIO -> OIHW with C*M outputs of one input each. */
function depthwiseOrder(shape: readonly number[]): Int32Array {
  const [kh, kw, c, m] = shape as [number, number, number, number];
  return oihwOrder([kh, kw, 1, c * m]);
}

function convNode(b: GraphBuilder, x: Value, o: ConvOptions, depthwise: boolean, hint: string): Value {
  const [kh, kw, ci, co] = o.filter.shape as [number, number, number, number];
  const dilation = o.dilation ?? 1;
  const { n, h, w, pads } = spatial(x, kh, kw, o.stride, dilation, o.padding);
  const channels = depthwise ? ci * co : co;
  const order = depthwise ? depthwiseOrder(o.filter.shape) : oihwOrder(o.filter.shape);
  const dims = depthwise ? [channels, 1, kh, kw] : [co, ci, kh, kw];
  const inputs = [weightTensor(b, o.names.filter, o.filter, dims, order)];
  if (o.bias) inputs.push(b.floats(o.names.bias ?? `${o.names.filter}/bias`, o.bias, [channels]));
  const name = b.op(
    'Conv',
    [x.name, ...inputs],
    {
      dilations: { ints: [dilation, dilation] },
      group: { i: depthwise ? ci : 1 },
      kernel_shape: { ints: [kh, kw] },
      pads: { ints: pads },
      strides: { ints: [o.stride, o.stride] },
    },
    hint,
  );
  return { name, shape: [n, channels, h, w], layout: 'nchw' };
}

export function conv2d(b: GraphBuilder, x: Value, o: ConvOptions, hint = 'conv'): Value {
  return convNode(b, x, o, false, hint);
}

export function depthwiseConv2d(b: GraphBuilder, x: Value, o: ConvOptions, hint = 'depthwise'): Value {
  return convNode(b, x, o, true, hint);
}

export function pool(
  b: GraphBuilder,
  kind: 'MaxPool' | 'AveragePool',
  x: Value,
  k: number,
  stride: number,
  padding: Padding,
  hint: string = kind,
): Value {
  const { n, h, w, pads } = spatial(x, k, k, stride, 1, padding);
  if (kind === 'AveragePool' && pads.some((p) => p > 0)) throw new Error('SAME average pooling is not supported');
  const name = b.op(
    kind,
    [x.name],
    { kernel_shape: { ints: [k, k] }, pads: { ints: pads }, strides: { ints: [stride, stride] } },
    hint,
  );
  return { name, shape: [n, x.shape[1] as number, h, w], layout: 'nchw' };
}

export function add(b: GraphBuilder, x: Value, y: Value, hint = 'add'): Value {
  if (x.shape.join() !== y.shape.join()) throw new Error(`add: shapes differ ${x.shape} vs ${y.shape}`);
  return { ...x, name: b.op('Add', [x.name, y.name], {}, hint) };
}

export function relu(b: GraphBuilder, x: Value, hint = 'relu'): Value {
  return { ...x, name: b.op('Relu', [x.name], {}, hint) };
}

/** NCHW [N, C, 1, 1] or any NCHW tensor -> [N, C*H*W] in NHWC element order (as TF's reshape would flatten). */
export function flattenNhwc(b: GraphBuilder, x: Value, hint = 'flatten'): Value {
  if (x.layout === 'flat' && x.shape.length === 2) return x;
  if (x.layout === 'flat') throw new Error(`${hint}: cannot flatten a ${x.shape.length}-D tensor`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const nhwc =
    h === 1 && w === 1 ? x.name : b.op('Transpose', [x.name], { perm: { ints: [0, 2, 3, 1] } }, `${hint}/nhwc`);
  return { name: b.op('Flatten', [nhwc], { axis: { i: 1 } }, hint), shape: [n, c * h * w], layout: 'flat' };
}
