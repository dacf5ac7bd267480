/**
 * An RTSP camera as a `Source`: native ffmpeg over TCP (`-rtsp_transport tcp`) with a socket timeout (`-stimeout`
 * on the 4.x build, `-timeout` on ffmpeg >= 5; see ffmpegPath.ts), decoded to RGB frames in a `LatestFrameSlot`.
 *
 * A watchdog restarts ffmpeg when no frame came for `stallTimeoutMs` (default 20 s; also covers a first frame that
 * never comes) or when ffmpeg died. Restarts back off exponentially (`backoff`: 1 s doubling to 30 s), and the
 * schedule resets once the source was live for `resetAfterMs` (default 60 s). States, each with a reason:
 * `starting` → `live`; on trouble `stalled` (why) → `reconnecting` (when the next try is) → `live` again;
 * `closed` after `close()`.
 *
 * The URL's password never leaves this object: `url` is the redacted form, ffmpeg's stderr is scrubbed before it is
 * kept or logged, and state reasons and errors are built from scrubbed text only.
 *
 * Frame `ts` is the wall-clock time the frame came out of ffmpeg (ms since the epoch). Without `height` the output
 * height follows the camera's aspect on the first connection and is then pinned, so every frame of a source has the
 * same size across reconnects.
 */

import { CloseOnce } from '../core/CloseOnce.js';
import { type CameraUrl, parseCameraUrl } from '../core/cameraUrl.js';
import { errorMessage, SourceError } from '../core/errors.js';
import { clipReason } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { scrubSecrets } from '../core/secrets.js';
import type { Source, SourceEvents, SourceKind, SourceState, SourceStats } from '../core/source.js';
import { TypedEmitter } from '../core/TypedEmitter.js';
import type { Frame } from '../core/types.js';
import { describeExit } from './ChildProcessHandle.js';
import { FfmpegDecoder } from './FfmpegDecoder.js';
import { ffmpegInfo, resolveFfmpegPath } from './ffmpegPath.js';
import { LatestFrameSlot } from './LatestFrameSlot.js';
import { type BackoffOptions, ReconnectBackoff } from './ReconnectBackoff.js';
import { rtspInputArgs, rtspSecretInput } from './rtspInput.js';

export interface RtspSourceOptions {
  url: string;
  id?: string;
  width?: number;
  height?: number;
  /** At most this many frames per second leave ffmpeg (the analysis rate; default: every frame). */
  maxFps?: number;
  /** No frame for this long restarts ffmpeg (default 20000). */
  stallTimeoutMs?: number;
  /** ffmpeg's socket I/O timeout (default 10000). */
  socketTimeoutMs?: number;
  /** Restart delays (default 1000 doubling to 30000). */
  backoff?: BackoffOptions;
  /** Live this long resets the backoff (default 60000). */
  resetAfterMs?: number;
  /** Skip ffmpeg's stream analysis for a faster first frame (default true). */
  fastProbe?: boolean;
  ffmpegPath?: string;
  logger?: Logger;
}

export { rtspInputArgs } from './rtspInput.js';

export class RtspSource extends TypedEmitter<SourceEvents> implements Source {
  readonly id: string;
  readonly kind: SourceKind = 'rtsp';
  /** The URL without its credentials. */
  readonly url: string;
  readonly #camera: CameraUrl;
  readonly #secrets: readonly string[];
  readonly #opts: RtspSourceOptions;
  readonly #lifecycle: CloseOnce;
  readonly #slot = new LatestFrameSlot<Frame>();
  readonly #backoff: ReconnectBackoff;
  readonly #log: Logger | undefined;
  #decoder: FfmpegDecoder | undefined;
  #state: SourceState = 'starting';
  #started = false;
  #width: number;
  #height: number | undefined;
  #seq = 0;
  #lastFrameAt = 0;
  #attemptAt = 0;
  #liveSince = 0;
  #watchdog: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #stopping = new Set<Promise<void>>();

  constructor(opts: RtspSourceOptions) {
    super();
    // Checked as the API checks it (BAD_URL), but without its length limit: that is the API's and the config's.
    this.#camera = parseCameraUrl(opts.url, { maxLength: Number.POSITIVE_INFINITY });
    this.#opts = opts;
    this.#secrets = this.#camera.secrets;
    this.url = this.#camera.display;
    this.id = opts.id ?? this.url;
    this.#width = opts.width ?? 640;
    this.#height = opts.height;
    this.#backoff = new ReconnectBackoff(opts.backoff);
    this.#log = opts.logger?.child({ source: this.id, kind: 'rtsp' });
    this.#lifecycle = new CloseOnce(`rtsp source ${this.id}`, () => this.#teardown());
  }

  get state(): SourceState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get stats(): SourceStats {
    return { received: this.#slot.received, dropped: this.#slot.dropped };
  }

  /** The running ffmpeg's pid, if any (for tests and CPU measurements). */
  get pid(): number | undefined {
    return this.#decoder?.pid;
  }

  /** Restart attempts since the last healthy minute. */
  get attempts(): number {
    return this.#backoff.attempts;
  }

  /** Connects (and keeps reconnecting) in the background; watch the `state` events. Idempotent. */
  start(): void {
    this.#lifecycle.assertOpen();
    if (this.#started) return;
    this.#started = true;
    const stallTimeoutMs = this.#opts.stallTimeoutMs ?? 20_000;
    this.#watchdog = setInterval(
      () => this.#checkStall(stallTimeoutMs),
      Math.max(50, Math.min(1000, stallTimeoutMs / 4)),
    );
    this.#emitState('starting', 'connecting');
    this.#spawn();
  }

  takeFrame(): Frame | undefined {
    this.#lifecycle.assertOpen();
    return this.#slot.take();
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #spawn(): void {
    if (this.closed) return;
    let decoder: FfmpegDecoder;
    let stdin: string | undefined;
    try {
      const ffmpegPath = this.#opts.ffmpegPath ?? resolveFfmpegPath();
      const { rtspTimeoutFlag, avformatMajor } = ffmpegInfo(ffmpegPath);
      const socketTimeoutMs = this.#opts.socketTimeoutMs ?? 10_000;
      const fastProbe = this.#opts.fastProbe ?? true;
      let inputArgs: string[];
      if (this.#camera.hasSecrets) {
        // Never on the command line: the URL goes to ffmpeg's stdin (rtspInput.ts).
        ({ args: inputArgs, stdin } = rtspSecretInput(this.#camera.href, avformatMajor, socketTimeoutMs, fastProbe));
      } else {
        inputArgs = rtspInputArgs(this.#camera.href, rtspTimeoutFlag, socketTimeoutMs, fastProbe);
      }
      decoder = new FfmpegDecoder({
        inputArgs,
        stdin: stdin !== undefined,
        width: this.#width,
        height: this.#height,
        maxFps: this.#opts.maxFps,
        readyOn: 'spawn',
        secrets: this.#secrets,
        ffmpegPath,
        logger: this.#log,
      });
    } catch (err) {
      this.#trouble(`cannot start ffmpeg: ${this.#scrub(errorMessage(err))}`);
      return;
    }
    this.#decoder = decoder;
    this.#attemptAt = Date.now();
    decoder.on('size', (w, h) => {
      this.#width = w;
      this.#height = h; // pinned for later connections
    });
    decoder.on('frame', (decoded) => {
      if (this.closed || this.#decoder !== decoder) return;
      this.#lastFrameAt = Date.now();
      const frame: Frame = {
        data: decoded.data,
        width: decoded.width,
        height: decoded.height,
        ts: decoded.ts,
        seq: this.#seq++,
        release: decoded.release,
      };
      this.#slot.put(frame);
      if (this.#state !== 'live') {
        this.#liveSince = this.#lastFrameAt;
        this.#emitState('live', decoded.seq === 0 ? 'first frame received' : 'frames flowing');
      }
      this.emit('frame');
    });
    decoder.on('exit', (info, error) => {
      if (this.closed || this.#decoder !== decoder || info.expected) return;
      this.#trouble(error ? this.#describe(error) : `stream ended (ffmpeg ${describeExit(info)})`);
    });
    decoder.start().catch((err: unknown) => {
      if (this.closed || this.#decoder !== decoder) return;
      this.#trouble(this.#describe(err));
    });
    if (stdin !== undefined && decoder.pid !== undefined) {
      try {
        decoder.write(Buffer.from(stdin));
        decoder.endInput();
      } catch {
        // ffmpeg is already gone: its exit (or the failed start) says why
      }
    }
  }

  /**
   * The reason for a failed attempt. ffmpeg reports a camera that accepts the connection and then says nothing as
   * "Invalid data found when processing input" once its socket timeout expires: that is a timeout, not bad data.
   */
  #describe(err: unknown): string {
    const message = this.#scrub(errorMessage(err));
    const socketTimeoutMs = this.#opts.socketTimeoutMs ?? 10_000;
    const elapsed = Date.now() - this.#attemptAt;
    const silent =
      err instanceof SourceError &&
      err.code === 'SOURCE_DECODE_FAILED' &&
      /Invalid data found when processing input/.test(message) &&
      this.#lastFrameAt < this.#attemptAt &&
      elapsed >= socketTimeoutMs * 0.9;
    if (silent) return `camera timed out: no answer within ${socketTimeoutMs} ms [SOURCE_UNREACHABLE]`;
    return err instanceof SourceError ? `${message} [${err.code}]` : message;
  }

  #checkStall(stallTimeoutMs: number): void {
    if (this.closed || !this.#decoder || this.#retryTimer) return;
    const since = Math.max(this.#lastFrameAt, this.#attemptAt);
    const idle = Date.now() - since;
    if (idle >= stallTimeoutMs) {
      const what = this.#lastFrameAt >= this.#attemptAt ? 'no frame' : 'no first frame';
      this.#trouble(`${what} for ${idle} ms`);
    }
  }

  /** Something went wrong with the current ffmpeg: report, stop it, schedule the next try. */
  #trouble(reason: string): void {
    if (this.closed || this.#retryTimer) return;
    const old = this.#decoder;
    this.#decoder = undefined;
    if (old) {
      const stopping = old.close();
      this.#stopping.add(stopping);
      void stopping.finally(() => this.#stopping.delete(stopping));
    }
    if (this.#state === 'live' && Date.now() - this.#liveSince >= (this.#opts.resetAfterMs ?? 60_000)) {
      this.#backoff.reset();
    }
    this.#emitState('stalled', reason);
    const delay = this.#backoff.next();
    this.#emitState('reconnecting', `attempt ${this.#backoff.attempts} in ${delay} ms`);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      try {
        this.#spawn();
      } catch (err) {
        // Nothing thrown in a timer may reach the process: whatever went wrong is one more failed attempt.
        this.#trouble(`cannot start ffmpeg: ${this.#scrub(errorMessage(err))}`);
      }
    }, delay);
  }

  #emitState(state: SourceState, reason: string): void {
    const safe = clipReason(this.#scrub(reason)); // scrubbed first: clipping must not leave half a secret
    this.#state = state;
    if (state === 'live' || state === 'closed' || state === 'starting') this.#log?.info({ state }, safe);
    else this.#log?.warn({ state }, safe);
    this.emit('state', state, safe);
  }

  #scrub(text: string): string {
    return scrubSecrets(text, this.#secrets);
  }

  async #teardown(): Promise<void> {
    clearInterval(this.#watchdog);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const decoder = this.#decoder;
    this.#decoder = undefined;
    await Promise.all([decoder?.close(), ...this.#stopping]);
    this.#slot.clear();
    this.#emitState('closed', 'closed');
  }
}
