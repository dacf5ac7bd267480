import {
  DataType,
  type DataTypeCode,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnxProto.js';

/** Builds one ONNX graph: unique tensor names, initializers stored once, nodes in the order they are added. */
export class GraphBuilder {
  readonly #nodes: OnnxNode[] = [];
  readonly #initializers = new Map<string, OnnxTensor>();
  readonly #inputs: OnnxValueInfo[] = [];
  readonly #outputs: OnnxValueInfo[] = [];
  readonly #used = new Set<string>();

  constructor(readonly name: string) {}

  /** `hint`, or `hint_2`, `hint_3`... when taken. */
  unique(hint: string): string {
    const base = hint.replace(/[^\w./-]/g, '_');
    let name = base;
    for (let k = 2; this.#used.has(name); k++) name = `${base}_${k}`;
    this.#used.add(name);
    return name;
  }

  /** Whether a tensor of this name exists. */
  taken(name: string): boolean {
    return this.#used.has(name);
  }

  input(name: string, elemType: DataTypeCode, dims: (number | string)[]): string {
    if (this.#used.has(name)) throw new Error(`tensor name taken: ${name}`);
    this.#used.add(name);
    this.#inputs.push({ name, elemType, dims });
    return name;
  }

  /** Declares `tensor` a graph output named `name` (through an Identity when the names differ). */
  output(tensor: string, name: string, elemType: DataTypeCode, dims: (number | string)[]): void {
    if (tensor !== name) {
      if (this.#used.has(name)) throw new Error(`tensor name taken: ${name}`);
      this.#used.add(name);
      this.#nodes.push({ name, opType: 'Identity', inputs: [tensor], outputs: [name], attributes: {} });
    }
    this.#outputs.push({ name, elemType, dims });
  }

  /**
   * An initializer. The same name with the same bytes is stored once (weights shared by two uses); the same name
   * with other bytes is a bug.
   */
  initializer(name: string, dataType: DataTypeCode, dims: readonly number[], raw: Uint8Array): string {
    const existing = this.#initializers.get(name);
    if (existing) {
      if (!Buffer.from(existing.raw).equals(Buffer.from(raw))) throw new Error(`initializer ${name} redefined`);
      return name;
    }
    if (this.#used.has(name)) throw new Error(`tensor name taken: ${name}`);
    this.#used.add(name);
    this.#initializers.set(name, { name, dataType, dims: [...dims], raw });
    return name;
  }

  floats(name: string, values: ArrayLike<number>, dims: readonly number[]): string {
    const data = Float32Array.from(values);
    return this.initializer(name, DataType.FLOAT, dims, new Uint8Array(data.buffer));
  }

  int64s(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.initializer(name, DataType.INT64, dims, new Uint8Array(data.buffer));
  }

  /** A node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}, hint = opType): string {
    const out = this.unique(hint);
    this.#nodes.push({ name: out, opType, inputs, outputs: [out], attributes });
    return out;
  }

  build(): OnnxGraph {
    return {
      name: this.name,
      nodes: [...this.#nodes],
      initializers: [...this.#initializers.values()],
      inputs: [...this.#inputs],
      outputs: [...this.#outputs],
    };
  }
}
