import type { GraphBuilder } from './GraphBuilder.js';
import { DataType } from './onnxProto.js';
import type { Weight } from './tfjsWeights.js';

/**
 * A weight as a graph tensor named `name`, its elements reordered by `order` (element i of the result is element
 * `order[i]` of the stored weight) when given. A float weight is one float32 initializer. A uint8-quantised one (as
 * face-api ships them) stays one byte a weight: `Gather(table, codes)` with tfjs's 256 decoded values as the table,
 * which gives exactly the floats tfjs computes and which ONNX Runtime folds into a constant when it loads the model.
 */
export function weightTensor(
  b: GraphBuilder,
  name: string,
  w: Weight,
  dims: readonly number[],
  order?: Int32Array,
): string {
  const count = dims.reduce((n, d) => n * d, 1);
  if (count !== w.data.length) throw new Error(`${name}: ${w.data.length} values for shape ${dims}`);
  const pick = <T extends Float32Array | Uint8Array>(src: T, make: (n: number) => T): T => {
    if (!order) return src;
    const out = make(src.length);
    for (let i = 0; i < order.length; i++) out[i] = src[order[i] as number] as number;
    return out;
  };
  if (!w.quantized)
    return b.floats(
      name,
      pick(Float32Array.from(w.data), (n) => new Float32Array(n)),
      dims,
    );
  if (b.taken(name)) return name;
  const codes = pick(w.quantized.codes, (n) => new Uint8Array(n));
  const stored = b.initializer(`${name}/codes`, DataType.UINT8, dims, codes);
  const table = b.floats(`${name}/table`, w.quantized.table, [256]);
  const indices = b.op('Cast', [stored], { to: { i: DataType.INT32 } }, `${name}/indices`);
  return b.op('Gather', [table, indices], { axis: { i: 0 } }, name);
}
