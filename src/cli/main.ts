#!/usr/bin/env node
import { DEFAULT_MODELS } from '../core/config.js';
import { errorCode, errorMessage, InputError } from '../core/errors.js';
import { bench } from '../lab/bench/bench.js';
import { analyze } from './analyze.js';
import { backendArg, detectorArg, maskModelArg, numberArg, optionalInt, parseCommand } from './cliArgs.js';

const USAGE = `usage: emostream <command> [options]

commands:
  serve [--config FILE] [--host H] [--port P]     the server (HTTP, WebSocket, web client)
  analyze PATH... [--detector D] [--emotion-model M] [--mask-model M|none] [--fps N] [--width W] [--backend B] [--workers N]
                                                   faces and emotions in images and videos, as JSON lines
  bench [--seconds S] [--backend B]                engine speed on the shared photos (docs/performance.md)
  bench-live [--seconds S] [--max-streams N] [--mask-model M|none]  live pipeline capacity on looped videos (docs/performance.md)
  soak [--streams N] [--minutes M]                 N looped videos for M minutes: heap, RSS and tensors over time
  evaluate --data DIR [--labels fer2013|ferplus --ferplus-csv F] [--emotion-model M|A+B] [--tta flip] [--detect] [--out DIR]
                                                   accuracy on a folder-per-class data set (docs/accuracy.md)
  bench-detect --data DIR [--detector D] [--out DIR]  face detectors against ground-truth boxes (AP at IoU 0.5)
  explain IMAGE [--out FILE] [--emotion-model M]   where in each face the model looked (occlusion heatmap)
  train --data DIR --out models/NAME [...]         transfer learning of a head (emostream train --help)

detectors: blazeface (default), tiny, ssd; emotion models: fer-head (default; our head, docs/training.md), human, faceapi, or a model folder;
backends: auto (default), tfjs-node-gpu, tfjs-node, wasm, cpu`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze': {
      const { values, positionals } = parseCommand(rest, {
        detector: { type: 'string' },
        'emotion-model': { type: 'string' },
        'mask-model': { type: 'string' },
        fps: { type: 'string' },
        width: { type: 'string' },
        backend: { type: 'string' },
        workers: { type: 'string' },
        json: { type: 'boolean' },
      });
      if (positionals.length === 0) throw new InputError('BAD_ARGUMENT', 'analyze needs at least one PATH');
      const summary = await analyze({
        paths: positionals,
        detector: detectorArg(values.detector),
        emotionModel: typeof values['emotion-model'] === 'string' ? values['emotion-model'] : DEFAULT_MODELS.emotion,
        maskModel: maskModelArg(values['mask-model']),
        fps: numberArg('fps', values.fps, 5, 0.1, 120),
        width: Math.round(numberArg('width', values.width, 640, 64, 4096) / 2) * 2,
        backend: backendArg(values.backend),
        workers: optionalInt('workers', values.workers, 1, 64),
        out,
        err,
      });
      out(`files=${summary.files} faces=${summary.faces}`);
      return summary.failed > 0 ? 1 : 0;
    }
    case 'bench': {
      const { values } = parseCommand(rest, { seconds: { type: 'string' }, backend: { type: 'string' } });
      await bench({
        seconds: numberArg('seconds', values.seconds, 8, 1, 600),
        backend: backendArg(values.backend),
        out,
      });
      return 0;
    }
    case 'bench-live': {
      const { values } = parseCommand(rest, {
        seconds: { type: 'string' },
        'max-streams': { type: 'string' },
        'mask-model': { type: 'string' },
      });
      const { benchLive } = await import('../lab/bench/benchLive.js');
      await benchLive({
        maskModel: maskModelArg(values['mask-model']),
        seconds: numberArg('seconds', values.seconds, 20, 5, 600),
        maxStreams: Math.round(numberArg('max-streams', values['max-streams'], 10, 1, 64)),
        out,
      });
      return 0;
    }
    case 'soak': {
      const { values } = parseCommand(rest, { streams: { type: 'string' }, minutes: { type: 'string' } });
      const { soak } = await import('../lab/bench/soak.js');
      await soak({
        streams: Math.round(numberArg('streams', values.streams, 4, 1, 64)),
        minutes: numberArg('minutes', values.minutes, 5, 0.5, 600),
        everyS: 15,
        out,
      });
      return 0;
    }
    case 'evaluate':
    case 'bench-detect':
    case 'explain': {
      const m = await import('../lab/commands/measureCommands.js');
      const run = { evaluate: m.evaluateCommand, 'bench-detect': m.benchDetectCommand, explain: m.explainCommand }[
        command
      ];
      return run(rest, out);
    }
    case 'train': {
      const { trainCommand } = await import('../lab/commands/train.js');
      return trainCommand(rest);
    }
    case 'serve': {
      const { serve } = await import('./serve.js');
      return serve(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      err(`emostream: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err(`emostream: ${errorMessage(e)} [${errorCode(e)}]`);
    process.exitCode = e instanceof InputError ? 2 : 1;
  },
);
