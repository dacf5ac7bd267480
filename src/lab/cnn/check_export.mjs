// Checks an exported emotion CNN against the PyTorch reference that check_export.py wrote: ONNX Runtime and tfjs
// probabilities on the same real faces, max abs difference; with --bench, ORT serving time (one thread).
// Usage: node src/lab/cnn/check_export.mjs MODEL_DIR REFERENCE_JSON [--ort PATH_TO_onnxruntime-node]
//        [--backend cpu|wasm] [--bench] [--tolerance 1e-4]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ort: { type: 'string', default: 'onnxruntime-node' },
    backend: { type: 'string', default: 'cpu' },
    bench: { type: 'boolean', default: false },
    tolerance: { type: 'string', default: '1e-4' },
  },
});
const [modelDir, referencePath] = positionals;
if (!modelDir || !referencePath) throw new Error('usage: check_export.mjs MODEL_DIR REFERENCE_JSON');
const require = createRequire(import.meta.url);
const ref = JSON.parse(readFileSync(referencePath, 'utf8'));
const n = ref.pixels.length;
// ONNX Runtime takes the RGB crops (uint8); tfjs the normalised grey the tfjs engine computes from them.
const crops = new Uint8Array(n * 48 * 48 * 3);
const input = new Float32Array(n * 48 * 48);
ref.pixels.forEach((face, i) => {
  face.forEach((p, j) => {
    crops.fill(p, (i * 2304 + j) * 3, (i * 2304 + j) * 3 + 3);
    input[i * 2304 + j] = (p * 0.2989 + p * 0.587 + p * 0.114) * ref.scale + ref.offset;
  });
});

function maxAbsDiff(a, b) {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const torchProbs = Float32Array.from(ref.probabilities.flat());

// ONNX Runtime
const ort = require(values.ort.includes('/') ? resolve(values.ort) : values.ort);
const session = await ort.InferenceSession.create(join(modelDir, 'model.onnx'), {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const ortOut = await session.run({ crops: new ort.Tensor('uint8', crops, [n, 48, 48, 3]) });
const ortProbs = ortOut.probabilities.data;

// tfjs layers model, loaded from memory (plain tfjs has no file loader)
const tf = require('@tensorflow/tfjs');
if (values.backend === 'wasm') {
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(`${resolve(require.resolve('@tensorflow/tfjs-backend-wasm'), '..')}/`);
}
await tf.setBackend(values.backend);
const modelJson = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
const bin = readFileSync(join(modelDir, 'weights.bin'));
const model = await tf.loadLayersModel({
  load: async () => ({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }),
});
const tfOut = model.predict(tf.tensor4d(input, [n, 48, 48, 1]));
const tfProbs = await tfOut.data();

const result = {
  faces: n,
  tfjsBackend: values.backend,
  maxAbsDiff: {
    torchOrt: maxAbsDiff(torchProbs, ortProbs),
    torchTfjs: maxAbsDiff(torchProbs, tfProbs),
    ortTfjs: maxAbsDiff(ortProbs, tfProbs),
  },
};

async function medianMsPerFace(batch, calls) {
  const feed = { crops: new ort.Tensor('uint8', crops.slice(0, batch * 6912), [batch, 48, 48, 3]) };
  for (let i = 0; i < 20; i++) await session.run(feed);
  const times = [];
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feed);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6 / batch);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
if (values.bench) {
  result.ortMsPerFace = { batch1: await medianMsPerFace(1, 500), batch8: await medianMsPerFace(8, 200) };
}
console.log(JSON.stringify(result, null, 1));
const worst = Math.max(...Object.values(result.maxAbsDiff));
if (!(worst <= Number(values.tolerance))) {
  console.error(`max abs difference ${worst} above ${values.tolerance}`);
  process.exit(1);
}
