import { defineCommand } from '../../cli/command.js';
import { MODEL_OPTIONS, maskModelOf } from '../../cli/modelOptions.js';
import { benchLive } from '../bench/benchLive.js';

export const DEFAULT_VIDEOS =
  '../shared/data/video/fr_short_hamilton_clip.mp4,../shared/data/video/facenetpt_video.mp4';

export const benchLiveCommand = defineCommand(
  {
    name: 'bench-live',
    synopsis: '[options]',
    description: [
      'Live pipeline capacity: 1, 2, ... looped 640x480 streams analyzed at 5 fps each in one in-process server; per',
      'step the analyzed frames per second and the p50/p95 frame-to-event latency, then the most streams held at 5 fps',
      'with p95 under 250 ms, the saturated rate, and the naive face-api loop in the same run (docs/performance.md).',
    ].join('\n'),
    options: {
      seconds: { type: 'string', arg: 'S', help: 'measured seconds per step', default: 20 },
      'max-streams': { type: 'string', arg: 'N', help: 'stop after N streams', default: 10 },
      'mask-model': MODEL_OPTIONS['mask-model'],
      videos: { type: 'string', arg: 'FILE[,FILE]', help: 'videos the streams play', default: DEFAULT_VIDEOS },
    },
    examples: ['npm run bench:live -- --seconds 15 --max-streams 8'],
  },
  async (args, io) => {
    await benchLive({
      maskModel: maskModelOf(args),
      seconds: args.number('seconds', 5, 600),
      maxStreams: args.int('max-streams', 1, 64),
      videos: args.required('videos').split(','),
      out: io.out,
    });
    return 0;
  },
);
