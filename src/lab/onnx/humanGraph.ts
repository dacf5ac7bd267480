import type { ResolvedModel } from '../../inference/modelManifest.js';
import type { GraphBuilder } from './GraphBuilder.js';
import { flattenNhwc, type Value } from './nchwOps.js';
import { cropTensor } from './preprocess.js';
import type { SourceFiles } from './SourceFiles.js';
import { TfGraph } from './TfGraph.js';
import { translateTfGraph } from './tfGraphToOnnx.js';

/** The tfjs graph with one placeholder, fed the crops preprocessed as `cropTensor` does. */
function runGraph(b: GraphBuilder, sources: SourceFiles, model: ResolvedModel, crops: Value, wanted?: string[]) {
  const graph = TfGraph.read(sources, model.files[0] as string);
  const [placeholder, ...more] = graph.placeholders();
  if (!placeholder || more.length > 0) throw new Error(`${model.manifest.name}: expected one graph input`);
  const x = cropTensor(b, crops, model.manifest.input, `${model.manifest.name}/input`);
  return translateTfGraph(b, graph, { [placeholder]: x }, wanted ?? graph.leaves(), model.manifest.name);
}

/** A graph emotion model (`runtime: graph`): its single output, softmaxed when the manifest says logits. */
export function graphClassifier(b: GraphBuilder, sources: SourceFiles, model: ResolvedModel, crops: Value): Value {
  const outputs = runGraph(b, sources, model, crops);
  if (outputs.length !== 1) throw new Error(`${model.manifest.name}: expected one graph output`);
  const y = flattenNhwc(b, outputs[0] as Value, `${model.manifest.name}/output`);
  if (model.manifest.outputs !== 'logits') return y;
  return { ...y, name: b.op('Softmax', [y.name], { axis: { i: -1 } }, `${model.manifest.name}/softmax`) };
}

/**
 * human's features for a head, as `HumanBackbone` computes them (src/inference/Backbone.ts): the last residual
 * block pooled globally (mean, then max) and the model's 7 logits.
 */
export function humanFeatures(
  b: GraphBuilder,
  sources: SourceFiles,
  model: ResolvedModel,
  crops: Value,
  nodes: { block: string; logits: string },
): Value {
  const [block, logits] = runGraph(b, sources, model, crops, [nodes.block, nodes.logits]) as [Value, Value];
  const [n, c] = block.shape as [number, number];
  const pooled = (op: string) =>
    b.op(op, [block.name], { axes: { ints: [2, 3] }, keepdims: { i: 0 } }, `human/features/${op}`);
  const flatLogits = flattenNhwc(b, logits, 'human/features/logits');
  const parts = [pooled('ReduceMean'), pooled('ReduceMax'), flatLogits.name];
  const name = b.op('Concat', parts, { axis: { i: 1 } }, 'human/features');
  return { name, shape: [n, c * 2 + (flatLogits.shape[1] as number)], layout: 'flat' };
}
