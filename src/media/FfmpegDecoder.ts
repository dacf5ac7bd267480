/**
 * Native ffmpeg decoding any input into packed RGB frames of a fixed size.
 *
 * ```ts
 * const dec = new FfmpegDecoder({ inputArgs: ['-f', 'ivf', '-i', 'pipe:0'], stdin: true, width: 640, height: 480 });
 * dec.on('frame', (f) => ...);            // DecodedFrame: data (RGB24), width, height, ts, seq, ptsMs?
 * dec.on('exit', (info, err) => ...);     // the process ended; err is a SourceError when it failed
 * await dec.start();                      // resolves at spawn (stdin) or at the first frame (otherwise)
 * dec.write(chunk);                       // bytes to ffmpeg's stdin (stdin: true only)
 * dec.pause(); dec.resume();              // backpressure: stop/restart reading ffmpeg's stdout
 * await dec.close();                      // SIGTERM, then SIGKILL; idempotent
 * ```
 *
 * Output size: with `width` and `height` the picture is scaled to fit (aspect kept) and padded with black to exactly
 * WxH (`scale=W:H:force_original_aspect_ratio=decrease,pad=W:H`), so a mid-stream resolution change never changes the
 * frame size: use this for inputs that may change (WebRTC). With `width` only (default 640), the height follows
 * the input's display aspect, rounded to even (`scale=W:trunc(ow/dar/2)*2`), and the decoder learns it from
 * ffmpeg's "Output #0" stream line before the first frame (stdout is buffered until then; no second probe run).
 *
 * Flags (docs/field-notes.md): `-threads 1 -flags low_delay` on the decoder (no frame of multithreading delay),
 * `-vsync passthrough` (no duplicated frames), never `-fflags nobuffer` (it drops the first keyframe on pipes).
 * `fps` adds an `fps=N` filter (N frames per second of video time). `pts: true` adds `showinfo` and stamps each frame
 * with its presentation time (`ptsMs`), read from ffmpeg's stderr.
 *
 * `ts` is the wall clock (ms since the epoch) when the frame's last byte arrived; `seq` counts from 0.
 */
import { CloseOnce } from '../core/CloseOnce.js';
import { InvalidStateError, SourceError } from '../core/errors.js';
import { stageTimes } from '../core/stageTimes.js';
import { TypedEmitter } from '../core/TypedEmitter.js';
import type { Frame } from '../core/types.js';
import { type ChildExit, ChildProcessHandle } from './ChildProcessHandle.js';
import { buildDecoderArgs, decoderExitError, type FfmpegDecoderOptions } from './decoderArgs.js';
import { resolveFfmpegPath } from './ffmpegPath.js';
import { acquireFrameMemory, releaser } from './frameMemory.js';

export interface DecodedFrame extends Frame {
  /** Presentation time of the frame in the input, ms (only with `pts: true`). */
  readonly ptsMs?: number;
}

export type FfmpegDecoderEvents = {
  frame: (frame: DecodedFrame) => void;
  /** The output size is known (before the first frame). */
  size: (width: number, height: number) => void;
  /** ffmpeg ended; `error` is set when it failed (non-zero exit we did not cause). */
  exit: (info: ChildExit, error: SourceError | undefined) => void;
};

const MAX_UNSIZED_BYTES = 64 * 1024 * 1024;

export { buildDecoderArgs, decoderExitError, type FfmpegDecoderOptions } from './decoderArgs.js';

export class FfmpegDecoder extends TypedEmitter<FfmpegDecoderEvents> {
  readonly #opts: FfmpegDecoderOptions;
  readonly #proc: ChildProcessHandle;
  readonly #lifecycle: CloseOnce;
  #width: number;
  #height: number | undefined;
  #frameBytes = 0;
  #current: Buffer | undefined;
  #filled = 0;
  #unsized: Buffer[] = [];
  #unsizedBytes = 0;
  #seq = 0;
  #inOutput = false;
  #ptsQueue: (number | undefined)[] = [];
  #framesAwaitingPts: DecodedFrame[] = [];
  #started: Promise<void> | undefined;
  #discard = false;

  constructor(opts: FfmpegDecoderOptions) {
    super();
    this.#opts = opts;
    this.#width = opts.width ?? 640;
    this.#height = opts.height;
    const args = buildDecoderArgs(opts);
    this.#proc = new ChildProcessHandle({
      command: opts.ffmpegPath ?? resolveFfmpegPath(),
      args,
      name: 'ffmpeg',
      stdin: opts.stdin,
      secrets: opts.secrets,
      stopTimeoutMs: opts.stopTimeoutMs,
      logger: opts.logger,
      keepInTail: (line) => !line.includes('Parsed_showinfo'),
    });
    this.#proc.on('stderrLine', (line) => this.#onStderrLine(line));
    this.#proc.on('exit', (info) => this.#onExit(info));
    this.#lifecycle = new CloseOnce('ffmpeg decoder', () => this.#teardown());
    if (this.#height !== undefined) this.#frameBytes = this.#width * this.#height * 3;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** Output size; height is undefined until learned (width-only mode). */
  get size(): { width: number; height: number | undefined } {
    return { width: this.#width, height: this.#height };
  }

  /** Frames emitted so far. */
  get frames(): number {
    return this.#seq;
  }

  get stderrTail(): string[] {
    return this.#proc.stderrTail;
  }

  /** Spawns ffmpeg; see `readyOn`. Rejects with a `SourceError` (exit before ready, timeout). Idempotent. */
  start(): Promise<void> {
    this.#lifecycle.assertOpen();
    if (this.#started) return this.#started;
    const readyOn = this.#opts.readyOn ?? (this.#opts.stdin ? 'spawn' : 'frame');
    const started = this.#proc.start({
      timeoutMs: this.#opts.startTimeoutMs ?? 15_000,
      readyOn: readyOn === 'spawn' ? 'spawn' : 'markReady',
    });
    if (this.#proc.spawned) {
      this.#proc.stdout.on('data', (chunk: Buffer) => stageTimes.time('frame-copy', () => this.#onStdout(chunk)));
    }
    this.#started = started.catch((err: unknown) => {
      // Exit before the first frame: classify from stderr (file not found, refused, ...).
      const info = this.#proc.exitInfo;
      if (err instanceof SourceError && err.code === 'SOURCE_PROCESS_EXITED' && info) throw decoderExitError(info);
      throw err;
    });
    return this.#started;
  }

  /** Writes input bytes to ffmpeg's stdin; returns false when the caller should wait for drain. */
  write(chunk: Uint8Array): boolean {
    if (this.closed) throw new InvalidStateError('ffmpeg decoder is closed');
    const stdin = this.#proc.stdin;
    if (!stdin) throw new InvalidStateError('ffmpeg decoder was not started with stdin: true');
    return stdin.write(chunk);
  }

  /** Ends ffmpeg's input; it flushes the last frames and exits. */
  endInput(): void {
    this.#proc.stdin?.end();
  }

  /** Stops reading ffmpeg's output; ffmpeg blocks once the pipe is full. */
  pause(): void {
    if (!this.#discard) this.#proc.stdout.pause();
  }

  resume(): void {
    this.#proc.stdout.resume();
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  async #teardown(): Promise<void> {
    this.#discard = true;
    if (this.#started && this.#proc.spawned) {
      this.#proc.stdout.resume(); // a blocked writer cannot see SIGTERM
      this.#proc.stdin?.destroy();
    }
    await this.#proc.close();
  }

  #onStderrLine(line: string): void {
    if (this.#opts.pts) {
      const m = /Parsed_showinfo.*\sn:\s*\d+\s+pts:\s*\S+\s+pts_time:(\S+)/.exec(line);
      if (m) {
        const seconds = Number(m[1]);
        this.#ptsQueue.push(Number.isFinite(seconds) ? Math.round(seconds * 1000 * 1000) / 1000 : undefined);
        this.#flushPts();
        return;
      }
    }
    if (this.#height !== undefined) return;
    if (/^Output #0/.test(line)) this.#inOutput = true;
    if (!this.#inOutput) return;
    const m = /Video: rawvideo.*?, (\d+)x(\d+)/.exec(line);
    if (!m) return;
    this.#width = Number(m[1]);
    this.#height = Number(m[2]);
    this.#frameBytes = this.#width * this.#height * 3;
    this.emit('size', this.#width, this.#height);
    const pending = this.#unsized;
    this.#unsized = [];
    this.#unsizedBytes = 0;
    for (const chunk of pending) this.#onStdout(chunk);
  }

  #onStdout(chunk: Buffer): void {
    if (this.#discard) return;
    if (this.#frameBytes === 0) {
      this.#unsized.push(chunk);
      this.#unsizedBytes += chunk.length;
      if (this.#unsizedBytes > MAX_UNSIZED_BYTES) {
        this.#opts.logger?.error('ffmpeg output size never announced; stopping');
        void this.close();
      }
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      // Shared memory: the frame reaches the inference threads without a copy (the one copy is this one, out of
      // the pipe's chunks).
      this.#current ??= acquireFrameMemory(this.#frameBytes);
      const n = chunk.copy(this.#current, this.#filled, offset);
      offset += n;
      this.#filled += n;
      if (this.#filled === this.#frameBytes) {
        const data = this.#current;
        this.#current = undefined;
        this.#filled = 0;
        this.#completeFrame(data);
        if (this.#discard) return;
      }
    }
  }

  #completeFrame(data: Buffer): void {
    const frame: DecodedFrame = {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      release: releaser(data),
      width: this.#width,
      height: this.#height ?? 0,
      ts: Date.now(),
      seq: this.#seq++,
    };
    if (this.#opts.pts) {
      this.#framesAwaitingPts.push(frame);
      this.#flushPts();
    } else {
      this.#emitFrame(frame);
    }
  }

  #flushPts(): void {
    while (this.#framesAwaitingPts.length > 0 && this.#ptsQueue.length > 0) {
      const frame = this.#framesAwaitingPts.shift() as DecodedFrame;
      const ptsMs = this.#ptsQueue.shift();
      this.#emitFrame(ptsMs === undefined ? frame : { ...frame, ptsMs });
    }
  }

  #emitFrame(frame: DecodedFrame): void {
    if (this.#discard) return;
    if (frame.seq === 0) this.#proc.markReady();
    this.emit('frame', frame);
  }

  #onExit(info: ChildExit): void {
    // Frames whose showinfo line never came still count.
    for (const frame of this.#framesAwaitingPts.splice(0)) this.#emitFrame(frame);
    if (this.#filled > 0) this.#opts.logger?.debug({ bytes: this.#filled }, 'partial frame at exit dropped');
    const failed = !info.expected && (info.code !== 0 || info.signal !== null);
    this.emit('exit', info, failed ? decoderExitError(info) : undefined);
  }
}
