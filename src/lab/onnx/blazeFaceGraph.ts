import type { ResolvedModel } from '../../inference/modelManifest.js';
import type { GraphBuilder } from './GraphBuilder.js';
import type { Value } from './nchwOps.js';
import { DataType } from './onnxProto.js';
import { pixelsToNchw, resizeBilinear, scaleOffset } from './preprocess.js';
import type { SourceFiles } from './SourceFiles.js';
import { TfGraph } from './TfGraph.js';
import { translateTfGraph } from './tfGraphToOnnx.js';

/**
 * The BlazeFace graph's outputs by node name (tfjs returns them in another order), in the anchor order
 * `decodeBlazeFace` expects: the 16x16 grid (512 anchors) first, then the 8x8 grid (384); score logit, then box and
 * keypoints.
 */
const GRIDS = [
  { scores: 'Identity', boxes: 'Identity_2', anchors: 512 },
  { scores: 'Identity_1', boxes: 'Identity_3', anchors: 384 },
];
const ROW = 17;

/**
 * `BlazeFaceDetector.detect` up to its decoding: the frame (uint8 [1, H, W, 3]) padded with zeros by `pads`
 * ([0, top, left, 0, 0, bottom, right, 0], from `letterbox()`), resized to the model's size (asymmetric bilinear,
 * as tfjs), scaled and offset, run; the four outputs concatenated into rows [896, 17].
 */
export function blazeFaceGraph(b: GraphBuilder, sources: SourceFiles, model: ResolvedModel): void {
  const { manifest } = model;
  const size = manifest.input.size;
  const image = b.input('image', DataType.UINT8, [1, 'H', 'W', 3]);
  const pads = b.input('pads', DataType.INT64, [8]);
  const padded = b.op('Pad', [image, pads], { mode: { s: 'constant' } }, 'letterbox');
  let x: Value = pixelsToNchw(b, padded, [1, -1, -1, 3], 'image');
  x = resizeBilinear(b, x, size, size, 'resize');
  x = scaleOffset(b, x, manifest.input.scale, manifest.input.offset, 'input');

  const graph = TfGraph.read(sources, model.files[0] as string);
  const [placeholder, ...more] = graph.placeholders();
  if (!placeholder || more.length > 0) throw new Error('blazeface: expected one graph input');
  const wanted = GRIDS.flatMap((g) => [g.scores, g.boxes]);
  const outs = translateTfGraph(b, graph, { [placeholder]: x }, wanted, 'blazeface');
  const grids = GRIDS.map((g, k) => {
    const [scores, boxes] = [outs[k * 2], outs[k * 2 + 1]] as [Value, Value];
    if (scores.shape.join() !== `1,${g.anchors},1` || boxes.shape.join() !== `1,${g.anchors},${ROW - 1}`) {
      throw new Error(`blazeface: unexpected output shapes ${scores.shape} / ${boxes.shape}`);
    }
    return b.op('Concat', [scores.name, boxes.name], { axis: { i: 2 } }, `rows/${g.anchors}`);
  });
  const all = b.op('Concat', grids, { axis: { i: 1 } }, 'rows/all');
  const rows = b.op('Reshape', [all, b.int64s('rows/shape', [-1, ROW])], {}, 'rows');
  b.output(rows, 'rows', DataType.FLOAT, [GRIDS.reduce((n, g) => n + g.anchors, 0), ROW]);
}
