/**
 * IVF container (the format libvpx tools use) for feeding VP8 frames to ffmpeg over a pipe: a 32-byte file header,
 * then per frame a 12-byte header (size, 64-bit pts) and the frame. Time base 1/90000, so pts is the unwrapped RTP
 * timestamp relative to the first frame.
 */
export class IvfWriter {
  #firstTs: number | undefined;
  #lastTs = 0;
  #unwrapped = 0;

  /** The file header. Width and height are hints; the decoder reads the real size from each keyframe. */
  header(width: number, height: number, fourcc = 'VP80'): Buffer {
    const h = Buffer.alloc(32);
    h.write('DKIF', 0, 'ascii');
    h.writeUInt16LE(0, 4);
    h.writeUInt16LE(32, 6);
    h.write(fourcc, 8, 'ascii');
    h.writeUInt16LE(width & 0xffff, 12);
    h.writeUInt16LE(height & 0xffff, 14);
    h.writeUInt32LE(90_000, 16); // time base denominator
    h.writeUInt32LE(1, 20); // numerator
    h.writeUInt32LE(0, 24); // frame count: unknown for a live stream
    return h;
  }

  /** One frame with its IVF frame header. */
  frame(data: Buffer, rtpTimestamp: number): Buffer {
    if (this.#firstTs === undefined) {
      this.#firstTs = rtpTimestamp;
      this.#lastTs = rtpTimestamp;
    }
    const step = (rtpTimestamp - this.#lastTs) >>> 0; // 32-bit wrap-around
    if (step < 0x80000000) this.#unwrapped += step;
    this.#lastTs = rtpTimestamp;
    const h = Buffer.alloc(12);
    h.writeUInt32LE(data.length, 0);
    h.writeBigUInt64LE(BigInt(this.#unwrapped), 4);
    return Buffer.concat([h, data]);
  }
}
