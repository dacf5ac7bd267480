import { dirname } from 'node:path';
import type { SourceFiles } from './SourceFiles.js';
import { readWeights, type Weight, type WeightGroup } from './tfjsWeights.js';

/** An attribute of a GraphDef node as tfjs's model.json stores it (strings base64). */
export interface TfAttr {
  s?: string;
  i?: string;
  b?: boolean;
  f?: number;
  list?: { s?: string[]; i?: string[]; f?: number[] };
}

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

/** A tfjs graph model (model.json's GraphDef and its decoded weights). */
export class TfGraph {
  readonly nodes: ReadonlyMap<string, TfNode>;
  readonly weights: ReadonlyMap<string, Weight>;

  private constructor(nodes: TfNode[], weights: Map<string, Weight>) {
    this.nodes = new Map(nodes.map((n) => [n.name, n]));
    this.weights = weights;
  }

  static read(sources: SourceFiles, jsonPath: string): TfGraph {
    const json = sources.json<{ modelTopology: { node: TfNode[] }; weightsManifest: WeightGroup[] }>(jsonPath);
    return new TfGraph(json.modelTopology.node, readWeights(sources, dirname(jsonPath), json.weightsManifest));
  }

  node(name: string): TfNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`graph has no node "${name}"`);
    return n;
  }

  weight(name: string): Weight {
    const w = this.weights.get(name);
    if (!w) throw new Error(`graph has no weight "${name}"`);
    return w;
  }

  /** Placeholders, in graph order. */
  placeholders(): string[] {
    return [...this.nodes.values()].filter((n) => n.op === 'Placeholder').map((n) => n.name);
  }

  /** Nodes no other node reads (what tfjs's `execute` returns when the model has no signature), in graph order. */
  leaves(): string[] {
    const read = new Set([...this.nodes.values()].flatMap((n) => (n.input ?? []).map(inputName)));
    return [...this.nodes.values()].filter((n) => n.op !== 'Const' && !read.has(n.name)).map((n) => n.name);
  }
}

/** A node input's producer (`name:0` and control inputs `^name` named plainly). */
export function inputName(input: string): string {
  const plain = input.startsWith('^') ? input.slice(1) : input;
  const colon = plain.lastIndexOf(':');
  if (colon < 0) return plain;
  if (plain.slice(colon + 1) !== '0') throw new Error(`multi-output node inputs are not supported: ${input}`);
  return plain.slice(0, colon);
}

export function attrString(attr: TfAttr | undefined): string | undefined {
  return attr?.s === undefined ? undefined : Buffer.from(attr.s, 'base64').toString('utf8');
}

export function attrStrings(attr: TfAttr | undefined): string[] {
  return (attr?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
}

export function attrInts(attr: TfAttr | undefined): number[] {
  return (attr?.list?.i ?? []).map(Number);
}
