/**
 * Measures mask heads on faces they were not trained on: every face blazeface finds in the photos under
 * `--photos` (nobody there wears a mask: each face flagged is a false positive), and the same faces with a drawn
 * mask (varied colours; drawn the same way as `--synthetic-masks` training, so an optimistic figure). Broken down
 * by face size, since small faces are where a head learns the framing of its data set instead of the mask.
 *
 *   npx vite-node scripts/training/measure-mask.ts -- --models models/mask,/tmp/mask2 [--photos ../shared/data/photos]
 */
import { parseArgs } from 'node:util';
import type { RgbImage } from '../../src/core/types.js';
import { cropRegion, cropResize } from '../../src/inference/faceCrop.js';
import { ModelRunner } from '../../src/inference/ModelRunner.js';
import { sampleImages } from '../../src/lab/training/ExtraViews.js';
import { SurgicalMask } from '../../src/lab/training/SurgicalMask.js';
import { decodeImage } from '../../src/media/imageFile.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'models/mask' },
    photos: { type: 'string', default: '../shared/data/photos' },
    detector: { type: 'string', default: 'blazeface' },
  },
});

const SIZE = 112;
const SMALL = 80;

const runner = await ModelRunner.create({ engine: 'tfjs' });
const masker = SurgicalMask.load({ varied: true });
const models = (values.models as string).split(',');
const crops: { plain: Uint8Array; masked: Uint8Array; width: number }[] = [];
for (const path of sampleImages(values.photos as string, Number.POSITIVE_INFINITY)) {
  const image = await decodeImage(path);
  for (const box of await runner.detect(values.detector as string, image)) {
    const plain = new Uint8Array(SIZE * SIZE * 3);
    cropResize(image, cropRegion(box, 0.25), SIZE, plain);
    const face: RgbImage = { data: plain, width: SIZE, height: SIZE };
    crops.push({ plain, masked: (await masker.apply(face)).data, width: Math.round(box.w) });
  }
}
masker.dispose();

const pct = (n: number, d: number) => `${n}/${d} (${((100 * n) / Math.max(1, d)).toFixed(1)}%)`;
console.log(`faces: ${crops.length} (${crops.filter((c) => c.width < SMALL).length} narrower than ${SMALL} px)`);
console.log('| model | unmasked faces called masked (all) | (small) | drawn masks found (all) | (small) |');
console.log('|---|---|---|---|---|');
for (const model of models) {
  const score = async (view: 'plain' | 'masked') => {
    const data = new Uint8Array(crops.length * SIZE * SIZE * 3);
    crops.forEach((c, k) => {
      data.set(c[view], k * SIZE * SIZE * 3);
    });
    return runner.maskScores(model, { data, count: crops.length, size: SIZE });
  };
  const plain = await score('plain');
  const masked = await score('masked');
  const small = crops.map((c) => c.width < SMALL);
  const count = (s: Float32Array, onlySmall: boolean) =>
    crops.filter((_, i) => (s[i] as number) >= 0.5 && (!onlySmall || small[i])).length;
  const nSmall = small.filter(Boolean).length;
  console.log(
    `| ${model} | ${pct(count(plain, false), crops.length)} | ${pct(count(plain, true), nSmall)} | ${pct(count(masked, false), crops.length)} | ${pct(count(masked, true), nSmall)} |`,
  );
}
await runner.close();
