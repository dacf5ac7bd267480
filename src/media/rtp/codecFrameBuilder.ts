import { NAL, nalType, parseH264Payload, toAnnexB } from './h264Payload.js';
import { h264SpsSize } from './h264Sps.js';
import { isVp8Keyframe, parseVp8Descriptor, vp8KeyframeSize } from './vp8Descriptor.js';

export type VideoCodec = 'vp8' | 'h264';

/** One encoded frame, ready for the decoder's container (IVF frame body for VP8; Annex-B + AUD for H264). */
export interface BuiltFrame {
  data: Buffer;
  keyframe: boolean;
  width?: number;
  height?: number;
}

/** Collects the payloads of one frame's packets (in sequence, none missing) and builds the frame. */
export interface CodecFrameBuilder {
  /** Adds the next packet's payload; false when it is malformed or cannot belong where it is. */
  add(payload: Buffer, firstOfFrame: boolean): boolean;
  /** The frame, or undefined when it is incomplete. Resets the builder. */
  finish(): BuiltFrame | undefined;
  reset(): void;
}

export function createFrameBuilder(codec: VideoCodec): CodecFrameBuilder {
  return codec === 'vp8' ? new Vp8FrameBuilder() : new H264FrameBuilder();
}

class Vp8FrameBuilder implements CodecFrameBuilder {
  #parts: Buffer[] = [];

  add(payload: Buffer, firstOfFrame: boolean): boolean {
    const d = parseVp8Descriptor(payload);
    if (!d) return false;
    // A frame begins at the start of partition 0; anything else first means we joined (or lost) mid-frame.
    if (firstOfFrame && !(d.start && d.partitionId === 0)) return false;
    const body = payload.subarray(d.headerLength);
    if (body.length > 0) this.#parts.push(body);
    return true;
  }

  finish(): BuiltFrame | undefined {
    const data = Buffer.concat(this.#parts);
    this.#parts = [];
    if (data.length === 0) return undefined;
    const keyframe = isVp8Keyframe(data);
    const size = keyframe ? vp8KeyframeSize(data) : undefined;
    return { data, keyframe, ...size };
  }

  reset(): void {
    this.#parts = [];
  }
}

class H264FrameBuilder implements CodecFrameBuilder {
  #nals: Buffer[] = [];
  #fragment: Buffer[] | undefined;

  add(payload: Buffer, _firstOfFrame: boolean): boolean {
    let piece: ReturnType<typeof parseH264Payload>;
    try {
      piece = parseH264Payload(payload);
    } catch {
      return false;
    }
    if (piece.kind === 'nals') {
      if (this.#fragment) return false; // a fragmented NAL was cut short
      for (const nal of piece.nals) if (nalType(nal) !== NAL.AUD) this.#nals.push(nal);
      return true;
    }
    if (piece.start) {
      if (this.#fragment) return false;
      this.#fragment = [Buffer.from([piece.nalHeader]), piece.data];
    } else {
      if (!this.#fragment) return false; // middle or end without its start
      this.#fragment.push(piece.data);
    }
    if (piece.end) {
      this.#nals.push(Buffer.concat(this.#fragment));
      this.#fragment = undefined;
    }
    return true;
  }

  finish(): BuiltFrame | undefined {
    const nals = this.#nals;
    const incomplete = this.#fragment !== undefined;
    this.reset();
    if (incomplete || nals.length === 0) return undefined;
    const keyframe = nals.some((n) => nalType(n) === NAL.IDR);
    const sps = keyframe ? nals.find((n) => nalType(n) === NAL.SPS) : undefined;
    const size = sps ? h264SpsSize(sps) : undefined;
    return { data: toAnnexB(nals), keyframe, ...size };
  }

  reset(): void {
    this.#nals = [];
    this.#fragment = undefined;
  }
}
