import { join } from 'node:path';
import { defineCommand } from '../../cli/command.js';
import { backendOf, detectorOf, engineOf, MODEL_OPTIONS, workersOf } from '../../cli/modelOptions.js';
import { InferencePool } from '../../inference/InferencePool.js';
import { evaluate } from '../evaluation/evaluate.js';

export const evaluateCommand = defineCommand(
  {
    name: 'evaluate',
    synopsis: '--data DIR [options]',
    description: [
      'Accuracy of an emotion model on a folder-per-class data set (DIR/<label>/*.jpg, the FER2013 layout): each image',
      'is the face unless --detect. Writes report.json and confusion.png into --out; the last line is',
      '`accuracy=0.xxxx macro_f1=0.xxxx n=N` (docs/accuracy.md).',
    ].join('\n'),
    options: {
      data: { type: 'string', arg: 'DIR', help: 'the data set (required)' },
      labels: {
        type: 'string',
        arg: 'L',
        help: 'fer2013 (folder names) or ferplus (FER+ majority votes)',
        default: 'fer2013',
      },
      'ferplus-csv': {
        type: 'string',
        arg: 'FILE',
        help: 'FER+ votes joined to the image paths (needed by --labels ferplus)',
      },
      'emotion-model': {
        ...MODEL_OPTIONS['emotion-model'],
        help: `${MODEL_OPTIONS['emotion-model'].help}; A+B averages two`,
      },
      tta: {
        type: 'string',
        arg: 'T',
        help: 'test-time augmentation: none or flip (mean over the image and its mirror)',
        default: 'none',
      },
      detect: { type: 'boolean', help: 'find the face with the detector first (whole photos)' },
      detector: MODEL_OPTIONS.detector,
      out: { type: 'string', arg: 'DIR', help: 'report folder (default: eval-out/<model>-<labels>)' },
      engine: MODEL_OPTIONS.engine,
      backend: MODEL_OPTIONS.backend,
      workers: MODEL_OPTIONS.workers,
    },
    examples: [
      'emostream evaluate --data ../shared/data/fer2013/test --labels ferplus --ferplus-csv ../shared/data/fer2013/ferplus.csv',
    ],
  },
  async (args, io) => {
    const data = args.required('data');
    const labels = args.choice('labels', ['fer2013', 'ferplus'] as const);
    const ferplusCsv = labels === 'ferplus' ? args.required('ferplus-csv') : args.string('ferplus-csv');
    const tta = args.choice('tta', ['none', 'flip'] as const);
    const model = args.required('emotion-model');
    const outDir =
      args.string('out') ??
      join('eval-out', `${model.replace(/[^\w+-]/g, '_')}-${labels}${tta === 'flip' ? '-flip' : ''}`);
    const pool = await InferencePool.create({
      engine: engineOf(args),
      backend: backendOf(args),
      workers: workersOf(args),
    });
    try {
      const result = await evaluate(pool, {
        dataDir: data,
        labels,
        ferplusCsv,
        model,
        tta,
        detector: args.flag('detect') ? detectorOf(args) : undefined,
        outDir,
      });
      io.out(`faces/s=${result.facesPerSecond.toFixed(1)} skipped=${result.skipped} report=${outDir}`);
      io.out(`accuracy=${result.accuracy.toFixed(4)} macro_f1=${result.macroF1.toFixed(4)} n=${result.n}`);
      return 0;
    } finally {
      await pool.close();
    }
  },
);
