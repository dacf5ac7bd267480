/**
 * Per-face cost of the networks a head could be trained on, batch of 1, interleaved in one run (median of the
 * timed rounds, after warm-up): the two shipped emotion nets and human's faceres (face recognition, 224 px), the
 * one shipped network not trained on FER2013 that is not yet a backbone. Prints ms and the ratio to the cheapest.
 *
 *   npx vite-node scripts/training/backbone-cost.ts -- [--rounds 60]
 */

import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { faceApi } from '../../src/pipeline/faceApi.js';
import { ModelRunner } from '../../src/pipeline/ModelRunner.js';
import { loadGraphModelFromDisk, loadWeightMapFromDisk } from '../../src/pipeline/modelFiles.js';
import { resolveModel } from '../../src/pipeline/modelManifest.js';
import { type Tensor, type Tensor4D, tf } from '../../src/pipeline/tf.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '60' } } });
const rounds = Number(values.rounds);
await ModelRunner.create('wasm');

// the shipped models' own manifests locate the packages' model folders
const humanModels = dirname(resolveModel('human').files[0] as string);
const expressionManifest = resolveModel('faceapi').files[0] as string;

const emotion = await loadGraphModelFromDisk(join(humanModels, 'emotion.json'));
const faceres = await loadGraphModelFromDisk(join(humanModels, 'faceres.json'));
const expression = new (faceApi().FaceExpressionNet)();
expression.loadFromWeightMap(loadWeightMapFromDisk(expressionManifest));

const run = (out: Tensor | Tensor[]) => {
  for (const t of Array.isArray(out) ? out : [out]) {
    t.dataSync();
    t.dispose();
  }
};
const candidates: { name: string; input: Tensor; run: (x: Tensor) => void }[] = [
  {
    name: 'human emotion (64 px grey)',
    input: tf.randomUniform([1, 64, 64, 1]),
    run: (x) => run(emotion.execute(x) as Tensor),
  },
  {
    name: 'faceapi expression (112 px)',
    input: tf.randomUniform([1, 112, 112, 3], 0, 255),
    run: (x) => run(expression.faceFeatureExtractor.forwardInput({ toBatchTensor: () => x as Tensor4D } as never)),
  },
  {
    name: 'human faceres (224 px)',
    input: tf.randomUniform([1, 224, 224, 3]),
    run: (x) => run(faceres.execute(x) as Tensor[]),
  },
];
const times = candidates.map(() => [] as number[]);
for (let r = 0; r < rounds + 5; r++) {
  candidates.forEach((c, i) => {
    const t0 = performance.now();
    c.run(c.input);
    if (r >= 5) times[i]?.push(performance.now() - t0);
  });
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
const medians = times.map(median);
const cheapest = Math.min(...medians);
candidates.forEach((c, i) => {
  const m = medians[i] as number;
  console.log(`${c.name.padEnd(30)} ${m.toFixed(1).padStart(7)} ms/face  ${(m / cheapest).toFixed(1)}x`);
});
