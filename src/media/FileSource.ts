/**
 * A video file as a `Source`, decoded by ffmpeg (`FfmpegDecoder`).
 *
 * - `pace: 'realtime'` (default): ffmpeg reads at the file's own rate (`-re`); frames go through the one-frame
 *   `LatestFrameSlot` (a slow consumer sees drops, counted in `stats.dropped`).
 * - `pace: 'consumer'`: as fast as the consumer takes. A two-frame queue; when it is full ffmpeg's stdout is paused
 *   (backpressure), so no frame is ever dropped. `takeFrame()` returns the oldest waiting frame.
 *   `for await (const frame of source.frames())` reads every frame and ends at the end of the file (leaving the loop
 *   early closes the source; a decode failure is thrown from the loop).
 * - `fps`: sample N frames per second of *video time* (ffmpeg `fps=N` filter). `loop`: start again at the end
 *   (`-stream_loop -1`; presentation times keep increasing across loops).
 * - Frame `ts` = the wall-clock time of `start()` + the frame's presentation time in the file (ms), so it is monotonic
 *   and spaced like the video. `seq` counts from 0.
 * - A missing file is `SOURCE_NOT_FOUND`; a file ffmpeg cannot decode (truncated, not a video) is
 *   `SOURCE_DECODE_FAILED`: `start()` rejects, the `error` event fires (when listened to), `frames()` throws, and the
 *   source closes itself. At the end of the file (no loop) the state becomes `closed` ("end of file").
 */
import { access, constants } from 'node:fs/promises';
import { basename } from 'node:path';
import { CloseOnce } from '../core/CloseOnce.js';
import { type AppError, errorMessage, SourceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Source, SourceEvents, SourceKind, SourceState, SourceStats } from '../core/source.js';
import { TypedEmitter } from '../core/TypedEmitter.js';
import type { Frame } from '../core/types.js';
import { type DecodedFrame, FfmpegDecoder } from './FfmpegDecoder.js';
import { LatestFrameSlot } from './LatestFrameSlot.js';

export interface FileSourceOptions {
  path: string;
  id?: string;
  loop?: boolean;
  pace?: 'realtime' | 'consumer';
  fps?: number;
  /** Realtime streams: at most this many frames per second leave ffmpeg (the analysis rate). */
  maxFps?: number;
  width?: number;
  height?: number;
  startTimeoutMs?: number;
  ffmpegPath?: string;
  logger?: Logger;
}

const QUEUE_LIMIT = 2;

export class FileSource extends TypedEmitter<SourceEvents> implements Source {
  readonly id: string;
  readonly kind: SourceKind = 'file';
  readonly path: string;
  readonly pace: 'realtime' | 'consumer';
  readonly #opts: FileSourceOptions;
  readonly #lifecycle: CloseOnce;
  readonly #slot = new LatestFrameSlot<Frame>();
  readonly #queue: Frame[] = [];
  #decoder: FfmpegDecoder | undefined;
  #state: SourceState = 'starting';
  #started: Promise<void> | undefined;
  #startMs = 0;
  #lastTs = -Infinity;
  #received = 0;
  #ended = false;
  #failure: AppError | undefined;
  #wake: (() => void) | undefined;

  constructor(opts: FileSourceOptions) {
    super();
    this.#opts = opts;
    this.path = opts.path;
    this.id = opts.id ?? basename(opts.path);
    this.pace = opts.pace ?? 'realtime';
    this.#lifecycle = new CloseOnce(`file source ${this.id}`, () => this.#teardown());
  }

  get state(): SourceState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get stats(): SourceStats {
    return { received: this.#received, dropped: this.#slot.dropped };
  }

  /** The ffmpeg child's pid while it runs (for tests and CPU measurements). */
  get pid(): number | undefined {
    return this.#decoder?.pid;
  }

  /** Starts decoding; resolves at the first frame, rejects with a `SourceError`. Idempotent. */
  start(): Promise<void> {
    this.#lifecycle.assertOpen();
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    try {
      await access(this.path, constants.R_OK);
    } catch (err) {
      throw this.#fail(new SourceError('SOURCE_NOT_FOUND', `cannot read ${this.path}: ${errorMessage(err)}`));
    }
    if (this.closed) return;
    const inputArgs = [
      ...(this.pace === 'realtime' ? ['-re'] : []),
      ...(this.#opts.loop ? ['-stream_loop', '-1'] : []),
      '-i',
      this.path,
    ];
    const decoder = new FfmpegDecoder({
      inputArgs,
      width: this.#opts.width,
      height: this.#opts.height,
      fps: this.#opts.fps,
      maxFps: this.#opts.maxFps,
      pts: true,
      startTimeoutMs: this.#opts.startTimeoutMs,
      ffmpegPath: this.#opts.ffmpegPath,
      logger: this.#opts.logger,
    });
    this.#decoder = decoder;
    this.#startMs = Date.now();
    decoder.on('frame', (frame) => this.#onFrame(frame));
    decoder.on('exit', (info, error) => {
      if (this.closed) return;
      if (error) {
        this.#fail(new SourceError(error.code, `${this.path}: ${error.message}`, { cause: error }));
        return;
      }
      if (!info.expected) {
        this.#ended = true;
        this.#wake?.();
        this.#maybeFinish();
      }
    });
    try {
      await decoder.start();
    } catch (err) {
      const e = err instanceof SourceError ? err : new SourceError('SOURCE_DECODE_FAILED', errorMessage(err));
      throw this.#fail(new SourceError(e.code, `${this.path}: ${e.message}`, { cause: err }));
    }
  }

  takeFrame(): Frame | undefined {
    this.#lifecycle.assertOpen();
    if (this.pace === 'realtime') return this.#slot.take();
    const frame = this.#queue.shift();
    if (this.#queue.length < QUEUE_LIMIT) this.#decoder?.resume();
    if (this.#queue.length === 0) this.#maybeFinish();
    return frame;
  }

  /**
   * Every frame in order (consumer pacing) or the newest one each time (realtime), ending at the end of the file.
   * Starts the source when needed. Breaking out of the loop closes the source.
   */
  async *frames(): AsyncGenerator<Frame, void, undefined> {
    this.#lifecycle.assertOpen();
    const started = this.start();
    started.catch(() => undefined); // the failure is thrown below
    try {
      await started;
      for (;;) {
        const frame = this.#has() ? this.takeFrame() : undefined;
        if (frame) {
          yield frame;
          continue;
        }
        if (this.#failure) throw this.#failure;
        if (this.#ended || this.closed) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
    } finally {
      await this.close();
    }
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #has(): boolean {
    if (this.closed) return false;
    return this.pace === 'realtime' ? this.#slot.hasFrame : this.#queue.length > 0;
  }

  #onFrame(decoded: DecodedFrame): void {
    if (this.closed) return;
    let ts = this.#startMs + (decoded.ptsMs ?? Date.now() - this.#startMs);
    if (ts <= this.#lastTs) ts = this.#lastTs + 1;
    this.#lastTs = ts;
    const frame: Frame = {
      data: decoded.data,
      width: decoded.width,
      height: decoded.height,
      ts,
      seq: decoded.seq,
      release: decoded.release,
    };
    this.#received++;
    if (this.pace === 'realtime') {
      this.#slot.put(frame);
    } else {
      this.#queue.push(frame);
      if (this.#queue.length >= QUEUE_LIMIT) this.#decoder?.pause();
    }
    if (this.#state !== 'live') this.#setState('live', 'decoding');
    this.emit('frame');
    this.#wake?.();
  }

  #maybeFinish(): void {
    if (!this.#ended || this.closed || this.#has()) return;
    this.#setState('closed', 'end of file');
    void this.close();
  }

  #fail(err: AppError): AppError {
    if (this.#failure || this.closed) return this.#failure ?? err;
    this.#failure = err;
    this.#opts.logger?.warn({ source: this.id, code: err.code }, err.message);
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.#setState('closed', err.message);
    this.#wake?.();
    void this.close();
    return err;
  }

  #setState(state: SourceState, reason: string): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state, reason);
  }

  async #teardown(): Promise<void> {
    this.#wake?.();
    await this.#decoder?.close();
    this.#queue.length = 0;
    this.#slot.clear();
    if (this.#state !== 'closed') this.#setState('closed', 'closed');
  }
}
