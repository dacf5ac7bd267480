import type { GraphBuilder } from './GraphBuilder.js';
import { add, conv2d, depthwiseConv2d, type Padding, pool, relu, type Value } from './nchwOps.js';
import { attrInts, attrString, attrStrings, inputName, type TfGraph, type TfNode } from './TfGraph.js';

/**
 * Translates the part of a tfjs GraphDef that `wanted` depends on into ONNX nodes, running the network in NCHW
 * (what ONNX Runtime's convolutions are fast at). `feeds` give the placeholders' values (already NCHW). Tensor and
 * initializer names are prefixed with `prefix`. Supports the ops of the human emotion and BlazeFace graphs.
 */
export function translateTfGraph(
  b: GraphBuilder,
  graph: TfGraph,
  feeds: Readonly<Record<string, Value>>,
  wanted: readonly string[],
  prefix: string,
): Value[] {
  const done = new Map<string, Value>();
  const short = (name: string) => `${prefix}/${name.replace(/^StatefulPartitionedCall\//, '')}`;

  const constOf = (input: string) => graph.weight(inputName(input));
  const ints = (input: string) => Array.from(constOf(input).data, Number);

  const translate = (node: TfNode): Value => {
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^'));
    const arg = (k: number): Value => value(inputName(inputs[k] as string));
    const hint = short(node.name);
    switch (node.op) {
      case 'Placeholder': {
        const fed = feeds[node.name];
        if (!fed) throw new Error(`no value for placeholder ${node.name}`);
        return fed;
      }
      case 'Identity':
        return arg(0);
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative': {
        const x = arg(0);
        const filterName = inputName(inputs[1] as string);
        const fused = attrStrings(node.attr?.fused_ops);
        const unsupported = fused.filter((f) => f !== 'BiasAdd' && f !== 'Relu');
        if (unsupported.length > 0) throw new Error(`${node.name}: fused ops ${unsupported} not supported`);
        const biasName = fused.includes('BiasAdd') ? inputName(inputs[2] as string) : undefined;
        const options = {
          names: { filter: short(filterName), bias: biasName && short(biasName) },
          filter: graph.weight(filterName),
          bias: biasName ? (graph.weight(biasName).data as Float32Array) : undefined,
          stride: strideOf(node),
          dilation: strideOf(node, 'dilations'),
          padding: paddingOf(node),
        };
        const y = node.op === '_FusedConv2D' ? conv2d(b, x, options, hint) : depthwiseConv2d(b, x, options, hint);
        return fused.includes('Relu') ? relu(b, y, `${hint}/relu`) : y;
      }
      case 'MaxPool': {
        const [, kh, kw] = attrInts(node.attr?.ksize);
        if (kh !== kw) throw new Error(`${node.name}: non-square pooling`);
        return pool(b, 'MaxPool', arg(0), kh as number, strideOf(node), paddingOf(node), hint);
      }
      case 'AddV2':
      case 'Add':
        return add(b, arg(0), arg(1), hint);
      case 'Relu':
        return relu(b, arg(0), hint);
      case 'Mean':
        return mean(b, arg(0), ints(inputs[1] as string), node.attr?.keep_dims?.b === true, hint);
      case 'Softmax': {
        const x = arg(0);
        return { ...x, name: b.op('Softmax', [x.name], { axis: { i: x.layout === 'nchw' ? 1 : -1 } }, hint) };
      }
      case 'Pad':
        return padNhwc(b, arg(0), ints(inputs[1] as string), hint);
      case 'Reshape':
        return reshapeNhwc(b, arg(0), ints(inputs[1] as string), short(node.name), hint);
      default:
        throw new Error(`${node.name}: TF op ${node.op} is not supported by the ONNX converter`);
    }
  };

  function value(name: string): Value {
    const known = done.get(name);
    if (known) return known;
    const v = translate(graph.node(name));
    done.set(name, v);
    return v;
  }

  return wanted.map(value);
}

function strideOf(node: TfNode, attr: 'strides' | 'dilations' = 'strides'): number {
  const v = attrInts(node.attr?.[attr]);
  if (v.length === 0) return 1;
  if (attrString(node.attr?.data_format) === 'NCHW' || v[1] !== v[2]) throw new Error(`${node.name}: ${attr} ${v}`);
  return v[1] as number;
}

function paddingOf(node: TfNode): Padding {
  const p = attrString(node.attr?.padding);
  if (p !== 'SAME' && p !== 'VALID') throw new Error(`${node.name}: padding ${p} not supported`);
  return p;
}

/** TF's NHWC axis k is NCHW axis NCHW_AXIS[k]. */
const NCHW_AXIS = [0, 2, 3, 1];

function mean(b: GraphBuilder, x: Value, axes: number[], keepDims: boolean, hint: string): Value {
  const rank = x.shape.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  const onnxAxes = x.layout === 'nchw' ? norm.map((a) => NCHW_AXIS[a] as number) : norm;
  if (x.layout === 'nchw' && !keepDims && onnxAxes.sort().join() !== '2,3') {
    throw new Error(`${hint}: Mean over ${axes} without keep_dims is only supported over the spatial axes`);
  }
  const name = b.op('ReduceMean', [x.name], { axes: { ints: onnxAxes }, keepdims: { i: keepDims ? 1 : 0 } }, hint);
  const shape = x.shape
    .map((d, k) => (onnxAxes.includes(k) ? 1 : d))
    .filter((_, k) => keepDims || !onnxAxes.includes(k));
  return { name, shape, layout: keepDims ? x.layout : 'flat' };
}

/** TF Pad ([rank, 2] paddings in NHWC) on an NCHW tensor, zeros. */
function padNhwc(b: GraphBuilder, x: Value, paddings: number[], hint: string): Value {
  if (x.layout !== 'nchw' || paddings.length !== 8) throw new Error(`${hint}: only 4-D Pad is supported`);
  const begin = NCHW_AXIS.map((_, k) => paddings[NCHW_AXIS.indexOf(k) * 2] as number);
  const end = NCHW_AXIS.map((_, k) => paddings[NCHW_AXIS.indexOf(k) * 2 + 1] as number);
  const pads = b.int64s(`${hint}/pads`, [...begin, ...end]);
  const name = b.op('Pad', [x.name, pads], { mode: { s: 'constant' } }, hint);
  return {
    name,
    shape: x.shape.map((d, k) => (d < 0 ? d : d + (begin[k] as number) + (end[k] as number))),
    layout: 'nchw',
  };
}

/** TF Reshape: an NCHW tensor goes back to NHWC first, so elements are taken in TF's order. */
function reshapeNhwc(b: GraphBuilder, x: Value, target: number[], constName: string, hint: string): Value {
  if (target.length === 4) throw new Error(`${hint}: reshape to 4-D is not supported`);
  let input = x.name;
  let shape = x.shape;
  if (x.layout === 'nchw') {
    input = b.op('Transpose', [x.name], { perm: { ints: [0, 2, 3, 1] } }, `${hint}/nhwc`);
    shape = [0, 2, 3, 1].map((k) => x.shape[k] as number);
  }
  const known = shape.every((d) => d > 0);
  const count = shape.reduce((p, d) => p * d, 1);
  const fixed = target.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = target.map((d) => (d === -1 ? (known ? count / fixed : -1) : d));
  const name = b.op('Reshape', [input, b.int64s(`${constName}/shape`, target)], {}, hint);
  return { name, shape: out, layout: 'flat' };
}
