import { parseArgs } from 'node:util';
import { InputError } from '../core/errors.js';

/** One command-line option: its type, what its value looks like, what it does and its default. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in the help (`N`, `FILE`, ...). */
  arg?: string;
  help: string;
  /** Shown in the help and used when the option is absent. */
  default?: string | number;
}

export interface CommandSpec {
  name: string;
  /** What follows the command name in the usage line (positionals, required options). */
  synopsis: string;
  description: string;
  options: Record<string, OptionSpec>;
  examples: string[];
}

/** Where a command writes: stdout (machine-readable lines) and stderr (messages). */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface Command {
  spec: CommandSpec;
  run(args: Args, io: Io): Promise<number>;
}

export function defineCommand(spec: CommandSpec, run: (args: Args, io: Io) => Promise<number>): Command {
  return { spec, run };
}

/**
 * A command's parsed arguments. Absent options take their spec's default; values are checked here, so every bad
 * value is an `InputError` with code `BAD_ARGUMENT` that names the option.
 */
export class Args {
  /** The arguments as given (after the command name). */
  readonly argv: readonly string[];
  readonly positionals: string[];
  readonly #spec: CommandSpec;
  readonly #values: Record<string, string | boolean | undefined>;

  constructor(spec: CommandSpec, argv: string[]) {
    this.#spec = spec;
    this.argv = argv;
    const options = Object.fromEntries(Object.entries(spec.options).map(([k, o]) => [k, { type: o.type }]));
    try {
      const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
      this.#values = parsed.values as Record<string, string | boolean | undefined>;
      this.positionals = parsed.positionals;
    } catch (err) {
      throw new InputError('BAD_ARGUMENT', `${(err as Error).message} (emostream ${spec.name} --help)`);
    }
  }

  /** Whether the option was given at all. */
  has(name: string): boolean {
    return this.#values[this.#known(name)] !== undefined;
  }

  string(name: string): string | undefined {
    const v = this.#values[this.#known(name)];
    if (typeof v === 'string') return v;
    const d = this.#spec.options[name]?.default;
    return d === undefined ? undefined : String(d);
  }

  /** A string option that must be one of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[]): T {
    const v = this.string(name);
    if (v === undefined || !(choices as readonly string[]).includes(v)) {
      throw new InputError('BAD_ARGUMENT', `--${name} must be one of ${choices.join(', ')} (got "${v ?? ''}")`);
    }
    return v as T;
  }

  /** A required string option. */
  required(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') {
      throw new InputError('BAD_ARGUMENT', `${this.#spec.name} needs --${name} (emostream ${this.#spec.name} --help)`);
    }
    return v;
  }

  number(name: string, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) throw new InputError('BAD_ARGUMENT', `${this.#spec.name} needs --${name}`);
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InputError('BAD_ARGUMENT', `--${name} must be a number from ${min} to ${max} (got "${raw}")`);
    }
    return n;
  }

  int(name: string, min: number, max: number): number {
    return Math.round(this.number(name, min, max));
  }

  /** A number option without a default: undefined when absent. */
  optionalInt(name: string, min: number, max: number): number | undefined {
    return this.string(name) === undefined ? undefined : this.int(name, min, max);
  }

  flag(name: string): boolean {
    return this.#values[this.#known(name)] === true;
  }

  #known(name: string): string {
    if (!(name in this.#spec.options)) throw new Error(`option --${name} is not in the spec of ${this.#spec.name}`);
    return name;
  }
}

/** Runs a command: `--help` (or `-h`) anywhere before `--` prints its help instead. */
export async function runCommand(command: Command, argv: string[], io: Io): Promise<number> {
  const end = argv.indexOf('--');
  const own = end < 0 ? argv : argv.slice(0, end);
  if (own.includes('--help') || own.includes('-h')) {
    io.out(helpText(command.spec));
    return 0;
  }
  return command.run(new Args(command.spec, argv), io);
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const left = `  --${name}${o.arg ? ` ${o.arg}` : ''}`;
    const def = o.default === undefined ? '' : ` (default: ${o.default})`;
    return `${left.padEnd(30)} ${o.help}${def}`;
  });
  rows.push(`${'  --help'.padEnd(30)} this help`);
  return [
    `usage: emostream ${spec.name} ${spec.synopsis}`.trimEnd(),
    '',
    spec.description,
    '',
    'options:',
    ...rows,
    '',
    spec.examples.length > 1 ? 'examples:' : 'example:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}
