import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/lab/onnx/GraphBuilder.js';
import { tfPadding } from '../../../../src/lab/onnx/nchwOps.js';
import { DataType, encodeModel } from '../../../../src/lab/onnx/onnxProto.js';
import { weightTensor } from '../../../../src/lab/onnx/weightTensor.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

/** y = x * w + b with w a quantised weight (codes through a table) and b a float initializer, batch dynamic. */
function tinyModel(): Uint8Array {
  const b = new GraphBuilder('tiny');
  const x = b.input('x', DataType.FLOAT, ['N', 3]);
  const w = weightTensor(
    b,
    'w',
    {
      data: Float32Array.from([0.5, -1, 2]),
      shape: [3],
      quantized: {
        codes: Uint8Array.from([1, 0, 2]),
        table: Float32Array.from({ length: 256 }, (_, k) => [-1, 0.5, 2][k] ?? 0),
      },
    },
    [3],
  );
  const bias = b.floats('bias', [10, 20, 30], [3]);
  const y = b.op('Add', [b.op('Mul', [x, w]), bias]);
  b.output(y, 'y', DataType.FLOAT, ['N', 3]);
  return encodeModel({ irVersion: 7, opsetVersion: 13, producerName: 'test', docString: '', graph: b.build() });
}

describe('ONNX graph writing', () => {
  it('writes a model ONNX Runtime loads and runs, with dynamic batch and a quantised weight', async () => {
    const session = await ort.InferenceSession.create(tinyModel(), { graphOptimizationLevel: 'all' });
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1, 1, 2, 3, 4]), [2, 3]) });
    expect(Array.from((out.y?.data ?? []) as Float32Array)).toEqual([10.5, 19, 32, 11, 17, 38]);
    await session.release();
  });

  it('gives the same bytes every time', () => {
    expect(Buffer.from(tinyModel()).equals(Buffer.from(tinyModel()))).toBe(true);
  });

  it('refuses an initializer name reused for other values, and keeps one copy of a repeated one', () => {
    const b = new GraphBuilder('g');
    expect(b.floats('w', [1, 2], [2])).toBe('w');
    expect(b.floats('w', [1, 2], [2])).toBe('w');
    expect(() => b.floats('w', [1, 3], [2])).toThrow(/redefined/);
    expect(b.build().initializers).toHaveLength(1);
  });
});

describe('TF padding', () => {
  it('puts SAME padding’s odd pixel at the end, as TensorFlow does', () => {
    expect(tfPadding(112, 3, 2, 1, 'SAME')).toEqual({ out: 56, begin: 0, end: 1 });
    expect(tfPadding(7, 3, 1, 1, 'SAME')).toEqual({ out: 7, begin: 1, end: 1 });
    expect(tfPadding(256, 5, 2, 1, 'SAME')).toEqual({ out: 128, begin: 1, end: 2 });
    expect(tfPadding(7, 7, 2, 1, 'VALID')).toEqual({ out: 1, begin: 0, end: 0 });
  });
});
