import { describe, expect, it } from 'vitest';
import { IvfWriter } from '../../../src/media/rtp/IvfWriter.js';
import { KeyframeRequester } from '../../../src/media/rtp/KeyframeRequester.js';
import { ReorderBuffer } from '../../../src/media/rtp/ReorderBuffer.js';
import type { RtpPacketIn } from '../../../src/media/rtp/rtpPacket.js';
import { parseVp8Descriptor } from '../../../src/media/rtp/vp8Descriptor.js';

const pkt = (seq: number): RtpPacketIn => ({
  seq: seq & 0xffff,
  timestamp: 0,
  marker: false,
  payload: Buffer.from([1]),
});

function reorder(maxDelayMs = 100) {
  let now = 1000;
  const out: number[] = [];
  const buf = new ReorderBuffer({
    deliver: (p) => out.push(p.seq),
    maxDelayMs,
    maxPackets: 8,
    now: () => now,
  });
  return { buf, out, advance: (ms: number) => (now += ms) };
}

describe('ReorderBuffer', () => {
  it('puts a retransmitted packet back in order across the 16-bit wrap', () => {
    const { buf, out } = reorder();
    for (const s of [65_533, 65_534, 0, 1, 65_535, 2]) buf.push(pkt(s));
    expect(out).toEqual([65_533, 65_534, 65_535, 0, 1, 2]);
    expect(buf.reordered).toBe(1);
    expect(buf.held).toBe(0);
  });

  it('gives a hole up after maxDelayMs, so the assembler sees the gap', () => {
    const { buf, out, advance } = reorder(100);
    buf.push(pkt(10));
    buf.push(pkt(12));
    buf.push(pkt(13));
    expect(out).toEqual([10]);
    advance(99);
    buf.flush();
    expect(out).toEqual([10]);
    advance(1);
    buf.flush();
    expect(out).toEqual([10, 12, 13]);
    expect(buf.skippedHoles).toBe(1);
    buf.push(pkt(11)); // too late: handed on for the assembler to count as late
    expect(out).toEqual([10, 12, 13, 11]);
  });

  it('gives a hole up at once when it holds more than maxPackets', () => {
    const { buf, out } = reorder(10_000);
    buf.push(pkt(1));
    for (let s = 3; s <= 11; s++) buf.push(pkt(s));
    expect(out).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe('KeyframeRequester', () => {
  it('holds requests until the transport is connected, then rate-limits them', () => {
    let now = 0;
    let sent = 0;
    const r = new KeyframeRequester({
      send: () => sent++,
      minIntervalMs: 500,
      now: () => now,
    });
    r.request();
    r.request();
    expect(sent).toBe(0); // a PLI before DTLS is up would be lost
    r.setReady(true);
    expect(sent).toBe(1);
    for (let i = 0; i < 10; i++) {
      now += 33;
      r.request();
    }
    expect(sent).toBe(1);
    expect(r.suppressed).toBe(10);
    now = 500;
    r.request();
    expect(sent).toBe(2);
  });

  it('does not send on ready when nothing was asked', () => {
    let sent = 0;
    const r = new KeyframeRequester({ send: () => sent++ });
    r.setReady(true);
    expect(sent).toBe(0);
  });
});

describe('VP8 descriptor', () => {
  it('rejects payloads shorter than the fields their bits announce', () => {
    expect(parseVp8Descriptor(Buffer.from([]))).toBeUndefined();
    expect(parseVp8Descriptor(Buffer.from([0x90]))).toBeUndefined(); // X set, no extension byte
    expect(parseVp8Descriptor(Buffer.from([0x90, 0x80]))).toBeUndefined(); // I set, no picture id
    expect(parseVp8Descriptor(Buffer.from([0x90, 0x80, 0x81]))).toBeUndefined(); // M set, 1 of 2 bytes
    expect(parseVp8Descriptor(Buffer.from([0x90, 0x60, 0x01]))).toBeUndefined(); // L and T: 2 bytes needed
  });

  it('strips exactly the announced bytes (L without T, T without L)', () => {
    expect(parseVp8Descriptor(Buffer.from([0x90, 0x40, 0x05, 0xaa]))).toMatchObject({ headerLength: 3, start: true });
    expect(parseVp8Descriptor(Buffer.from([0x80, 0x20, 0x40, 0xaa]))).toMatchObject({ headerLength: 3, start: false });
    expect(parseVp8Descriptor(Buffer.from([0x90, 0xe0, 0x81, 0x02, 0x07, 0x40, 0xaa]))).toMatchObject({
      headerLength: 6,
      pictureId: 0x102,
    });
  });
});

describe('IvfWriter', () => {
  it('writes the header and 90 kHz pts that survive the 32-bit RTP timestamp wrap', () => {
    const w = new IvfWriter();
    const h = w.header(640, 480);
    expect(h.subarray(0, 4).toString()).toBe('DKIF');
    expect(h.subarray(8, 12).toString()).toBe('VP80');
    expect([h.readUInt16LE(12), h.readUInt16LE(14), h.readUInt32LE(16)]).toEqual([640, 480, 90_000]);
    const a = w.frame(Buffer.from([1, 2, 3]), 0xffff_f000);
    const b = w.frame(Buffer.from([4]), 0x0000_0b80);
    expect(a.readUInt32LE(0)).toBe(3);
    expect(a.readBigUInt64LE(4)).toBe(0n);
    expect(b.readBigUInt64LE(4)).toBe(BigInt(0x1000 + 0xb80));
    expect([...b.subarray(12)]).toEqual([4]);
  });
});
