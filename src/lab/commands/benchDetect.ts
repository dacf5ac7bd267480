import { defineCommand } from '../../cli/command.js';
import { backendOf, detectorOf, engineOf, MODEL_OPTIONS } from '../../cli/modelOptions.js';
import { DETECTOR_NAMES } from '../../core/config.js';
import { InferencePool } from '../../inference/InferencePool.js';
import { benchDetect } from '../evaluation/benchDetect.js';

export const benchDetectCommand = defineCommand(
  {
    name: 'bench-detect',
    synopsis: '--data DIR [options]',
    description: [
      'Face detectors against ground-truth boxes (DIR/boxes.json: {file: {boxes_xywh: [[x,y,w,h],...]}}): average',
      'precision at IoU 0.5, recall and ms per image on one worker (what one stream sees); pr-curve.png in --out.',
      'One line per detector: `detector=D ap50=0.xxxx recall=0.xxxx ms=N`.',
    ].join('\n'),
    options: {
      data: { type: 'string', arg: 'DIR', help: 'images and boxes.json (required)' },
      detector: {
        ...MODEL_OPTIONS.detector,
        default: undefined,
        help: `${MODEL_OPTIONS.detector.help} (default: all)`,
      },
      out: { type: 'string', arg: 'DIR', help: 'where pr-curve.png goes', default: 'eval-out/detect' },
      engine: MODEL_OPTIONS.engine,
      backend: MODEL_OPTIONS.backend,
    },
    examples: ['emostream bench-detect --data ../shared/data/facedet/dlib_pascal_faces'],
  },
  async (args, io) => {
    const data = args.required('data');
    const detectors = args.has('detector') ? [detectorOf(args)] : [...DETECTOR_NAMES];
    // One worker: ms per image is what one stream sees.
    const pool = await InferencePool.create({ workers: 1, engine: engineOf(args), backend: backendOf(args) });
    try {
      const results = await benchDetect(pool, { dataDir: data, detectors, outDir: args.required('out') });
      for (const r of results) {
        io.out(
          `detector=${r.detector} ap50=${r.ap50.toFixed(4)} recall=${r.recall.toFixed(4)} ms=${Math.round(r.msPerImage)}`,
        );
      }
      return 0;
    } finally {
      await pool.close();
    }
  },
);
