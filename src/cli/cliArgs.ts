import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DEFAULT_MODELS } from '../core/config.js';
import { InputError } from '../core/errors.js';
import { BACKEND_NAMES, type BackendName } from '../inference/backendSelection.js';
import { DETECTOR_NAMES } from '../inference/modelManifest.js';

type Spec = NonNullable<ParseArgsConfig['options']>;

/** Parses one command's flags; unknown flags and bad values are `InputError`s with code `BAD_ARGUMENT`. */
export function parseCommand<T extends Spec>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true as const, strict: true as const });
  } catch (err) {
    throw new InputError('BAD_ARGUMENT', (err as Error).message);
  }
}

export function detectorArg(value: unknown, fallback = 'blazeface'): string {
  const v = typeof value === 'string' ? value : fallback;
  if (!(DETECTOR_NAMES as readonly string[]).includes(v)) {
    throw new InputError('BAD_ARGUMENT', `--detector must be one of ${DETECTOR_NAMES.join(', ')} (got "${v}")`);
  }
  return v;
}

export function backendArg(value: unknown): BackendName | 'auto' {
  const v = typeof value === 'string' ? value : 'auto';
  if (v !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(v)) {
    throw new InputError('BAD_ARGUMENT', `--backend must be auto or one of ${BACKEND_NAMES.join(', ')} (got "${v}")`);
  }
  return v as BackendName | 'auto';
}

export function numberArg(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new InputError('BAD_ARGUMENT', `--${name} must be a number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

export function optionalInt(name: string, value: unknown, min: number, max: number): number | undefined {
  return value === undefined ? undefined : Math.round(numberArg(name, value, min, min, max));
}

/** `--mask-model M`: a mask head; `none` for none; unset for the default. */
export function maskModelArg(value: unknown): string | null {
  if (value === undefined) return DEFAULT_MODELS.mask;
  return value === 'none' ? null : String(value);
}
