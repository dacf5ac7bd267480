/**
 * Per-face cost of the networks a head could be trained on, batch of 1, interleaved in one run (median of the
 * timed rounds, after warm-up): the two training backbones (`human`, `faceapi`, as `emostream train` runs them,
 * input preparation included) and human's faceres (face recognition, 224 px), the one shipped network not trained
 * on FER2013 that is not a backbone. Prints ms per face and the ratio to the cheapest.
 *
 *   npx vite-node scripts/training/backbone-cost.ts -- [--rounds 60]
 */
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBackbone } from '../../src/inference/Backbone.js';
import type { CropBatch } from '../../src/inference/EmotionClassifier.js';
import { ModelRunner } from '../../src/inference/ModelRunner.js';
import { loadGraphModelFromDisk } from '../../src/inference/modelFiles.js';
import { resolveModel } from '../../src/inference/modelManifest.js';
import { type Tensor, tf } from '../../src/inference/tf.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '60' } } });
const rounds = Number(values.rounds);
await ModelRunner.create({ engine: 'tfjs', backend: 'wasm' });

const crop = (size: number): CropBatch => {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
  return { data, count: 1, size };
};
const read = (out: Tensor | Tensor[]) => {
  for (const t of Array.isArray(out) ? out : [out]) {
    t.dataSync();
    t.dispose();
  }
};

const human = await loadBackbone('human');
const faceapi = await loadBackbone('faceapi');
// faceres ships beside human's emotion model (located through the shipped manifest)
const faceres = await loadGraphModelFromDisk(join(dirname(resolveModel('human').files[0] as string), 'faceres.json'));
// the crops are made once, outside the timed calls
const emotionCrop = crop(112);
const faceresCrop = crop(224);
const candidates: { name: string; run: () => void }[] = [
  { name: 'backbone human (64 px grey)', run: () => read(human.features(emotionCrop)) },
  { name: 'backbone faceapi (112 px)', run: () => read(faceapi.features(emotionCrop)) },
  {
    name: 'human faceres (224 px)',
    run: () =>
      read(
        tf.tidy(() => {
          const x = tf.tensor4d(faceresCrop.data, [1, 224, 224, 3], 'int32').toFloat().div(255);
          return faceres.execute(x) as Tensor[];
        }),
      ),
  },
];
const times = candidates.map(() => [] as number[]);
for (let r = 0; r < rounds + 5; r++) {
  candidates.forEach((c, i) => {
    const t0 = performance.now();
    c.run();
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
