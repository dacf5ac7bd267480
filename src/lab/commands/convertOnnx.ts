import { defineCommand } from '../../cli/command.js';
import { tf } from '../../inference/tf.js';
import { writeOnnxModel } from '../onnx/writeOnnxModel.js';

/** The shipped models with an ONNX form (tiny and ssd stay tfjs-only). */
export const ONNX_MODELS = ['human', 'blazeface', 'faceapi', 'fer-head', 'mask'] as const;

export const convertOnnxCommand = defineCommand(
  {
    name: 'convert-onnx',
    synopsis: '[MODEL...] [options]',
    description: [
      'Converts models to ONNX for the onnx engine (docs/models.md, "ONNX"): writes model.onnx beside each manifest and',
      `the manifest's "onnx" entry (file, the command, SHA-256 of the source files). MODEL is a name under models/ or a`,
      `model folder (a trained head); default: ${ONNX_MODELS.join(', ')}. Running it again gives the same bytes.`,
      'One line per model: `name=N bytes=B sha256=S dir=D`.',
    ].join('\n'),
    options: {
      out: {
        type: 'string',
        arg: 'DIR',
        help: 'write DIR/<name>/model.onnx and a copy of the manifest there instead (default: beside the manifest)',
      },
    },
    examples: ['emostream convert-onnx', 'emostream convert-onnx models/my-head --out /tmp/onnx'],
  },
  async (args, io) => {
    const models = args.positionals.length > 0 ? args.positionals : [...ONNX_MODELS];
    await tf.ready();
    for (const model of models) {
      const written = writeOnnxModel(model, args.string('out'));
      io.out(
        `name=${written.name} bytes=${written.bytes.length} sha256=${written.entry.sourceSha256} dir=${written.dir}`,
      );
    }
    return 0;
  },
);
