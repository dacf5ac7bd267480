import { defineCommand } from '../../cli/command.js';
import { soak } from '../bench/soak.js';
import { DEFAULT_VIDEOS } from './benchLive.js';

export const soakCommand = defineCommand(
  {
    name: 'soak',
    synopsis: '[options]',
    description: [
      'N looped videos analyzed for M minutes in one in-process server; heap, RSS and live tensors per worker every',
      '15 s, then their growth between the first and the last third of the run (docs/performance.md).',
    ].join('\n'),
    options: {
      streams: { type: 'string', arg: 'N', help: 'streams', default: 4 },
      minutes: { type: 'string', arg: 'M', help: 'duration', default: 5 },
      videos: { type: 'string', arg: 'FILE[,FILE]', help: 'videos the streams play', default: DEFAULT_VIDEOS },
    },
    examples: ['npm run soak -- --streams 4 --minutes 4'],
  },
  async (args, io) => {
    await soak({
      streams: args.int('streams', 1, 64),
      minutes: args.number('minutes', 0.5, 600),
      everyS: 15,
      videos: args.required('videos').split(','),
      out: io.out,
    });
    return 0;
  },
);
