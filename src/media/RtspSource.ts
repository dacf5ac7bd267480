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
import { errorMessage } from '../core/errors.js';
import { type Logger, redactUrl } from '../core/logger.js';
import type { Source, SourceEvents, SourceKind, SourceState, SourceStats } from '../core/source.js';
import { TypedEmitter } from '../core/TypedEmitter.js';
import type { Frame } from '../core/types.js';
import { describeExit } from './ChildProcessHandle.js';
import { FfmpegDecoder } from './FfmpegDecoder.js';
import { ffmpegInfo, resolveFfmpegPath } from './ffmpegPath.js';
import { LatestFrameSlot } from './LatestFrameSlot.js';
import { type BackoffOptions, ReconnectBackoff } from './ReconnectBackoff.js';
import { scrubSecrets, urlSecrets } from './scrubSecrets.js';

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

/**
 * The ffmpeg input arguments for an RTSP URL (exported for tests). `fastProbe` (default) skips ffmpeg's stream
 * analysis (`-probesize 32 -analyzeduration 0`): the codec parameters come from the SDP and the first keyframe, and
 * the first frame arrives in about 0.2 s instead of about 1 s (measured in docs/ingest.md).
 */
export function rtspInputArgs(
  url: string,
  timeoutFlag: '-stimeout' | '-timeout',
  socketTimeoutMs: number,
  fastProbe = true,
): string[] {
  return [
    '-rtsp_transport',
    'tcp',
    timeoutFlag,
    String(Math.round(socketTimeoutMs * 1000)),
    ...(fastProbe ? ['-probesize', '32', '-analyzeduration', '0'] : []),
    '-i',
    url,
  ];
}

export class RtspSource extends TypedEmitter<SourceEvents> implements Source {
  readonly id: string;
  readonly kind: SourceKind = 'rtsp';
  /** The URL without its credentials. */
  readonly url: string;
  readonly #rawUrl: string;
  readonly #secrets: string[];
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
    if (!/^rtsps?:\/\//i.test(opts.url)) throw new RangeError(`not an rtsp:// URL: ${redactUrl(opts.url)}`);
    this.#opts = opts;
    this.#rawUrl = opts.url;
    this.#secrets = urlSecrets(opts.url);
    this.url = scrubSecrets(redactUrl(opts.url), this.#secrets);
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
    try {
      const ffmpegPath = this.#opts.ffmpegPath ?? resolveFfmpegPath();
      const { rtspTimeoutFlag } = ffmpegInfo(ffmpegPath);
      decoder = new FfmpegDecoder({
        inputArgs: rtspInputArgs(
          this.#rawUrl,
          rtspTimeoutFlag,
          this.#opts.socketTimeoutMs ?? 10_000,
          this.#opts.fastProbe ?? true,
        ),
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
      const why = error ? error.message : `stream ended (ffmpeg ${describeExit(info)})`;
      this.#trouble(why);
    });
    decoder.start().catch((err: unknown) => {
      if (this.closed || this.#decoder !== decoder) return;
      this.#trouble(this.#scrub(errorMessage(err)));
    });
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
      this.#spawn();
    }, delay);
  }

  #emitState(state: SourceState, reason: string): void {
    const safe = this.#scrub(reason);
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
