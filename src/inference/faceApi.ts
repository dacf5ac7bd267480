import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * face-api's node-wasm build, which uses the same CommonJS `@tensorflow/tfjs` as `./tf.ts` (its default entry
 * would need tfjs-node). Typed loosely: we use a handful of its classes.
 */
const require = createRequire(import.meta.url);

export interface FaceApiNet {
  loadFromWeightMap(map: import('@tensorflow/tfjs').NamedTensorMap): void;
  dispose(): void;
}

export interface FaceApiDetection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

export interface FaceApiModule {
  TinyFaceDetector: new () => FaceApiNet & {
    locateFaces(input: unknown, options: unknown): Promise<FaceApiDetection[]>;
  };
  SsdMobilenetv1: new () => FaceApiNet & {
    locateFaces(input: unknown, options: unknown): Promise<FaceApiDetection[]>;
  };
  FaceExpressionNet: new () => FaceApiNet & {
    faceFeatureExtractor: { forwardInput(input: { toBatchTensor(): unknown }): import('@tensorflow/tfjs').Tensor4D };
    forwardInput(features: import('@tensorflow/tfjs').Tensor): import('@tensorflow/tfjs').Tensor2D;
  };
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => unknown;
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => unknown;
}

let cached: FaceApiModule | undefined;

export function faceApi(): FaceApiModule {
  if (!cached) {
    const pkg = dirname(require.resolve('@vladmandic/face-api/package.json'));
    cached = require(join(pkg, 'dist', 'face-api.node-wasm.js')) as FaceApiModule;
  }
  return cached;
}
