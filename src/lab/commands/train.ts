import { defineCommand } from '../../cli/command.js';
import { DETECTOR_NAMES } from '../../core/config.js';
import { parseBackbones } from '../../inference/Backbone.js';
import { decodeImage } from '../../media/imageFile.js';
import { runTraining } from '../training/TrainRun.js';

export const trainCommand = defineCommand(
  {
    name: 'train',
    synopsis: '--data DIR --out models/NAME [options]',
    description: [
      'Transfer learning: a dense head trained on the features of frozen backbones (cached on disk), with class',
      'weights, augmentation and early stopping on a seeded validation split of DIR (docs/training.md). DIR holds a',
      'folder per class (angry..neutral, or with_mask / without_mask for --kind mask). Writes the model folder',
      '(manifest, weights, training-curve.png); the last line is `val_accuracy=0.xxxx`.',
    ].join('\n'),
    options: {
      data: { type: 'string', arg: 'DIR', help: 'training images, a folder per class (required)' },
      out: { type: 'string', arg: 'DIR', help: 'the model folder to write (required)' },
      base: { type: 'string', arg: 'B[,B]', help: 'frozen backbones: human, faceapi', default: 'human' },
      kind: { type: 'string', arg: 'K', help: 'emotion or mask', default: 'emotion' },
      labels: {
        type: 'string',
        arg: 'L',
        help: 'fer2013 (folder names) or ferplus (FER+ majority)',
        default: 'fer2013',
      },
      'ferplus-csv': { type: 'string', arg: 'FILE', help: 'FER+ votes (needed by --labels ferplus)' },
      epochs: { type: 'string', arg: 'N', help: 'most epochs', default: 60 },
      'val-split': { type: 'string', arg: 'F', help: 'share of DIR kept for validation', default: 0.1 },
      'held-out': {
        type: 'string',
        arg: 'F',
        help: 'share kept out and scored once at the end (0.2 for mask)',
        default: 0,
      },
      seed: { type: 'string', arg: 'S', help: 'seeds splits, shuffles, initialisers and dropout', default: 1 },
      hidden: { type: 'string', arg: 'N', help: 'hidden units', default: 256 },
      dropout: { type: 'string', arg: 'F', help: 'dropout rate', default: 0.5 },
      lr: { type: 'string', arg: 'F', help: 'Adam learning rate', default: 0.001 },
      'batch-size': { type: 'string', arg: 'N', help: 'batch size', default: 256 },
      patience: {
        type: 'string',
        arg: 'N',
        help: 'epochs without a better validation accuracy before stopping',
        default: 8,
      },
      'class-weights': {
        type: 'string',
        arg: 'P',
        help: 'class weights (n / (k n_c))^P; 1 balanced, 0 none',
        default: 0.5,
      },
      'no-mirror': { type: 'boolean', help: 'no mirrored-image augmentation' },
      'augment-mask': { type: 'boolean', help: 'also train on the images with a drawn surgical mask' },
      'augment-lowres': { type: 'string', arg: 'PX', help: 'also train on the crops degraded to PX pixels a side' },
      'synthetic-masks': {
        type: 'string',
        arg: 'DIR',
        help: 'mask heads: faces under DIR without and with a drawn mask',
      },
      'synthetic-limit': { type: 'string', arg: 'N', help: 'at most N of those faces, evenly spread', default: 4000 },
      tta: {
        type: 'string',
        arg: 'T',
        help: 'flip (mean over the crop and its mirror at inference) or none',
        default: 'none',
      },
      detector: {
        type: 'string',
        arg: 'D',
        help: `detect faces first: ${DETECTOR_NAMES.join(', ')} or none (default: blazeface for mask, none for emotion)`,
      },
      'cache-dir': {
        type: 'string',
        arg: 'DIR',
        help: 'feature cache (default: node_modules/.cache/emostream/features)',
      },
    },
    examples: [
      'emostream train --data ../shared/data/fer2013/train --out models/my-head --labels ferplus --ferplus-csv ../shared/data/fer2013/ferplus.csv',
    ],
  },
  async (args, io) => {
    const data = args.required('data');
    const out = args.required('out');
    const kind = args.choice('kind', ['emotion', 'mask'] as const);
    const labels = args.choice('labels', ['fer2013', 'ferplus'] as const);
    const tta = args.choice('tta', ['flip', 'none'] as const);
    const detector = args.string('detector') ?? (kind === 'mask' ? 'blazeface' : 'none');
    if (detector !== 'none' && !(DETECTOR_NAMES as readonly string[]).includes(detector)) {
      args.choice('detector', DETECTOR_NAMES); // throws the usual BAD_ARGUMENT
    }
    const summary = await runTraining({
      decode: (path) => decodeImage(path),
      data,
      out,
      kind,
      backbones: parseBackbones(args.required('base')),
      labels,
      ferplusCsv: args.string('ferplus-csv'),
      epochs: args.int('epochs', 1, 10_000),
      valSplit: args.number('val-split', 0.01, 0.5),
      testSplit: args.has('held-out') ? args.number('held-out', 0, 0.5) : kind === 'mask' ? 0.2 : 0,
      seed: args.int('seed', 0, 2 ** 31 - 1),
      hidden: args.int('hidden', 1, 4096),
      dropout: args.number('dropout', 0, 0.95),
      learningRate: args.number('lr', 1e-6, 1),
      batchSize: args.int('batch-size', 1, 65_536),
      patience: args.int('patience', 1, 1000),
      classWeightPower: args.number('class-weights', 0, 2),
      mirror: !args.flag('no-mirror'),
      maskAugment: args.flag('augment-mask'),
      lowRes: args.has('augment-lowres') ? args.int('augment-lowres', 8, 111) : undefined,
      syntheticMasks: args.has('synthetic-masks')
        ? { dir: args.required('synthetic-masks'), limit: args.int('synthetic-limit', 1, 1_000_000) }
        : undefined,
      ttaFlip: tta === 'flip',
      detector: detector === 'none' ? undefined : detector,
      cacheDir: args.string('cache-dir'),
      progress: process.stderr,
      command: `emostream train ${args.argv.join(' ')}`,
    });
    const c = summary.counts;
    io.out(
      `model=${summary.outDir} train=${c.train} val=${c.val} held_out=${c.heldOut} skipped=${c.skipped} best_epoch=${summary.bestEpoch}`,
    );
    if (summary.heldOutAccuracy !== undefined) io.out(`held_out_accuracy=${summary.heldOutAccuracy.toFixed(4)}`);
    io.out(`val_accuracy=${summary.valAccuracy.toFixed(4)}`);
    return 0;
  },
);
