import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegPath } from '../../../src/media/ffmpegPath.js';
import { type AssembledFrame, FrameAssembler } from '../../../src/media/rtp/FrameAssembler.js';
import { toAnnexB } from '../../../src/media/rtp/h264Payload.js';
import { IvfWriter } from '../../../src/media/rtp/IvfWriter.js';
import type { RtpPacketIn } from '../../../src/media/rtp/rtpPacket.js';
import {
  type EncodedFrame,
  encodeH264,
  encodeVp8,
  type H264AccessUnit,
  Packetizer,
  type Vp8DescriptorShape,
} from './rtpFixtures.js';

const GOP = 10;
let vp8: EncodedFrame[];
let h264: H264AccessUnit[];

beforeAll(() => {
  vp8 = encodeVp8(30, GOP);
  h264 = encodeH264(30, GOP);
});

function collect(codec: 'vp8' | 'h264') {
  const frames: AssembledFrame[] = [];
  const keyframeRequests: string[] = [];
  const assembler = new FrameAssembler(codec, {
    onFrame: (f) => frames.push(f),
    onKeyframeNeeded: (reason) => keyframeRequests.push(reason),
  });
  return { assembler, frames, keyframeRequests };
}

function vp8Packets(shape: Vp8DescriptorShape, pz = new Packetizer()): RtpPacketIn[][] {
  return vp8.map((f, i) => pz.vp8(f.data, 3000 * i + 0xfffff000, shape, i * 37));
}

const SHAPES: Record<string, Vp8DescriptorShape> = {
  'no extension': {},
  '7-bit picture id': { pictureId: 7 },
  '15-bit picture id': { pictureId: 15 },
  'picture id + L + T (Chrome)': { pictureId: 15, l: true, t: true },
  'L without T': { pictureId: 15, l: true },
  'T without L': { pictureId: 7, t: true },
  'K only': { k: true },
  'L, T and K': { pictureId: 15, l: true, t: true, k: true },
};

describe('FrameAssembler, VP8', () => {
  it('has a real fixture: 30 frames with a keyframe every 10', () => {
    expect(vp8).toHaveLength(30);
    expect(vp8.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0)).toEqual([0, 10, 20]);
  });

  for (const [name, shape] of Object.entries(SHAPES)) {
    it(`rebuilds every frame byte for byte with descriptor: ${name}`, () => {
      const { assembler, frames, keyframeRequests } = collect('vp8');
      for (const p of vp8Packets(shape).flat()) assembler.push(p);
      expect(frames.map((f) => f.data.equals(vp8[frames.indexOf(f)]?.data ?? Buffer.alloc(0)))).toEqual(
        vp8.map(() => true),
      );
      expect(frames.map((f) => f.keyframe)).toEqual(vp8.map((f) => f.keyframe));
      expect(frames[0]).toMatchObject({ width: 320, height: 180 });
      expect(keyframeRequests).toEqual([]);
      expect(assembler.stats).toMatchObject({
        gaps: 0,
        droppedFrames: 0,
        malformed: 0,
        frames: 30,
        keyframes: 3,
      });
    });
  }

  it('skips empty padding packets without losing the frame after them', () => {
    const pz = new Packetizer();
    const { assembler, frames } = collect('vp8');
    const sent: RtpPacketIn[] = [];
    vp8.forEach((f, i) => {
      const ts = 3000 * i;
      const pkts = pz.vp8(f.data, ts, { pictureId: 15, l: true, t: true }, i);
      // padding between frames and inside a frame (Chrome pads with the last frame's timestamp)
      sent.push(pz.padding(ts - 3000));
      for (const [k, p] of pkts.entries()) {
        sent.push(p);
        if (k === 0 && pkts.length > 1) sent.push(pz.padding(ts));
      }
    });
    for (const p of pz.renumber(sent)) assembler.push(p);
    expect(frames).toHaveLength(30);
    expect(frames.every((f, i) => f.data.equals(vp8[i]?.data ?? Buffer.alloc(0)))).toBe(true);
    expect(assembler.stats.padding).toBeGreaterThanOrEqual(30);
    expect(assembler.stats.gaps).toBe(0);
  });

  it('after a lost packet drops frames until the next keyframe and asks for one', () => {
    const { assembler, frames, keyframeRequests } = collect('vp8');
    const packets = vp8Packets({ pictureId: 15 });
    expect(packets[3]?.length).toBeGreaterThan(1);
    packets.forEach((pkts, i) => {
      pkts.forEach((p, k) => {
        if (!(i === 3 && k === 1)) assembler.push(p); // lose the second packet of frame 3
      });
    });
    const expected = [0, 1, 2, ...Array.from({ length: 20 }, (_, k) => k + 10)];
    expect(frames).toHaveLength(expected.length);
    expect(frames.every((f, j) => f.data.equals(vp8[expected[j] ?? -1]?.data ?? Buffer.alloc(0)))).toBe(true);
    expect(assembler.stats).toMatchObject({
      gaps: 1,
      lostPackets: 1,
      droppedFrames: 7,
    });
    expect(keyframeRequests[0]).toMatch(/lost 1 packet/);
    // one request for the gap, one for the broken frame 3, one per inter frame 4-9 dropped while waiting
    // (the KeyframeRequester rate-limits them)
    expect(keyframeRequests).toHaveLength(8);
    expect(assembler.waitingForKeyframe).toBe(false);
  });

  it('waits for a keyframe when it joins mid-stream, and ignores late and duplicate packets', () => {
    const { assembler, frames, keyframeRequests } = collect('vp8');
    const packets = vp8Packets({ pictureId: 7 });
    const flat = packets.slice(4).flat();
    // start in the middle of frame 4
    for (const p of flat.slice(1)) {
      assembler.push(p);
      assembler.push(p); // duplicate
    }
    expect(frames[0]?.keyframe).toBe(true);
    expect(frames).toHaveLength(20);
    expect(keyframeRequests.length).toBeGreaterThan(0);
    expect(assembler.stats.late).toBe(flat.length - 1);
  });

  it('produces an IVF stream that ffmpeg decodes without an error after a gap', () => {
    const { assembler, frames } = collect('vp8');
    vp8Packets({ pictureId: 15, l: true }).forEach((pkts, i) => {
      pkts.forEach((p, k) => {
        if (!(i === 13 && k === 0)) assembler.push(p);
      });
    });
    const ivf = new IvfWriter();
    const stream = Buffer.concat([ivf.header(320, 180), ...frames.map((f) => ivf.frame(f.data, f.rtpTimestamp))]);
    const out = execFileSync(
      resolveFfmpegPath(),
      [
        '-hide_banner',
        '-v',
        'error',
        '-f',
        'ivf',
        '-i',
        'pipe:0',
        '-vsync',
        'passthrough',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'gray',
        'pipe:1',
      ],
      {
        input: stream,
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    expect(frames).toHaveLength(30 - 7);
    expect(out.length).toBe(frames.length * 320 * 180);
  });
});

describe('FrameAssembler, H264', () => {
  function h264Packets(pz = new Packetizer(65_000, 120)): RtpPacketIn[][] {
    return h264.map((au, i) => pz.h264(au.nals, 3000 * i));
  }

  it('rebuilds every access unit from single NAL, STAP-A and FU-A packets, with an AUD after each', () => {
    const { assembler, frames, keyframeRequests } = collect('h264');
    const packets = h264Packets();
    const types = new Set(packets.flat().map((p) => (p.payload[0] ?? 0) & 0x1f));
    expect(types.has(24) && types.has(28)).toBe(true); // the fixture really exercises STAP-A and FU-A
    for (const p of packets.flat()) assembler.push(p);
    expect(frames).toHaveLength(h264.length);
    frames.forEach((f, i) => {
      expect(f.data.equals(toAnnexB(h264[i]?.nals ?? []))).toBe(true);
      expect(f.data.subarray(-6)).toEqual(Buffer.from([0, 0, 0, 1, 0x09, 0xf0]));
    });
    expect(frames.map((f) => f.keyframe)).toEqual(h264.map((a) => a.keyframe));
    expect(frames[0]).toMatchObject({ width: 320, height: 180 }); // from the SPS, cropping applied (180 = 12 MBs - 4)
    expect(keyframeRequests).toEqual([]);
  });

  it('drops a frame whose FU-A lost its middle and waits for the next IDR', () => {
    const { assembler, frames, keyframeRequests } = collect('h264');
    const packets = h264Packets();
    const victim = packets.findIndex((pkts, i) => i > 0 && i < 9 && pkts.length >= 3);
    expect(victim).toBeGreaterThan(0);
    packets.forEach((pkts, i) => {
      pkts.forEach((p, k) => {
        if (!(i === victim && k === 1)) assembler.push(p);
      });
    });
    expect(frames).toHaveLength(victim + 20);
    expect(frames[victim]?.keyframe).toBe(true);
    expect(keyframeRequests.length).toBeGreaterThan(0);
  });

  it('counts malformed payloads (truncated STAP-A, FU-A without its start) and recovers on the next IDR', () => {
    const { assembler, frames } = collect('h264');
    const pz = new Packetizer(1, 400);
    const packets = h264.map((au, i) => pz.h264(au.nals, 3000 * i));
    const broken = packets[2]?.[0];
    expect(broken).toBeDefined();
    if (broken) broken.payload = Buffer.from([24, 0x00, 0x50, 0x67]); // STAP-A claiming 80 bytes, carrying 1
    const fuMiddle = Buffer.from([0x7c, 0x05, 1, 2, 3]); // FU-A, neither start nor end
    for (const [i, pkts] of packets.entries()) {
      if (i === 5) {
        const first = pkts[0];
        if (first) first.payload = fuMiddle;
      }
      for (const p of pkts) assembler.push(p);
    }
    expect(assembler.stats.malformed).toBe(2);
    const expected = [0, 1, ...Array.from({ length: 20 }, (_, k) => k + 10)];
    expect(frames).toHaveLength(expected.length);
    expect(frames.every((f, j) => f.data.equals(toAnnexB(h264[expected[j] ?? -1]?.nals ?? [])))).toBe(true);
  });

  it('turns an H264 stream with a gap into Annex-B that ffmpeg decodes without an error', () => {
    const { assembler, frames } = collect('h264');
    h264Packets().forEach((pkts, i) => {
      pkts.forEach((p, k) => {
        if (!(i === 4 && k === 0)) assembler.push(p);
      });
    });
    const out = execFileSync(
      resolveFfmpegPath(),
      [
        '-hide_banner',
        '-v',
        'error',
        '-f',
        'h264',
        '-i',
        'pipe:0',
        '-vsync',
        'passthrough',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'gray',
        'pipe:1',
      ],
      {
        input: Buffer.concat(frames.map((f) => f.data)),
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    expect(frames).toHaveLength(4 + 20);
    expect(out.length).toBe(frames.length * 320 * 180);
  });
});
