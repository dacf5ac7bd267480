import type { ResolvedModel } from '../../inference/modelManifest.js';
import type { GraphBuilder } from './GraphBuilder.js';
import { add, conv2d, depthwiseConv2d, flattenNhwc, pool, relu, type Value } from './nchwOps.js';
import { resizeBilinear, subtractMean } from './preprocess.js';
import type { SourceFiles } from './SourceFiles.js';
import { readWeightsManifest, type Weight } from './tfjsWeights.js';
import { weightTensor } from './weightTensor.js';

/**
 * face-api's expression net (`@vladmandic/face-api` 1.7.15, dist/face-api.node-wasm.js), rebuilt from its source:
 * `FaceFeatureExtractor.forwardInput` casts, subtracts [122.782, 117.001, 104.298] and divides by 255, runs four
 * `denseBlock4`s (32, 64, 128, 256 channels, each halving the size) and a 7x7 average pool (stride 2, valid);
 * `FaceExpressionNet.forwardInput` flattens, applies the fully connected layer `fc` and a softmax.
 */
const INPUT_SIZE = 112;
const MEAN = [122.782, 117.001, 104.298];
const BLOCKS = ['dense0', 'dense1', 'dense2', 'dense3'];

type Weights = Map<string, Weight>;

function weight(w: Weights, name: string): Weight {
  const v = w.get(name);
  if (!v) throw new Error(`face-api weights have no ${name}`);
  return v;
}

/** face-api's `separableConv2d(x, depthwise, pointwise, stride, 'same') + bias`. */
function separable(b: GraphBuilder, w: Weights, x: Value, path: string, stride: number): Value {
  const d = depthwiseConv2d(
    b,
    x,
    {
      names: { filter: `faceapi/${path}/depthwise_filter` },
      filter: weight(w, `${path}/depthwise_filter`),
      stride,
      padding: 'SAME',
    },
    `faceapi/${path}/depthwise`,
  );
  return conv2d(
    b,
    d,
    {
      names: { filter: `faceapi/${path}/pointwise_filter`, bias: `faceapi/${path}/bias` },
      filter: weight(w, `${path}/pointwise_filter`),
      bias: weight(w, `${path}/bias`).data as Float32Array,
      stride: 1,
      padding: 'VALID',
    },
    `faceapi/${path}/pointwise`,
  );
}

/** `denseBlock4(x, params, isFirstLayer, isScaleDown = true)`, additions in face-api's order. */
function denseBlock4(b: GraphBuilder, w: Weights, x: Value, block: string, first: boolean): Value {
  const p = `faceapi/${block}`;
  const c0 = first
    ? conv2d(
        b,
        x,
        {
          names: { filter: `${p}/conv0/filters`, bias: `${p}/conv0/bias` },
          filter: weight(w, `${block}/conv0/filters`),
          bias: weight(w, `${block}/conv0/bias`).data as Float32Array,
          stride: 2,
          padding: 'SAME',
        },
        `${p}/conv0`,
      )
    : separable(b, w, x, `${block}/conv0`, 2);
  const out0 = relu(b, c0, `${p}/out0`);
  const out1 = separable(b, w, out0, `${block}/conv1`, 1);
  const in2 = relu(b, add(b, out0, out1, `${p}/sum1`), `${p}/in2`);
  const out2 = separable(b, w, in2, `${block}/conv2`, 1);
  const in3 = relu(b, add(b, out0, add(b, out1, out2, `${p}/sum2a`), `${p}/sum2`), `${p}/in3`);
  const out3 = separable(b, w, in3, `${block}/conv3`, 1);
  const s = add(b, out0, add(b, out1, add(b, out2, out3, `${p}/sum3b`), `${p}/sum3a`), `${p}/sum3`);
  return relu(b, s, `${p}/out`);
}

export interface FaceApiParts {
  /** Crops (float NCHW, any size) -> features [N, 256]. */
  features(b: GraphBuilder, crops: Value): Value;
  /** Features -> softmaxed expression probabilities [N, 7], face-api's label order. */
  classify(b: GraphBuilder, features: Value): Value;
}

export function readFaceApiNet(sources: SourceFiles, model: ResolvedModel): FaceApiParts {
  const w = readWeightsManifest(sources, model.files[0] as string);
  return {
    features(b, crops) {
      let x = resizeBilinear(b, crops, INPUT_SIZE, INPUT_SIZE, 'faceapi/resize');
      x = subtractMean(b, x, MEAN, 'faceapi/normalize');
      x = { ...x, name: b.op('Div', [x.name, b.floats('const/f32/255', [255], [])], {}, 'faceapi/normalize/div') };
      for (const [k, block] of BLOCKS.entries()) x = denseBlock4(b, w, x, block, k === 0);
      return flattenNhwc(b, pool(b, 'AveragePool', x, 7, 2, 'VALID', 'faceapi/avgpool'), 'faceapi/features');
    },
    classify(b, features) {
      const fc = weight(w, 'fc/weights');
      const mm = b.op(
        'MatMul',
        [features.name, weightTensor(b, 'faceapi/fc/weights', fc, fc.shape)],
        {},
        'faceapi/fc/matmul',
      );
      const bias = weight(w, 'fc/bias');
      const logits = b.op('Add', [mm, b.floats('faceapi/fc/bias', bias.data, bias.shape)], {}, 'faceapi/fc');
      const name = b.op('Softmax', [logits], { axis: { i: -1 } }, 'faceapi/softmax');
      return { name, shape: [features.shape[0] as number, fc.shape[1] as number], layout: 'flat' };
    },
  };
}
