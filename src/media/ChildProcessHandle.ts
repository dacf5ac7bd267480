/**
 * One child process under the lifecycle rule (docs/architecture.md): `start()` races "ready" against "exited" against a
 * timeout; `stop()`/`close()` send SIGTERM, then SIGKILL after `stopTimeoutMs`; the last `stderrLines` lines of
 * stderr are kept (scrubbed of secrets) for error messages; a death we did not ask for is an `exit` event with
 * `expected: false`, the exit code and the stderr tail. The owner decides whether to restart.
 *
 * "Ready" is either the OS `spawn` event (`readyOn: 'spawn'`) or the owner calling `markReady()` (e.g. the first
 * decoded frame). Secrets (URL passwords) are scrubbed from every stderr line before it is kept, logged or emitted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CloseOnce } from '../core/CloseOnce.js';
import { SourceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { scrubSecrets } from '../core/secrets.js';
import { TypedEmitter } from '../core/TypedEmitter.js';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the exit followed our own `stop()`/`close()`. */
  expected: boolean;
  /** Last stderr lines, secrets scrubbed. */
  stderrTail: string[];
}

export type ChildProcessHandleEvents = {
  /** Every stderr line, secrets scrubbed. */
  stderrLine: (line: string) => void;
  /** The process ended and its stdout/stderr are drained. */
  exit: (info: ChildExit) => void;
};

export interface ChildProcessHandleOptions {
  command: string;
  args: readonly string[];
  /** Short name for messages and logs (e.g. `ffmpeg`). */
  name?: string;
  /** Open a pipe to the child's stdin (default: stdin ignored). */
  stdin?: boolean;
  /** Strings never to reveal (passwords): scrubbed from stderr, logs and errors. */
  secrets?: readonly string[];
  /** Lines of stderr kept for errors (default 20). */
  stderrLines?: number;
  /** Lines for which this returns false are not kept in the tail (still emitted as `stderrLine`). */
  keepInTail?: (line: string) => boolean;
  /** Grace period between SIGTERM and SIGKILL (default 2000 ms). */
  stopTimeoutMs?: number;
  logger?: Logger;
}

export class ChildProcessHandle extends TypedEmitter<ChildProcessHandleEvents> {
  readonly name: string;
  readonly #opts: ChildProcessHandleOptions;
  readonly #lifecycle: CloseOnce;
  #child: ChildProcess | undefined;
  #tail: string[] = [];
  #stderrRest = '';
  #stopping = false;
  #exited: Promise<ChildExit> | undefined;
  #exitInfo: ChildExit | undefined;
  #readyResolve: (() => void) | undefined;

  constructor(opts: ChildProcessHandleOptions) {
    super();
    this.#opts = opts;
    this.name = opts.name ?? opts.command;
    this.#lifecycle = new CloseOnce(`process ${this.name}`, () => this.#stop());
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether a child process exists (false before start() and when spawning it failed). */
  get spawned(): boolean {
    return this.#child !== undefined;
  }

  get stdout(): Readable {
    const out = this.#child?.stdout;
    if (!out) throw new SourceError('SOURCE_INTERNAL', `${this.name} has not been started`);
    return out;
  }

  get stdin(): Writable | undefined {
    return this.#child?.stdin ?? undefined;
  }

  /** The last stderr lines (secrets scrubbed). */
  get stderrTail(): string[] {
    return [...this.#tail];
  }

  /** The exit of the process once it ended, else undefined. */
  get exitInfo(): ChildExit | undefined {
    return this.#exitInfo;
  }

  /**
   * Spawns the process. Resolves when it is ready (see `readyOn`), rejects with a `SourceError` when it fails to
   * spawn (`SOURCE_SPAWN_FAILED`), exits first (`SOURCE_PROCESS_EXITED`, message carries the stderr tail) or is not
   * ready within `timeoutMs` (`SOURCE_START_TIMEOUT`; the process is then stopped).
   */
  start(options: { timeoutMs: number; readyOn: 'spawn' | 'markReady' }): Promise<void> {
    this.#lifecycle.assertOpen();
    if (this.#child) throw new SourceError('SOURCE_INTERNAL', `${this.name} was already started`);
    let child: ChildProcess;
    try {
      child = spawn(this.#opts.command, [...this.#opts.args], {
        stdio: [this.#opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // Some failures are thrown by spawn() itself instead of an 'error' event: E2BIG (arguments over the kernel's
      // limit), a NUL byte in an argument. They are a failed start like any other, never an exception for the caller.
      return this.#spawnFailed(err);
    }
    this.#child = child;
    this.#opts.logger?.debug({ pid: child.pid, process: this.name }, 'spawned');
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => this.#onStderr(chunk));
    child.stdin?.on('error', () => {
      // EPIPE when the child exits while we write: the exit event reports it.
    });
    this.#exited = new Promise<ChildExit>((resolve) => {
      let spawnError: Error | undefined;
      child.once('error', (err) => {
        spawnError = err;
        // A failed spawn never emits 'close' on some Node versions; make sure we settle.
        if (child.pid === undefined) finish(null, null);
      });
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#exitInfo) return;
        if (this.#stderrRest) this.#pushLine(this.#stderrRest);
        this.#stderrRest = '';
        if (spawnError && child.pid === undefined) this.#pushLine(`spawn failed: ${spawnError.message}`);
        this.#exitInfo = { code, signal, expected: this.#stopping, stderrTail: this.stderrTail };
        this.#opts.logger?.debug({ code, signal, expected: this.#stopping, process: this.name }, 'process exited');
        resolve(this.#exitInfo);
        this.emit('exit', this.#exitInfo);
      };
      child.once('close', (code, signal) => finish(code, signal));
    });

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#readyResolve = undefined;
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => {
        settle(new SourceError('SOURCE_START_TIMEOUT', `${this.name} was not ready within ${options.timeoutMs} ms`));
        void this.close();
      }, options.timeoutMs);
      this.#readyResolve = () => settle();
      if (options.readyOn === 'spawn') child.once('spawn', () => settle());
      void this.#exited?.then((info) => {
        const code = child.pid === undefined ? 'SOURCE_SPAWN_FAILED' : 'SOURCE_PROCESS_EXITED';
        settle(new SourceError(code, `${this.name} ${describeExit(info)} before it was ready${tailText(info)}`));
      });
    });
  }

  #spawnFailed(err: unknown): Promise<void> {
    const reason = scrubSecrets(
      (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err)),
      this.#opts.secrets,
    ).slice(0, 200);
    this.#pushLine(`spawn failed: ${reason}`);
    this.#exitInfo = { code: null, signal: null, expected: false, stderrTail: this.stderrTail };
    this.#exited = Promise.resolve(this.#exitInfo);
    this.#opts.logger?.debug({ process: this.name, reason }, 'spawn failed');
    return Promise.reject(new SourceError('SOURCE_SPAWN_FAILED', `${this.name} could not be started: ${reason}`));
  }

  /** Tells a `readyOn: 'markReady'` start that the process is ready. */
  markReady(): void {
    this.#readyResolve?.();
  }

  /** Resolves when the process has exited (immediately when it never started). */
  waitExit(): Promise<ChildExit | undefined> {
    return this.#exited ?? Promise.resolve(undefined);
  }

  /** Stops the process (SIGTERM, then SIGKILL) and resolves once it has exited. Idempotent. */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (!child || this.#exitInfo || !this.#exited) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const stopTimeoutMs = this.#opts.stopTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        // stdout may be paused with data in it: drop it so 'close' can fire.
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve();
      }, stopTimeoutMs);
    });
    await Promise.race([this.#exited, killed]);
    await this.#exited;
    clearTimeout(timer);
  }

  #onStderr(chunk: string): void {
    const text = this.#stderrRest + chunk;
    const lines = text.split(/\r?\n|\r/);
    this.#stderrRest = lines.pop() ?? '';
    if (this.#stderrRest.length > 8192) {
      lines.push(this.#stderrRest);
      this.#stderrRest = '';
    }
    for (const line of lines) if (line.trim()) this.#pushLine(line);
  }

  #pushLine(raw: string): void {
    const line = scrubSecrets(raw, this.#opts.secrets);
    if (this.#opts.keepInTail?.(line) ?? true) {
      this.#tail.push(line);
      const max = this.#opts.stderrLines ?? 20;
      if (this.#tail.length > max) this.#tail.splice(0, this.#tail.length - max);
    }
    this.emit('stderrLine', line);
  }
}

export function describeExit(info: ChildExit): string {
  return info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
}

function tailText(info: ChildExit): string {
  const last = info.stderrTail.slice(-3).join(' | ');
  return last ? `: ${last}` : '';
}
