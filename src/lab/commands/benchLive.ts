import { defineCommand } from '../../cli/command.js';
import { engineOf, MODEL_OPTIONS, maskModelOf } from '../../cli/modelOptions.js';
import { InputError } from '../../core/errors.js';
import { benchLive } from '../bench/benchLive.js';

export const DEFAULT_VIDEOS =
  '../shared/data/video/fr_short_hamilton_clip.mp4,../shared/data/video/facenetpt_video.mp4';

export const benchLiveCommand = defineCommand(
  {
    name: 'bench-live',
    synopsis: '[options]',
    description: [
      'Live pipeline capacity with real RTSP cameras (GStreamer on loopback) playing the videos at 640x480, analyzed at',
      '5 fps each by one in-process server with the default settings and the engine auto picks: for each number of',
      'cameras, with faces on all of them and with half showing a still room, the analyzed rate, p50/p95',
      'frame-to-event latency and the CPU of Node, ffmpeg and the cameras; where the CPU goes per analyzed frame; the',
      'CPU of an idle camera; the naive face-api loop in the same run (docs/performance.md).',
    ].join('\n'),
    options: {
      seconds: { type: 'string', arg: 'S', help: 'measured seconds per step (after 8 s of warm-up)', default: 20 },
      counts: { type: 'string', arg: 'N,N,...', help: 'numbers of cameras to try', default: '1,2,4,8,16,24,32' },
      'mask-model': MODEL_OPTIONS['mask-model'],
      engine: MODEL_OPTIONS.engine,
      'max-wait-ms': {
        type: 'string',
        arg: 'MS',
        help: "the batcher's wait for more faces (analysis.maxWaitMs)",
        default: 5,
      },
      videos: {
        type: 'string',
        arg: 'FILE[,FILE]',
        help: 'videos the cameras with faces play',
        default: DEFAULT_VIDEOS,
      },
      data: {
        type: 'string',
        arg: 'DIR',
        help: 'the shared data (the still room is made from it)',
        default: '../shared/data',
      },
    },
    examples: ['npm run bench:live -- --seconds 15 --counts 1,4,16'],
  },
  async (args, io) => {
    const counts = args.required('counts').split(',').map(Number);
    if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
      throw new InputError('BAD_ARGUMENT', '--counts must be whole numbers from 1 to 64');
    }
    await benchLive({
      maskModel: maskModelOf(args),
      engine: engineOf(args),
      maxWaitMs: args.int('max-wait-ms', 0, 1000),
      seconds: args.number('seconds', 5, 600),
      counts,
      videos: args.required('videos').split(','),
      dataDir: args.required('data'),
      out: io.out,
    });
    return 0;
  },
);
