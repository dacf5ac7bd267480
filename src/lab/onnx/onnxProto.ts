import { ProtoWriter } from './ProtoWriter.js';

/**
 * ONNX's messages as plain objects, and their encoding (field numbers from onnx.proto). onnx.proto is proto2, so
 * repeated numbers are written unpacked and fields in field-number order, as protobuf's own serialiser does.
 */

export const DataType = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export interface OnnxTensor {
  name: string;
  dataType: DataTypeCode;
  dims: readonly number[];
  /** Little-endian element bytes (`raw_data`). */
  raw: Uint8Array;
}

export type OnnxAttribute =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { t: OnnxTensor };

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: Readonly<Record<string, OnnxAttribute>>;
}

/** A graph input or output: element type and shape (a string names a dynamic dimension). */
export interface OnnxValueInfo {
  name: string;
  elemType: DataTypeCode;
  dims: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  docString: string;
  graph: OnnxGraph;
}

const ATTRIBUTE_TYPE = { f: 1, i: 2, s: 3, t: 4, floats: 6, ints: 7 } as const;

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
}

function writeAttribute(w: ProtoWriter, name: string, a: OnnxAttribute): void {
  w.string(1, name);
  let type: number;
  if ('f' in a) {
    w.float(2, a.f);
    type = ATTRIBUTE_TYPE.f;
  } else if ('i' in a) {
    w.int(3, a.i);
    type = ATTRIBUTE_TYPE.i;
  } else if ('s' in a) {
    w.string(4, a.s);
    type = ATTRIBUTE_TYPE.s;
  } else if ('t' in a) {
    w.message(5, (m) => writeTensor(m, a.t));
    type = ATTRIBUTE_TYPE.t;
  } else if ('floats' in a) {
    for (const f of a.floats) w.float(7, f);
    type = ATTRIBUTE_TYPE.floats;
  } else {
    for (const i of a.ints) w.int(8, i);
    type = ATTRIBUTE_TYPE.ints;
  }
  w.int(20, type);
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes)) w.message(5, (m) => writeAttribute(m, name, a));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.dims) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

/** The model's `ModelProto` bytes. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  w.message(8, (op) => {
    op.string(1, '');
    op.int(2, model.opsetVersion);
  });
  return w.finish();
}
