import { type BuiltFrame, type CodecFrameBuilder, createFrameBuilder, type VideoCodec } from './codecFrameBuilder.js';
import { type RtpPacketIn, seqDelta } from './rtpPacket.js';

export interface AssembledFrame extends BuiltFrame {
  rtpTimestamp: number;
}

export interface FrameAssemblerHandlers {
  onFrame(frame: AssembledFrame): void;
  /** The decoder cannot go on without a keyframe (start, gap, malformed frame): send a PLI (rate-limited by the caller). */
  onKeyframeNeeded(reason: string): void;
}

export interface FrameAssemblerStats {
  packets: number;
  /** Empty payloads (Chrome's padding packets): skipped, but their sequence numbers count. */
  padding: number;
  /** Duplicates and packets older than one already taken. */
  late: number;
  gaps: number;
  lostPackets: number;
  /** Complete, decodable frames handed on. */
  frames: number;
  keyframes: number;
  /** Frames not handed on: cut by a gap, malformed, or inter frames while waiting for a keyframe. */
  droppedFrames: number;
  malformed: number;
}

/**
 * Our own RTP-to-frame assembly (docs/field-notes.md, "Media", 1, 2, 4). Packets must come in sequence order (put a
 * ReorderBuffer in front); the assembler:
 * - skips empty payloads (padding) but counts their sequence numbers;
 * - ends a frame on the marker bit (or when the timestamp changes without one);
 * - on a sequence gap drops the frame in progress and every frame after it until a keyframe arrives, asking for
 *   one through `onKeyframeNeeded`; it starts in that state, since a decoder needs a keyframe first.
 */
export class FrameAssembler {
  readonly codec: VideoCodec;
  readonly stats: FrameAssemblerStats = {
    packets: 0,
    padding: 0,
    late: 0,
    gaps: 0,
    lostPackets: 0,
    frames: 0,
    keyframes: 0,
    droppedFrames: 0,
    malformed: 0,
  };
  readonly #handlers: FrameAssemblerHandlers;
  readonly #builder: CodecFrameBuilder;
  #lastSeq: number | undefined;
  #current: { ts: number; ok: boolean; first: boolean } | undefined;
  #waitingForKeyframe = true;
  #afterGap = false;

  constructor(codec: VideoCodec, handlers: FrameAssemblerHandlers) {
    this.codec = codec;
    this.#handlers = handlers;
    this.#builder = createFrameBuilder(codec);
  }

  get waitingForKeyframe(): boolean {
    return this.#waitingForKeyframe;
  }

  /** Drops everything up to the next keyframe (e.g. the decoder restarted or fell behind) and asks for one. */
  requireKeyframe(reason: string): void {
    this.#needKeyframe(reason);
  }

  push(packet: RtpPacketIn): void {
    this.stats.packets++;
    if (this.#lastSeq !== undefined) {
      const d = seqDelta(this.#lastSeq, packet.seq);
      if (d <= 0) {
        this.stats.late++;
        return;
      }
      if (d > 1) {
        this.stats.gaps++;
        this.stats.lostPackets += d - 1;
        // The frame in progress (if any) is broken; it is counted once, when its last packet arrives.
        if (this.#current) this.#current.ok = false;
        this.#afterGap = true;
        this.#needKeyframe(`lost ${d - 1} packet(s) before seq ${packet.seq}`);
      }
    }
    this.#lastSeq = packet.seq;
    if (packet.payload.length === 0) {
      this.stats.padding++;
      if (packet.marker && this.#current) this.#finish();
      return;
    }
    if (this.#current && this.#current.ts !== packet.timestamp) this.#finish();
    if (!this.#current) {
      this.#current = { ts: packet.timestamp, ok: true, first: true };
      this.#builder.reset();
    }
    const cur = this.#current;
    if (cur.ok && !this.#builder.add(packet.payload, cur.first)) {
      cur.ok = false;
      // A frame that begins mid-way right after a gap lost its first packets: not malformed.
      if (!(cur.first && this.#afterGap)) this.stats.malformed++;
    }
    cur.first = false;
    this.#afterGap = false;
    if (packet.marker) this.#finish();
  }

  #finish(): void {
    const cur = this.#current;
    if (!cur) return;
    this.#current = undefined;
    const built = cur.ok ? this.#builder.finish() : undefined;
    this.#builder.reset();
    if (!built) {
      this.stats.droppedFrames++;
      this.#needKeyframe(cur.ok ? 'incomplete frame' : 'broken frame');
      return;
    }
    if (this.#waitingForKeyframe && !built.keyframe) {
      this.stats.droppedFrames++;
      this.#handlers.onKeyframeNeeded('waiting for a keyframe');
      return;
    }
    if (built.keyframe) {
      this.#waitingForKeyframe = false;
      this.stats.keyframes++;
    }
    this.stats.frames++;
    this.#handlers.onFrame({ ...built, rtpTimestamp: cur.ts });
  }

  #needKeyframe(reason: string): void {
    this.#waitingForKeyframe = true;
    this.#handlers.onKeyframeNeeded(reason);
  }
}
