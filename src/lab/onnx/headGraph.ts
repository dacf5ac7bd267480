import { BACKBONE_NAMES, backboneKey, HUMAN_BLOCK, HUMAN_LOGITS, weightFilesOf } from '../../inference/Backbone.js';
import { type ResolvedModel, resolveModel } from '../../inference/modelManifest.js';
import { denseHead } from './denseHead.js';
import { readFaceApiNet } from './faceApiNet.js';
import type { GraphBuilder } from './GraphBuilder.js';
import { humanFeatures } from './humanGraph.js';
import type { Value } from './nchwOps.js';
import type { SourceFiles } from './SourceFiles.js';

const INT64_MIN = -(2 ** 63);

/**
 * A trained head with its backbones in one graph, as `HeadModel.predict` computes it (src/inference/HeadModel.ts):
 * each backbone's features (manifest `backbones` order) concatenated, the dense head; with flip TTA the crops and
 * their mirrors run as one batch of 2N and the two halves' probabilities are averaged.
 */
export function headGraph(b: GraphBuilder, sources: SourceFiles, model: ResolvedModel, crops: Value): Value {
  const { manifest } = model;
  const flip = manifest.training?.tta === 'flip';
  let x = crops;
  if (flip) {
    const ints = (name: string, v: number) => b.int64s(`const/i64/${name}`, [v]);
    const mirrored = b.op(
      'Slice',
      [x.name, ints('-1', -1), ints('min', INT64_MIN), ints('3', 3), ints('-1', -1)],
      {},
      'tta/mirror',
    );
    x = { ...x, name: b.op('Concat', [x.name, mirrored], { axis: { i: 0 } }, 'tta/batch') };
  }
  const features = (manifest.backbones ?? []).map((name) => backboneFeatures(b, sources, manifest.training, name, x));
  if (features.length === 0) throw new Error(`head ${manifest.name} names no backbones`);
  const dim = features.reduce((n, f) => n + (f.shape[1] as number), 0);
  const joined: Value =
    features.length === 1
      ? (features[0] as Value)
      : {
          name: b.op(
            'Concat',
            features.map((f) => f.name),
            { axis: { i: 1 } },
            'features',
          ),
          shape: [-1, dim],
          layout: 'flat',
        };
  const probs = denseHead(b, sources, model.files[0] as string, joined, manifest.name);
  if (!flip) return probs;
  const k = probs.shape[1] as number;
  const halves = b.op('Reshape', [probs.name, b.int64s(`tta/shape`, [2, -1, k])], {}, 'tta/halves');
  return {
    name: b.op('ReduceMean', [halves], { axes: { ints: [0] }, keepdims: { i: 0 } }, 'tta/mean'),
    shape: [-1, k],
    layout: 'flat',
  };
}

function backboneFeatures(
  b: GraphBuilder,
  sources: SourceFiles,
  training: Record<string, unknown> | undefined,
  name: string,
  crops: Value,
): Value {
  if (!(BACKBONE_NAMES as readonly string[]).includes(name)) throw new Error(`unknown backbone ${name}`);
  const backbone = resolveModel(name);
  const expected = (training?.backboneKeys as Record<string, string> | undefined)?.[name];
  const key = backboneKey(name, backbone.manifest, weightFilesOf(backbone.files[0] as string));
  if (expected && expected !== key) {
    throw new Error(`the head was trained on another version of backbone ${name} (${expected}, installed ${key})`);
  }
  if (name === 'human') return humanFeatures(b, sources, backbone, crops, { block: HUMAN_BLOCK, logits: HUMAN_LOGITS });
  return readFaceApiNet(sources, backbone).features(b, crops);
}
