import {
  BACKEND_NAMES,
  type BackendName,
  DEFAULT_MODELS,
  DETECTOR_NAMES,
  type DetectorName,
  ENGINE_NAMES,
  type EngineName,
} from '../core/config.js';
import type { Args, OptionSpec } from './command.js';

/** The model options every command that runs models shares, with the one set of defaults (`DEFAULT_MODELS`). */
export const MODEL_OPTIONS = {
  detector: {
    type: 'string',
    arg: 'D',
    help: `face detector: ${DETECTOR_NAMES.join(', ')}`,
    default: DEFAULT_MODELS.detector,
  },
  'emotion-model': {
    type: 'string',
    arg: 'M',
    help: 'emotion model: emotion-cnn (ours, docs/training.md), fer-head, human, faceapi, or a model folder',
    default: DEFAULT_MODELS.emotion,
  },
  'mask-model': {
    type: 'string',
    arg: 'M',
    help: 'mask head (a model name or folder), or none',
    default: DEFAULT_MODELS.mask ?? 'none',
  },
  engine: {
    type: 'string',
    arg: 'E',
    help: `inference engine: auto (the fastest that loads), ${ENGINE_NAMES.join(', ')}`,
    default: 'auto',
  },
  backend: {
    type: 'string',
    arg: 'B',
    help: `tfjs backend (models the tfjs engine runs): auto, ${BACKEND_NAMES.join(', ')}`,
    default: 'auto',
  },
  workers: { type: 'string', arg: 'N', help: 'inference worker threads (default: one per core)' },
} as const satisfies Record<string, OptionSpec>;

export function detectorOf(args: Args): DetectorName {
  return args.choice('detector', DETECTOR_NAMES);
}

export function engineOf(args: Args): EngineName | 'auto' {
  return args.choice('engine', ['auto', ...ENGINE_NAMES]);
}

export function backendOf(args: Args): BackendName | 'auto' {
  return args.choice('backend', ['auto', ...BACKEND_NAMES]);
}

/** The mask head to run, or null for `none`. */
export function maskModelOf(args: Args): string | null {
  const v = args.string('mask-model');
  return v === undefined || v === 'none' ? null : v;
}

export function workersOf(args: Args): number | undefined {
  return args.optionalInt('workers', 1, 64);
}
