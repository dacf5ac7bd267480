import { InputError } from '../../core/errors.js';
import type { ModelManifest, ResolvedModel } from '../../inference/modelManifest.js';
import { blazeFaceGraph } from './blazeFaceGraph.js';
import { readFaceApiNet } from './faceApiNet.js';
import { GraphBuilder } from './GraphBuilder.js';
import { headGraph } from './headGraph.js';
import { graphClassifier } from './humanGraph.js';
import type { Value } from './nchwOps.js';
import { DataType, encodeModel } from './onnxProto.js';
import { pixelsToNchw } from './preprocess.js';
import { SourceFiles } from './SourceFiles.js';

/** Opset 13 (ONNX 1.8), whose models carry IR version 7. */
export const OPSET = 13;
export const IR_VERSION = 7;
export const ONNX_FILE = 'model.onnx';

/** The manifest's `onnx` entry. */
export interface OnnxEntry {
  file: string;
  convertedBy: string;
  sourceSha256: string;
}

export interface Conversion {
  bytes: Uint8Array;
  entry: OnnxEntry;
  /** The files read, in order (what `sourceSha256` hashes). */
  sources: string[];
}

/** The runtimes with an ONNX form; the face-api detectors (tiny, ssd) stay tfjs-only. */
export const CONVERTIBLE_RUNTIMES: readonly ModelManifest['runtime'][] = [
  'graph',
  'faceapi-expression',
  'blazeface',
  'head',
];

/**
 * Converts a model to one ONNX graph honouring the contract in docs/models.md ("ONNX"): classifiers take `crops`
 * (uint8 [N, S, S, 3]) and give `probabilities` (float32 [N, K], the manifest's label order); BlazeFace takes `image`
 * and `pads` and gives `rows` [896, 17]. Same model files, same bytes.
 */
export function convertToOnnx(model: ResolvedModel): Conversion {
  const { manifest } = model;
  if (!CONVERTIBLE_RUNTIMES.includes(manifest.runtime)) {
    throw new InputError(
      'BAD_ARGUMENT',
      `model ${manifest.name} (runtime ${manifest.runtime}) has no ONNX form; convertible: ${CONVERTIBLE_RUNTIMES.join(', ')}`,
    );
  }
  const sources = new SourceFiles();
  const b = new GraphBuilder(manifest.name);
  if (manifest.runtime === 'blazeface') {
    blazeFaceGraph(b, sources, model);
  } else {
    const size = manifest.input.size;
    const crops = b.input('crops', DataType.UINT8, ['N', size, size, 3]);
    const x = pixelsToNchw(b, crops, [-1, size, size, 3], 'crops');
    const probs = classifier(b, sources, model, x);
    b.output(probs.name, 'probabilities', DataType.FLOAT, ['N', probs.shape[1] as number]);
  }
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET,
    producerName: 'emostream convert-onnx',
    docString: `${manifest.name}: ${manifest.description ?? manifest.kind}`,
    graph: b.build(),
  });
  const entry = {
    file: ONNX_FILE,
    convertedBy: `emostream convert-onnx ${manifest.name}`,
    sourceSha256: sources.sha256(),
  };
  return { bytes, entry, sources: sources.paths };
}

function classifier(b: GraphBuilder, sources: SourceFiles, model: ResolvedModel, crops: Value): Value {
  switch (model.manifest.runtime) {
    case 'graph':
      return graphClassifier(b, sources, model, crops);
    case 'faceapi-expression': {
      const net = readFaceApiNet(sources, model);
      return net.classify(b, net.features(b, crops));
    }
    case 'head':
      return headGraph(b, sources, model, crops);
    default:
      throw new Error(`model ${model.manifest.name} (runtime ${model.manifest.runtime}) has no ONNX conversion`);
  }
}
