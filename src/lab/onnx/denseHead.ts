import { dirname } from 'node:path';
import type { GraphBuilder } from './GraphBuilder.js';
import type { Value } from './nchwOps.js';
import type { SourceFiles } from './SourceFiles.js';
import { readWeights, type WeightGroup } from './tfjsWeights.js';
import { weightTensor } from './weightTensor.js';

interface LayerSpec {
  class_name: string;
  config: { name: string; units?: number; activation?: string; use_bias?: boolean; axis?: number | number[] };
}

interface LayersModelJson {
  modelTopology: { class_name: string; config: { layers: LayerSpec[] } };
  weightsManifest: WeightGroup[];
}

/**
 * A head saved by `saveHead` (tfjs layers format: a Sequential of Dense, Dropout, Softmax and Activation layers)
 * applied to a [N, features] tensor: Dense is MatMul + Add as tfjs computes it; Dropout is the identity at inference.
 */
export function denseHead(b: GraphBuilder, sources: SourceFiles, jsonPath: string, x: Value, prefix: string): Value {
  const json = sources.json<LayersModelJson>(jsonPath);
  if (json.modelTopology.class_name !== 'Sequential')
    throw new Error(`${jsonPath}: only Sequential heads are supported`);
  const weights = readWeights(sources, dirname(jsonPath), json.weightsManifest);
  let y = x;
  for (const layer of json.modelTopology.config.layers) {
    const hint = `${prefix}/${layer.config.name}`;
    switch (layer.class_name) {
      case 'Dense': {
        const kernel = weights.get(`${layer.config.name}/kernel`);
        if (!kernel || kernel.shape[0] !== y.shape[1]) throw new Error(`${hint}: kernel missing or of the wrong shape`);
        let name = b.op(
          'MatMul',
          [y.name, weightTensor(b, `${hint}/kernel`, kernel, kernel.shape)],
          {},
          `${hint}/matmul`,
        );
        const bias = weights.get(`${layer.config.name}/bias`);
        if (layer.config.use_bias !== false) {
          if (!bias) throw new Error(`${hint}: bias missing`);
          name = b.op('Add', [name, b.floats(`${hint}/bias`, bias.data, bias.shape)], {}, `${hint}/bias`);
        }
        y = activation(
          b,
          { name, shape: [y.shape[0] as number, kernel.shape[1] as number], layout: 'flat' },
          layer.config.activation,
          hint,
        );
        break;
      }
      case 'Dropout':
        break;
      case 'Softmax': {
        const axis = layer.config.axis ?? -1;
        if (axis !== -1 && axis !== 1) throw new Error(`${hint}: softmax over axis ${axis}`);
        y = activation(b, y, 'softmax', hint);
        break;
      }
      case 'Activation':
        y = activation(b, y, layer.config.activation, hint);
        break;
      default:
        throw new Error(`${hint}: layer ${layer.class_name} is not supported by the ONNX converter`);
    }
  }
  return y;
}

function activation(b: GraphBuilder, x: Value, kind: string | undefined, hint: string): Value {
  switch (kind ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return { ...x, name: b.op('Relu', [x.name], {}, `${hint}/relu`) };
    case 'softmax':
      return { ...x, name: b.op('Softmax', [x.name], { axis: { i: -1 } }, `${hint}/softmax`) };
    case 'sigmoid':
      return { ...x, name: b.op('Sigmoid', [x.name], {}, `${hint}/sigmoid`) };
    default:
      throw new Error(`${hint}: activation ${kind} is not supported by the ONNX converter`);
  }
}
