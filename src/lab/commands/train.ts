import { detectorArg, numberArg, parseCommand } from '../../cli/cliArgs.js';
import { InputError } from '../../core/errors.js';
import { parseBackbones } from '../../inference/Backbone.js';
import { decodeImage } from '../../media/imageFile.js';
import { runTraining } from '../training/TrainRun.js';

export const TRAIN_USAGE = `usage: emostream train --data DIR --out models/NAME [options]
  --base B[,B]           frozen backbones: human (default), faceapi
  --kind emotion|mask    emotion (default: class folders angry..neutral) or mask (with_mask, without_mask)
  --labels fer2013|ferplus --ferplus-csv FILE   FER+ majority labels instead of the folder names
  --epochs N (60)  --val-split F (0.1)  --held-out F (0; 0.2 for mask)  --seed S (1)
  --hidden N (256)  --dropout F (0.5)  --lr F (0.001)  --batch-size N (256)  --patience N (8)
  --class-weights P (0.5: weights (n / (k n_c))^P; 1 balanced, 0 none)
  --no-mirror            no mirrored-image augmentation
  --augment-mask         also train on the images with a surgical mask drawn from 68-point landmarks
  --augment-lowres PX    also train on the crops degraded to PX pixels a side (small, far faces)
  --synthetic-masks DIR  mask heads: face crops under DIR as without_mask, and with a drawn mask as with_mask
  --synthetic-limit N    at most N of those faces, evenly spread (4000)
  --tta flip|none        average over the crop and its mirror at inference (none)
  --detector D|none      detect faces first and train on the crops (blazeface for mask, none for emotion)
  --unfreeze             also train the last convolutional block (needs @tensorflow/tfjs-node)
  --cache-dir DIR        feature cache (node_modules/.cache/emostream/features)`;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `emostream train`: trains a head on frozen backbone features; the last stdout line is `val_accuracy=...`. */
export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    data: { type: 'string' },
    out: { type: 'string' },
    base: { type: 'string' },
    kind: { type: 'string' },
    labels: { type: 'string' },
    'ferplus-csv': { type: 'string' },
    epochs: { type: 'string' },
    'val-split': { type: 'string' },
    'held-out': { type: 'string' },
    seed: { type: 'string' },
    hidden: { type: 'string' },
    dropout: { type: 'string' },
    lr: { type: 'string' },
    'batch-size': { type: 'string' },
    patience: { type: 'string' },
    'class-weights': { type: 'string' },
    'no-mirror': { type: 'boolean' },
    'augment-mask': { type: 'boolean' },
    'augment-lowres': { type: 'string' },
    'synthetic-masks': { type: 'string' },
    'synthetic-limit': { type: 'string' },
    tta: { type: 'string' },
    detector: { type: 'string' },
    unfreeze: { type: 'boolean' },
    'cache-dir': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(`${TRAIN_USAGE}\n`);
    return 0;
  }
  const data = str(values.data);
  const out = str(values.out);
  if (!data || !out) throw new InputError('BAD_ARGUMENT', `train needs --data DIR and --out DIR\n${TRAIN_USAGE}`);
  const kind = str(values.kind) ?? 'emotion';
  if (kind !== 'emotion' && kind !== 'mask') throw new InputError('BAD_ARGUMENT', '--kind must be emotion or mask');
  const labels = str(values.labels) ?? 'fer2013';
  if (labels !== 'fer2013' && labels !== 'ferplus') {
    throw new InputError('BAD_ARGUMENT', '--labels must be fer2013 or ferplus');
  }
  const tta = str(values.tta) ?? 'none';
  if (tta !== 'flip' && tta !== 'none') throw new InputError('BAD_ARGUMENT', '--tta must be flip or none');
  const detectorFlag = str(values.detector) ?? (kind === 'mask' ? 'blazeface' : 'none');
  const summary = await runTraining({
    decode: (path) => decodeImage(path),
    data,
    out,
    kind,
    backbones: parseBackbones(str(values.base) ?? 'human'),
    labels,
    ferplusCsv: str(values['ferplus-csv']),
    epochs: Math.round(numberArg('epochs', values.epochs, 60, 1, 10_000)),
    valSplit: numberArg('val-split', values['val-split'], 0.1, 0.01, 0.5),
    testSplit: numberArg('held-out', values['held-out'], kind === 'mask' ? 0.2 : 0, 0, 0.5),
    seed: Math.round(numberArg('seed', values.seed, 1, 0, 2 ** 31 - 1)),
    hidden: Math.round(numberArg('hidden', values.hidden, 256, 1, 4096)),
    dropout: numberArg('dropout', values.dropout, 0.5, 0, 0.95),
    learningRate: numberArg('lr', values.lr, 0.001, 1e-6, 1),
    batchSize: Math.round(numberArg('batch-size', values['batch-size'], 256, 1, 65_536)),
    patience: Math.round(numberArg('patience', values.patience, 8, 1, 1000)),
    classWeightPower: numberArg('class-weights', values['class-weights'], 0.5, 0, 2),
    mirror: !values['no-mirror'],
    maskAugment: values['augment-mask'] === true,
    lowRes:
      values['augment-lowres'] === undefined
        ? undefined
        : Math.round(numberArg('augment-lowres', values['augment-lowres'], 0, 8, 111)),
    syntheticMasks: str(values['synthetic-masks'])
      ? {
          dir: str(values['synthetic-masks']) as string,
          limit: Math.round(numberArg('synthetic-limit', values['synthetic-limit'], 4000, 1, 1_000_000)),
        }
      : undefined,
    ttaFlip: tta === 'flip',
    detector: detectorFlag === 'none' ? undefined : detectorArg(detectorFlag),
    unfreeze: values.unfreeze === true,
    cacheDir: str(values['cache-dir']),
    progress: process.stderr,
    command: `emostream train ${argv.join(' ')}`,
  });
  const c = summary.counts;
  process.stdout.write(
    `model=${summary.outDir} train=${c.train} val=${c.val} held_out=${c.heldOut} skipped=${c.skipped} best_epoch=${summary.bestEpoch}\n`,
  );
  if (summary.heldOutAccuracy !== undefined) {
    process.stdout.write(`held_out_accuracy=${summary.heldOutAccuracy.toFixed(4)}\n`);
  }
  process.stdout.write(`val_accuracy=${summary.valAccuracy.toFixed(4)}\n`);
  return 0;
}
