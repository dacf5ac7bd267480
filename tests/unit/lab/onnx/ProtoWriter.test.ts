import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../../../src/lab/onnx/ProtoWriter.js';

const bytes = (write: (w: ProtoWriter) => void) => {
  const w = new ProtoWriter();
  write(w);
  return [...w.finish()];
};

describe('ProtoWriter', () => {
  it('writes varint fields as protobuf does (150 -> 08 96 01)', () => {
    expect(bytes((w) => w.int(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes((w) => w.int(2, 0))).toEqual([0x10, 0x00]);
    expect(bytes((w) => w.int(20, 7))).toEqual([0xa0, 0x01, 0x07]);
  });

  it('writes negative int64 as ten bytes of two’s complement', () => {
    expect(bytes((w) => w.int(1, -1))).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(bytes((w) => w.int(1, -(2 ** 63)))).toEqual([
      0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
    ]);
  });

  it('writes floats as little-endian fixed32 and strings length-delimited', () => {
    expect(bytes((w) => w.float(2, 1.5))).toEqual([0x15, 0x00, 0x00, 0xc0, 0x3f]);
    expect(bytes((w) => w.string(2, 'testing'))).toEqual([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
  });

  it('nests messages with their length and packs repeated varints', () => {
    expect(bytes((w) => w.message(3, (m) => m.int(1, 150)))).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
    expect(bytes((w) => w.packedInts(4, [3, 270, 86942]))).toEqual([0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
  });

  it('gives lengths past 127 a multi-byte varint', () => {
    const out = bytes((w) => w.bytes(1, new Uint8Array(300)));
    expect(out.slice(0, 3)).toEqual([0x0a, 0xac, 0x02]);
    expect(out).toHaveLength(303);
  });
});
