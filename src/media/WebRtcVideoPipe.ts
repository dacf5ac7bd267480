import { CloseOnce } from '../core/CloseOnce.js';
import { errorMessage, SourceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Frame } from '../core/types.js';
import { type DecodedFrame, FfmpegDecoder } from './FfmpegDecoder.js';
import type { VideoCodec } from './rtp/codecFrameBuilder.js';
import { type AssembledFrame, FrameAssembler, type FrameAssemblerStats } from './rtp/FrameAssembler.js';
import { IvfWriter } from './rtp/IvfWriter.js';
import { KeyframeRequester } from './rtp/KeyframeRequester.js';
import { ReorderBuffer } from './rtp/ReorderBuffer.js';
import type { RtpPacketIn } from './rtp/rtpPacket.js';

export interface WebRtcVideoPipeOptions {
  width: number;
  height?: number;
  pliIntervalMs?: number;
  reorderDelayMs?: number;
  /** Frames written to ffmpeg and not yet decoded above which new frames are dropped until a keyframe (default 30). */
  maxFramesInFlight?: number;
  ffmpegPath?: string;
  logger?: Logger;
  sendPli: () => void;
  onFrame: (frame: Frame) => void;
  /** A non-fatal failure (the decoder died; it is restarted on the next keyframe). */
  onError: (err: Error) => void;
  /** The decoder keeps dying (more than 5 times a minute): the source should give up. */
  onFatal: (err: Error) => void;
}

const MAX_DECODER_EXITS_PER_MINUTE = 5;

/** What the pipe counts: keyframe requests, reordering, assembly, and the decoder behind it. */
export interface WebRtcVideoPipeStats {
  codec: VideoCodec | undefined;
  pliSent: number;
  pliSuppressed: number;
  reordered: number;
  skippedHoles: number;
  assembler: FrameAssemblerStats | undefined;
  /** Frames not written to ffmpeg because it was more than `maxFramesInFlight` behind. */
  decoderBehindDrops: number;
  decoderRestarts: number;
  firstFrameAt: number | undefined;
  ffmpegPid: number | undefined;
}

/**
 * The receive path of one WebRTC video track after werift: reorder buffer → frame assembly → ffmpeg (IVF for VP8,
 * Annex-B with access-unit delimiters for H264) → RGB frames of a fixed size. ffmpeg starts at the first keyframe,
 * whose header gives the picture size; when it dies it is started again at the next keyframe (a PLI asks for one).
 * Frame timestamps are the RTP capture times mapped to the wall clock at the first frame.
 */
export class WebRtcVideoPipe {
  readonly #opts: WebRtcVideoPipeOptions;
  readonly #requester: KeyframeRequester;
  readonly #lifecycle: CloseOnce;
  readonly #flushTimer: NodeJS.Timeout;
  #codec: VideoCodec | undefined;
  #reorder: ReorderBuffer | undefined;
  #assembler: FrameAssembler | undefined;
  #decoder: FfmpegDecoder | undefined;
  #ivf: IvfWriter | undefined;
  #size: { width: number; height: number } | undefined;
  /**
   * Capture times of frames written to ffmpeg and not yet decoded (ffmpeg keeps the order, one out per one in: so
   * this decoder drops no frame itself; the analysis rate is applied after it, by the source's one-frame slot).
   */
  #captureTimes: number[] = [];
  #clock: { rtp: number; wall: number; unwrapped: number; last: number } | undefined;
  #lastTs = 0;
  #seq = 0;
  #decoderBehindDrops = 0;
  #decoderRestarts = 0;
  #firstFrameAt: number | undefined;
  #decoders = 0;
  #exits: number[] = [];

  constructor(options: WebRtcVideoPipeOptions) {
    this.#opts = options;
    this.#requester = new KeyframeRequester({
      send: options.sendPli,
      minIntervalMs: options.pliIntervalMs ?? 500,
    });
    this.#lifecycle = new CloseOnce('WebRTC video pipe', () => this.#teardown());
    this.#flushTimer = setInterval(() => this.#reorder?.flush(), 25);
    this.#flushTimer.unref();
  }

  get stats(): WebRtcVideoPipeStats {
    return {
      codec: this.#codec,
      pliSent: this.#requester.sent,
      pliSuppressed: this.#requester.suppressed,
      reordered: this.#reorder?.reordered ?? 0,
      skippedHoles: this.#reorder?.skippedHoles ?? 0,
      assembler: this.#assembler ? { ...this.#assembler.stats } : undefined,
      decoderBehindDrops: this.#decoderBehindDrops,
      decoderRestarts: this.#decoderRestarts,
      firstFrameAt: this.#firstFrameAt,
      ffmpegPid: this.#decoder?.pid,
    };
  }

  get frameSize(): { width: number; height: number } | undefined {
    return this.#size;
  }

  /** PLIs wait until DTLS is up (one sent before is lost). */
  setTransportReady(ready: boolean): void {
    this.#requester.setReady(ready);
  }

  push(codec: VideoCodec, packet: RtpPacketIn): void {
    if (this.#lifecycle.closed) return;
    if (!this.#assembler) {
      this.#codec = codec;
      this.#assembler = new FrameAssembler(codec, {
        onFrame: (f) => this.#onAssembled(f),
        onKeyframeNeeded: () => this.#requester.request(),
      });
      const assembler = this.#assembler;
      this.#reorder = new ReorderBuffer({
        deliver: (p) => assembler.push(p),
        maxDelayMs: this.#opts.reorderDelayMs ?? 150,
      });
    } else if (codec !== this.#codec) {
      return; // one codec per session (the first one negotiated and sent)
    }
    this.#reorder?.push(packet);
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #onAssembled(frame: AssembledFrame): void {
    if (this.#lifecycle.closed) return;
    if (!this.#decoder) {
      if (!frame.keyframe) return; // cannot happen: the assembler waits for a keyframe
      this.#startDecoder(frame);
      if (!this.#decoder) return;
    }
    if (this.#captureTimes.length >= (this.#opts.maxFramesInFlight ?? 30)) {
      // ffmpeg is more than a second behind: drop, and restart the picture at a keyframe when it caught up.
      this.#decoderBehindDrops++;
      this.#assembler?.requireKeyframe('decoder behind');
      return;
    }
    const decoder = this.#decoder;
    const bytes = this.#codec === 'vp8' && this.#ivf ? this.#ivf.frame(frame.data, frame.rtpTimestamp) : frame.data;
    try {
      decoder.write(bytes);
    } catch (err) {
      this.#opts.logger?.warn({ err: errorMessage(err) }, 'write to ffmpeg failed');
      return;
    }
    this.#captureTimes.push(this.#captureTime(frame.rtpTimestamp));
  }

  #startDecoder(keyframe: AssembledFrame): void {
    const width = this.#opts.width;
    let height = this.#opts.height;
    if (height === undefined) {
      const w = keyframe.width ?? 640;
      const h = keyframe.height ?? 480;
      height = Math.max(2, Math.round((width * h) / w / 2) * 2);
    }
    this.#size = { width, height };
    const inputArgs =
      this.#codec === 'vp8'
        ? ['-probesize', '32', '-analyzeduration', '0', '-f', 'ivf', '-i', 'pipe:0']
        : ['-probesize', '32', '-analyzeduration', '0', '-f', 'h264', '-i', 'pipe:0'];
    const decoder = new FfmpegDecoder({
      inputArgs,
      stdin: true,
      width,
      height,
      ffmpegPath: this.#opts.ffmpegPath,
      logger: this.#opts.logger,
    });
    this.#decoder = decoder;
    this.#decoders++;
    if (this.#decoders > 1) this.#decoderRestarts++;
    this.#captureTimes = [];
    decoder.on('frame', (f) => this.#onDecoded(decoder, f));
    decoder.on('exit', (_info, err) => this.#onDecoderExit(decoder, err));
    decoder.start().catch((err: unknown) => this.#onDecoderExit(decoder, err instanceof Error ? err : undefined));
    if (this.#codec === 'vp8') {
      this.#ivf = new IvfWriter();
      decoder.write(this.#ivf.header(keyframe.width ?? width, keyframe.height ?? height));
    }
    this.#opts.logger?.info({ codec: this.#codec, width, height, pid: decoder.pid }, 'decoder started');
  }

  #onDecoded(decoder: FfmpegDecoder, f: DecodedFrame): void {
    if (decoder !== this.#decoder || this.#lifecycle.closed) return;
    const now = Date.now();
    const capture = this.#captureTimes.shift() ?? now;
    const ts = Math.max(this.#lastTs, Math.min(capture, now));
    this.#lastTs = ts;
    this.#firstFrameAt ??= now;
    this.#opts.onFrame({
      data: f.data,
      width: f.width,
      height: f.height,
      ts,
      seq: this.#seq++,
      release: f.release,
    });
  }

  #onDecoderExit(decoder: FfmpegDecoder, err: Error | undefined): void {
    if (decoder !== this.#decoder || this.#lifecycle.closed) return;
    this.#decoder = undefined;
    this.#ivf = undefined;
    void decoder.close();
    const now = Date.now();
    this.#exits = this.#exits.filter((t) => now - t < 60_000);
    this.#exits.push(now);
    const why = err ? `: ${err.message}` : '';
    if (this.#exits.length > MAX_DECODER_EXITS_PER_MINUTE) {
      this.#opts.onFatal(
        new SourceError('SOURCE_DECODE_FAILED', `ffmpeg stopped ${this.#exits.length} times in a minute${why}`, {
          cause: err,
        }),
      );
      return;
    }
    this.#opts.onError(
      new SourceError('SOURCE_DECODER_EXITED', `ffmpeg stopped${why}; restarting at the next keyframe`, {
        cause: err,
      }),
    );
    this.#assembler?.requireKeyframe('decoder restart');
  }

  /** Wall-clock capture time of an RTP timestamp: the first frame's arrival plus the 90 kHz time since it. */
  #captureTime(rtpTs: number): number {
    const now = Date.now();
    if (!this.#clock) {
      this.#clock = { rtp: rtpTs, wall: now, unwrapped: 0, last: rtpTs };
      return now;
    }
    const step = (rtpTs - this.#clock.last) >>> 0;
    if (step < 0x80000000) this.#clock.unwrapped += step;
    this.#clock.last = rtpTs;
    return this.#clock.wall + this.#clock.unwrapped / 90;
  }

  async #teardown(): Promise<void> {
    clearInterval(this.#flushTimer);
    const decoder = this.#decoder;
    this.#decoder = undefined;
    await decoder?.close();
  }
}
