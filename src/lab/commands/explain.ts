import { mkdirSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { defineCommand } from '../../cli/command.js';
import { backendOf, detectorOf, engineOf, MODEL_OPTIONS } from '../../cli/modelOptions.js';
import { InputError } from '../../core/errors.js';
import { InferencePool } from '../../inference/InferencePool.js';
import { decodeImage } from '../../media/imageFile.js';
import { explainFace, explanationPng } from '../evaluation/explain.js';

export const explainCommand = defineCommand(
  {
    name: 'explain',
    synopsis: 'IMAGE [options]',
    description: [
      'Where in each face the emotion model looked: an occlusion-sensitivity heatmap per face (how much hiding each',
      'patch lowers the probability of the predicted label), drawn into one PNG. One JSON line per face, then',
      '`faces=N out=FILE`.',
    ].join('\n'),
    options: {
      out: { type: 'string', arg: 'FILE', help: 'the PNG to write (default: IMAGE.explain.png in this folder)' },
      'emotion-model': MODEL_OPTIONS['emotion-model'],
      detector: MODEL_OPTIONS.detector,
      engine: MODEL_OPTIONS.engine,
      backend: MODEL_OPTIONS.backend,
    },
    examples: ['emostream explain face.jpg --out face-heatmap.png'],
  },
  async (args, io) => {
    const [path] = args.positionals;
    if (!path) throw new InputError('BAD_ARGUMENT', 'explain needs an IMAGE');
    const model = args.required('emotion-model');
    const target = args.string('out') ?? `${basename(path, extname(path))}.explain.png`;
    const image = await decodeImage(path);
    const pool = await InferencePool.create({ workers: 1, engine: engineOf(args), backend: backendOf(args) });
    try {
      const faces = await pool.detect(detectorOf(args), image);
      const explained = [];
      for (const face of faces) explained.push(await explainFace(pool, model, image, face));
      mkdirSync(dirname(target), { recursive: true });
      explanationPng(explained, target);
      for (const e of explained) {
        io.out(JSON.stringify({ box: e.box, label: e.label, probability: Math.round(e.probability * 1e4) / 1e4 }));
      }
      io.out(`faces=${explained.length} out=${target}`);
      return 0;
    } finally {
      await pool.close();
    }
  },
);
