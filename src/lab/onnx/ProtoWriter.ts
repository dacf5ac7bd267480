/**
 * A minimal protocol-buffers encoder: just what ONNX's messages need (varints, 32-bit floats, length-delimited
 * bytes, strings and nested messages). Fields are written in the order the caller writes them, so equal input
 * gives equal bytes.
 */
export class ProtoWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  #varint(value: bigint): void {
    // Negative int64 values are written as their 64-bit two's complement (ten bytes), as protobuf does.
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.#push(Uint8Array.from(out));
  }

  #tag(field: number, wireType: 0 | 2 | 5): void {
    this.#varint(BigInt((field << 3) | wireType));
  }

  /** A varint field (int32, int64, enum). */
  int(field: number, value: number | bigint): this {
    this.#tag(field, 0);
    this.#varint(BigInt(value));
    return this;
  }

  /** A 32-bit float field. */
  float(field: number, value: number): this {
    this.#tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(BigInt(value.length));
    this.#push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** Repeated varints, packed (one length-delimited field). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.#varint(BigInt(v));
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const c of this.#chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}
