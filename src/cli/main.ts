#!/usr/bin/env node
import { errorCode, errorMessage, InputError } from '../core/errors.js';
import { type Command, type Io, runCommand } from './command.js';

/**
 * The commands, each loaded only when run (the lab's need models and tools the server never loads). Product commands
 * live in `src/cli`, the offline ones in `src/lab/commands`.
 */
const COMMANDS: readonly { name: string; summary: string; load: () => Promise<Command> }[] = [
  {
    name: 'serve',
    summary: 'the server: web client, REST API, /signal and /events WebSockets, /healthz, /metrics',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  {
    name: 'analyze',
    summary: 'faces and emotions in images and videos, as JSON lines',
    load: async () => (await import('./analyze.js')).analyzeCommand,
  },
  {
    name: 'evaluate',
    summary: 'accuracy of an emotion model on a folder-per-class data set (docs/accuracy.md)',
    load: async () => (await import('../lab/commands/evaluate.js')).evaluateCommand,
  },
  {
    name: 'bench-detect',
    summary: 'face detectors against ground-truth boxes: AP at IoU 0.5, recall, ms per image',
    load: async () => (await import('../lab/commands/benchDetect.js')).benchDetectCommand,
  },
  {
    name: 'explain',
    summary: 'where in each face the model looked (occlusion heatmap)',
    load: async () => (await import('../lab/commands/explain.js')).explainCommand,
  },
  {
    name: 'train',
    summary: 'transfer learning of a head on frozen backbones (docs/training.md)',
    load: async () => (await import('../lab/commands/train.js')).trainCommand,
  },
  {
    name: 'convert-onnx',
    summary: 'models to ONNX for the onnx engine, with their provenance (docs/models.md)',
    load: async () => (await import('../lab/commands/convertOnnx.js')).convertOnnxCommand,
  },
  {
    name: 'bench',
    summary: 'inference speed on photos (docs/performance.md)',
    load: async () => (await import('../lab/commands/bench.js')).benchCommand,
  },
  {
    name: 'bench-live',
    summary: 'live pipeline capacity on looped videos (docs/performance.md)',
    load: async () => (await import('../lab/commands/benchLive.js')).benchLiveCommand,
  },
  {
    name: 'soak',
    summary: 'N looped videos for M minutes: heap, RSS and tensors over time',
    load: async () => (await import('../lab/commands/soak.js')).soakCommand,
  },
];

const USAGE = [
  'usage: emostream <command> [options]     (emostream <command> --help for its options)',
  '',
  'commands:',
  ...COMMANDS.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`),
  '',
  'example:',
  '  emostream analyze photo.jpg',
].join('\n');

const io: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.err(`emostream: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  return runCommand(await entry.load(), rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    io.err(`emostream: ${errorMessage(e)} [${errorCode(e)}]`);
    process.exitCode = e instanceof InputError ? 2 : 1;
  },
);
