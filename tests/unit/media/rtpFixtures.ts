/**
 * Test helpers for the RTP frame assembly: real VP8 and H264 frames encoded at test time by ffmpeg from the shared
 * video, and packetizers that produce the packet shapes browsers send (VP8 descriptor variants, H264 single NAL,
 * STAP-A, FU-A).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../../../src/media/ffmpegPath.js';
import type { RtpPacketIn } from '../../../src/media/rtp/rtpPacket.js';

export const VIDEO = join(import.meta.dirname, '../../../../shared/data/video/fr_short_hamilton_clip.mp4');

export interface EncodedFrame {
  data: Buffer;
  keyframe: boolean;
}

/** `count` VP8 frames (320x180, a keyframe every `gop`) as IVF frame bodies. */
export function encodeVp8(count: number, gop: number): EncodedFrame[] {
  const dir = mkdtempSync(join(tmpdir(), 'rtp-vp8-'));
  try {
    const out = join(dir, 'out.ivf');
    execFileSync(resolveFfmpegPath(), [
      ...['-hide_banner', '-loglevel', 'error', '-ss', '3', '-i', VIDEO, '-an', '-frames:v', String(count)],
      ...['-vf', 'scale=320:180', '-c:v', 'libvpx', '-g', String(gop), '-keyint_min', String(gop), '-b:v', '600k'],
      ...['-auto-alt-ref', '0', '-f', 'ivf', '-y', out],
    ]);
    const ivf = readFileSync(out);
    const frames: EncodedFrame[] = [];
    let off = ivf.readUInt16LE(6);
    while (off + 12 <= ivf.length) {
      const size = ivf.readUInt32LE(off);
      const data = ivf.subarray(off + 12, off + 12 + size);
      frames.push({
        data: Buffer.from(data),
        keyframe: ((data[0] ?? 1) & 1) === 0,
      });
      off += 12 + size;
    }
    return frames;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface H264AccessUnit {
  nals: Buffer[];
  keyframe: boolean;
}

/** `count` H264 access units (constrained baseline, 320x180, an IDR every `gop`), AUDs removed. */
export function encodeH264(count: number, gop: number): H264AccessUnit[] {
  const dir = mkdtempSync(join(tmpdir(), 'rtp-h264-'));
  try {
    const out = join(dir, 'out.h264');
    execFileSync(resolveFfmpegPath(), [
      ...['-hide_banner', '-loglevel', 'error', '-ss', '3', '-i', VIDEO, '-an', '-frames:v', String(count)],
      ...['-vf', 'scale=320:180', '-c:v', 'libx264', '-profile:v', 'baseline', '-g', String(gop)],
      ...['-keyint_min', String(gop), '-sc_threshold', '0', '-x264-params', 'aud=1', '-bsf:v', 'h264_mp4toannexb'],
      ...['-f', 'h264', '-y', out],
    ]);
    const units: H264AccessUnit[] = [];
    let current: Buffer[] | undefined;
    for (const nal of splitAnnexB(readFileSync(out))) {
      const type = (nal[0] ?? 0) & 0x1f;
      if (type === 9) {
        if (current?.length) units.push(auOf(current));
        current = [];
        continue;
      }
      current ??= [];
      current.push(nal);
    }
    if (current?.length) units.push(auOf(current));
    return units;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function auOf(nals: Buffer[]): H264AccessUnit {
  return { nals, keyframe: nals.some((n) => ((n[0] ?? 0) & 0x1f) === 5) };
}

export function splitAnnexB(buf: Buffer): Buffer[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 3 <= buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0) {
      if (buf[i + 2] === 1) {
        starts.push({ at: i, len: 3 });
        i += 2;
      } else if (buf[i + 2] === 0 && buf[i + 3] === 1) {
        starts.push({ at: i, len: 4 });
        i += 3;
      }
    }
  }
  return starts.map((s, k) => buf.subarray(s.at + s.len, starts[k + 1]?.at ?? buf.length));
}

/** VP8 payload descriptor shapes: which optional fields are present. */
export interface Vp8DescriptorShape {
  pictureId?: 7 | 15;
  l?: boolean;
  t?: boolean;
  k?: boolean;
}

function vp8Descriptor(shape: Vp8DescriptorShape, start: boolean, pictureId: number): Buffer {
  const x = shape.pictureId !== undefined || shape.l || shape.t || shape.k;
  const bytes = [(x ? 0x80 : 0) | (start ? 0x10 : 0)];
  if (x) {
    bytes.push((shape.pictureId ? 0x80 : 0) | (shape.l ? 0x40 : 0) | (shape.t ? 0x20 : 0) | (shape.k ? 0x10 : 0));
    if (shape.pictureId === 7) bytes.push(pictureId & 0x7f);
    if (shape.pictureId === 15) bytes.push(0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff);
    if (shape.l) bytes.push(pictureId & 0xff);
    if (shape.t || shape.k) bytes.push(0x20 | (pictureId & 0x1f));
  }
  return Buffer.from(bytes);
}

/** Sequence-numbered packets for a run of frames; `seq` continues across calls through the returned `nextSeq`. */
export class Packetizer {
  seq: number;
  constructor(
    firstSeq = 65_500, // close to the wrap-around on purpose
    readonly mtu = 300,
  ) {
    this.seq = firstSeq;
  }

  #packet(timestamp: number, marker: boolean, payload: Buffer): RtpPacketIn {
    const p = { seq: this.seq, timestamp: timestamp >>> 0, marker, payload };
    this.seq = (this.seq + 1) & 0xffff;
    return p;
  }

  /** Gives the packets fresh consecutive sequence numbers in the order they are listed (after inserting some). */
  renumber(packets: RtpPacketIn[]): RtpPacketIn[] {
    return packets.map((p) => this.#packet(p.timestamp, p.marker, p.payload));
  }

  padding(timestamp: number): RtpPacketIn {
    return this.#packet(timestamp, false, Buffer.alloc(0));
  }

  vp8(frame: Buffer, timestamp: number, shape: Vp8DescriptorShape, pictureId: number): RtpPacketIn[] {
    const out: RtpPacketIn[] = [];
    for (let off = 0; off < frame.length; off += this.mtu) {
      const chunk = frame.subarray(off, off + this.mtu);
      const last = off + this.mtu >= frame.length;
      out.push(this.#packet(timestamp, last, Buffer.concat([vp8Descriptor(shape, off === 0, pictureId), chunk])));
    }
    return out;
  }

  /** Small NALs are aggregated in STAP-A, NALs over the MTU are split in FU-A, others go alone. */
  h264(nals: Buffer[], timestamp: number): RtpPacketIn[] {
    const payloads: Buffer[] = [];
    let stap: Buffer[] = [];
    const flushStap = () => {
      if (stap.length === 1 && stap[0]) payloads.push(stap[0]);
      else if (stap.length > 1) {
        const nri = Math.max(...stap.map((n) => (n[0] ?? 0) & 0x60));
        const parts: Buffer[] = [Buffer.from([nri | 24])];
        for (const n of stap) {
          const size = Buffer.alloc(2);
          size.writeUInt16BE(n.length);
          parts.push(size, n);
        }
        payloads.push(Buffer.concat(parts));
      }
      stap = [];
    };
    for (const nal of nals) {
      if (nal.length < 64) {
        stap.push(nal);
        continue;
      }
      flushStap();
      if (nal.length <= this.mtu) {
        payloads.push(nal);
        continue;
      }
      const header = nal[0] ?? 0;
      const body = nal.subarray(1);
      for (let off = 0; off < body.length; off += this.mtu) {
        const start = off === 0;
        const end = off + this.mtu >= body.length;
        const fu = Buffer.from([(header & 0xe0) | 28, (start ? 0x80 : 0) | (end ? 0x40 : 0) | (header & 0x1f)]);
        payloads.push(Buffer.concat([fu, body.subarray(off, off + this.mtu)]));
      }
    }
    flushStap();
    return payloads.map((p, i) => this.#packet(timestamp, i === payloads.length - 1, p));
  }
}
