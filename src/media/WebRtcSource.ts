import type { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RTCRtpReceiver, RtpPacket } from 'werift';
import { CloseOnce } from '../core/CloseOnce.js';
import { errorMessage, SourceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Source, SourceEvents, SourceState, SourceStats } from '../core/source.js';
import { TypedEmitter } from '../core/TypedEmitter.js';
import type { Frame } from '../core/types.js';
import { answerOffer, type IceServer } from './answerOffer.js';
import { LatestFrameSlot } from './LatestFrameSlot.js';
import type { VideoCodec } from './rtp/codecFrameBuilder.js';
import type { RtpPacketIn } from './rtp/rtpPacket.js';
import { WebRtcVideoPipe, type WebRtcVideoPipeStats } from './WebRtcVideoPipe.js';
import { type BitrateFloor, inspectOffer } from './webrtcSdp.js';

export type { IceServer } from './answerOffer.js';

export interface WebRtcSourceOptions {
  id: string;
  /** The browser's SDP offer (non-trickle: its candidates are inside). */
  offerSdp: string;
  name?: string;
  /** Default `[]`: no STUN (werift's default STUN server is unreachable offline). */
  iceServers?: IceServer[];
  /** Output width (default 640, even). */
  width?: number;
  /** Output height (even). Default: from the first keyframe's aspect ratio; later size changes are letterboxed. */
  height?: number;
  /** Raises Chrome's send bitrate floor through the answer. Default 600/1500/3000 kbps. */
  bitrate?: BitrateFloor;
  /** At most one PLI per this many ms (default 500). */
  pliIntervalMs?: number;
  /** How long a sequence hole waits for a NACK retransmission (default 150 ms). */
  reorderDelayMs?: number;
  /** ICE + DTLS must be up within this (default 15 s), else the source fails with WEBRTC_CONNECT_TIMEOUT. */
  connectTimeoutMs?: number;
  /** No decoded frame for this long while live: state `stalled` (default 5 s). */
  stallTimeoutMs?: number;
  ffmpegPath?: string;
  logger?: Logger;
  /**
   * Test hook between werift and the frame assembly: sees every video RTP packet (after werift's NACK/RTX
   * handling); return false to drop it (inject loss the NACK machinery cannot repair).
   */
  packetFilter?: (packet: RtpPacketIn) => boolean;
}

export interface WebRtcSourceStats extends SourceStats, WebRtcVideoPipeStats {
  rtpPackets: number;
  /** Packets the `packetFilter` hook dropped. */
  injectedDrops: number;
  createdAt: number;
  connectedAt: number | undefined;
}

const DEFAULT_BITRATE: BitrateFloor = {
  minKbps: 600,
  startKbps: 1500,
  maxKbps: 3000,
};

/**
 * A browser webcam published over WebRTC (werift 0.24), decoded to RGB frames by native ffmpeg.
 *
 * `WebRtcSource.create()` checks the offer (`BAD_SDP`, `NO_VIDEO`, `UNSUPPORTED_CODEC`), answers it (non-trickle:
 * ICE gathering completes first; the answer raises Chrome's bitrate floor) and returns the source in state
 * `starting`. RTP packets go through our own reorder buffer and frame assembly (docs/field-notes.md, "Media",) into
 * ffmpeg's stdin (IVF for VP8, Annex-B + AUD for H264); PLIs are rate-limited and held until DTLS is up.
 * States: `starting` → `live` (frames) ⇄ `stalled` (no frames for `stallTimeoutMs`, or ICE disconnected) → `closed`.
 * Closing stops ffmpeg and the peer connection.
 */
export class WebRtcSource extends TypedEmitter<SourceEvents> implements Source {
  readonly id: string;
  readonly kind = 'webrtc' as const;
  readonly name: string | undefined;
  readonly answerSdp: string;
  readonly #pc: RTCPeerConnection;
  readonly #opts: WebRtcSourceOptions;
  readonly #log: Logger | undefined;
  readonly #slot = new LatestFrameSlot<Frame>();
  readonly #lifecycle: CloseOnce;
  readonly #pipe: WebRtcVideoPipe;
  readonly #timers: NodeJS.Timeout[] = [];
  #state: SourceState = 'starting';
  #receiver: RTCRtpReceiver | undefined;
  #ptToCodec = new Map<number, VideoCodec>();
  #ssrc: number | undefined;
  #rtpPackets = 0;
  #injectedDrops = 0;
  #connectedAt: number | undefined;
  #lastFrameAt = 0;
  #closeReason = 'closed';
  readonly #createdAt = Date.now();

  /** Checks and answers the offer. Rejects with a ProtocolError (bad offer) or SourceError (setup failed). */
  static async create(options: WebRtcSourceOptions): Promise<WebRtcSource> {
    const summary = inspectOffer(options.offerSdp);
    const { pc, answerSdp } = await answerOffer({
      offerSdp: options.offerSdp,
      iceServers: options.iceServers ?? [],
      bitrate: options.bitrate ?? DEFAULT_BITRATE,
    });
    const source = new WebRtcSource(options, pc, answerSdp);
    options.logger?.info({ streamId: options.id, codecs: summary.videoCodecs }, 'webrtc offer answered');
    return source;
  }

  private constructor(options: WebRtcSourceOptions, pc: RTCPeerConnection, answerSdp: string) {
    super();
    this.id = options.id;
    this.name = options.name;
    this.answerSdp = answerSdp;
    this.#opts = options;
    this.#pc = pc;
    this.#log = options.logger?.child({
      component: 'webrtc',
      streamId: options.id,
    });
    this.#lifecycle = new CloseOnce(`WebRtcSource ${options.id}`, () => this.#teardown());
    this.#pipe = new WebRtcVideoPipe({
      width: options.width ?? 640,
      height: options.height,
      pliIntervalMs: options.pliIntervalMs,
      reorderDelayMs: options.reorderDelayMs,
      ffmpegPath: options.ffmpegPath,
      logger: this.#log,
      sendPli: () => this.#sendPli(),
      onFrame: (frame) => this.#onFrame(frame),
      onError: (err) => this.#fail(err, false),
      onFatal: (err) => this.#fail(err),
    });

    // werift announced the track inside setRemoteDescription (before this constructor): pick it up here.
    for (const t of pc.getTransceivers()) {
      if (t.kind !== 'video') continue;
      this.#learnCodecs(t.codecs);
      for (const track of t.receiver.tracks) this.#onTrack(track, t.receiver);
    }
    pc.onTrack.subscribe((track) => {
      const t = pc.getTransceivers().find((x) => x.receiver.tracks.includes(track));
      if (t && track.kind === 'video') this.#onTrack(track, t.receiver);
    });
    pc.connectionStateChange.subscribe((state) => this.#onConnectionState(state));

    const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.#timers.push(
      setTimeout(() => {
        if (this.#connectedAt === undefined && !this.closed) {
          this.#fail(new SourceError('WEBRTC_CONNECT_TIMEOUT', `no ICE/DTLS connection within ${connectTimeoutMs} ms`));
        }
      }, connectTimeoutMs),
    );
    const stallMs = options.stallTimeoutMs ?? 5000;
    this.#timers.push(
      setInterval(
        () => {
          if (this.#state === 'live' && Date.now() - this.#lastFrameAt > stallMs) {
            this.#setState('stalled', `no frame for ${stallMs} ms`);
          }
        },
        Math.min(1000, stallMs),
      ),
    );
    for (const t of this.#timers) t.unref();
  }

  get state(): SourceState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get stats(): WebRtcSourceStats {
    const p = this.#pipe.stats;
    return {
      received: this.#slot.received,
      dropped: this.#slot.dropped,
      codec: p.codec,
      rtpPackets: this.#rtpPackets,
      injectedDrops: this.#injectedDrops,
      pliSent: p.pliSent,
      pliSuppressed: p.pliSuppressed,
      reordered: p.reordered,
      skippedHoles: p.skippedHoles,
      assembler: p.assembler,
      decoderBehindDrops: p.decoderBehindDrops,
      decoderRestarts: p.decoderRestarts,
      createdAt: this.#createdAt,
      connectedAt: this.#connectedAt,
      firstFrameAt: p.firstFrameAt,
      ffmpegPid: p.ffmpegPid,
    };
  }

  /** werift's peer connection state (`closed` after close). */
  get connectionState(): string {
    return this.#pc.connectionState;
  }

  /** Output size once known (after the first keyframe). */
  get frameSize(): { width: number; height: number } | undefined {
    return this.#pipe.frameSize;
  }

  takeFrame(): Frame | undefined {
    this.#lifecycle.assertOpen();
    return this.#slot.take();
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #learnCodecs(codecs: RTCRtpCodecParameters[]): void {
    for (const c of codecs) {
      const name = c.name.toLowerCase();
      if (name === 'vp8' || name === 'h264') this.#ptToCodec.set(c.payloadType, name);
    }
  }

  #onTrack(track: MediaStreamTrack, receiver: RTCRtpReceiver): void {
    if (this.#receiver) return; // one video track per session
    this.#receiver = receiver;
    this.#log?.info({ ssrc: track.ssrc }, 'video track');
    track.onReceiveRtp.subscribe((rtp) => this.#onRtp(rtp));
  }

  #onRtp(rtp: RtpPacket): void {
    if (this.closed) return;
    this.#rtpPackets++;
    const codec = this.#ptToCodec.get(rtp.header.payloadType);
    if (!codec) return;
    this.#ssrc = rtp.header.ssrc;
    const packet: RtpPacketIn = {
      seq: rtp.header.sequenceNumber,
      timestamp: rtp.header.timestamp,
      marker: rtp.header.marker,
      payload: rtp.payload,
    };
    if (this.#opts.packetFilter && !this.#opts.packetFilter(packet)) {
      this.#injectedDrops++;
      return;
    }
    this.#pipe.push(codec, packet);
  }

  #sendPli(): void {
    if (this.#receiver && this.#ssrc !== undefined) void this.#receiver.sendRtcpPLI(this.#ssrc);
  }

  #onConnectionState(state: string): void {
    if (this.closed) return;
    this.#log?.info({ state }, 'peer connection state');
    if (state === 'connected') {
      this.#connectedAt ??= Date.now();
      this.#pipe.setTransportReady(true);
      if (this.#state === 'stalled' && this.#lastFrameAt > 0) this.#setState('live', 'connection restored');
    } else if (state === 'disconnected') {
      this.#pipe.setTransportReady(false);
      if (this.#state === 'live') this.#setState('stalled', 'ICE disconnected');
    } else if (state === 'failed' || state === 'closed') {
      this.#fail(new SourceError('WEBRTC_CONNECTION_FAILED', `peer connection ${state}`));
    }
  }

  #onFrame(frame: Frame): void {
    if (this.closed) return;
    this.#lastFrameAt = Date.now();
    this.#slot.put(frame);
    if (this.#state !== 'live') this.#setState('live', frame.seq === 0 ? 'first frame' : 'frames again');
    this.emit('frame');
  }

  /** Reports a failure; fatal ones close the source. */
  #fail(err: Error, fatal = true): void {
    if (this.closed) return;
    this.#log?.warn({ err: errorMessage(err) }, 'webrtc source error');
    if (this.listenerCount('error') > 0) this.emit('error', err);
    if (fatal) void this.#closeWith(err.message);
  }

  #closeWith(reason: string): Promise<void> {
    if (!this.closed) this.#closeReason = reason;
    return this.close();
  }

  #setState(state: SourceState, reason: string): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.#log?.info({ state, reason }, 'state');
    this.emit('state', state, reason);
  }

  async #teardown(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    await Promise.allSettled([this.#pipe.close(), this.#pc.close()]);
    this.#slot.clear();
    this.#setState('closed', this.#closeReason);
  }
}
