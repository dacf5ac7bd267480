import { defineCommand } from '../../cli/command.js';
import { backendOf, MODEL_OPTIONS } from '../../cli/modelOptions.js';
import { bench } from '../bench/bench.js';

export const benchCommand = defineCommand(
  {
    name: 'bench',
    synopsis: '[options]',
    description: [
      'Inference speed on 640x480 frames (the photos, scaled and centre-cropped), on both engines (tfjs and onnx) in',
      'one run, calls interleaved: BlazeFace per frame, emotion models per face at batch 1 and 8, and whole-frame',
      'throughput with 1 worker and one per core, so the ratios mean something on a shared machine',
      '(docs/performance.md).',
    ].join('\n'),
    options: {
      seconds: { type: 'string', arg: 'S', help: 'length of each throughput run', default: 8 },
      photos: {
        type: 'string',
        arg: 'DIR',
        help: 'photos to use as frames',
        default: '../shared/data/photos/multi_face',
      },
      backend: MODEL_OPTIONS.backend,
      threads: { type: 'string', arg: 'N', help: 'ONNX Runtime threads per worker in the onnx runs', default: 1 },
    },
    examples: ['npm run bench -- --seconds 20'],
  },
  async (args, io) => {
    await bench({
      seconds: args.number('seconds', 1, 600),
      backend: backendOf(args),
      threads: args.int('threads', 1, 64),
      photos: args.required('photos'),
      out: io.out,
    });
    return 0;
  },
);
