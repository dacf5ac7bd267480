/**
 * WebRtcSource against a real werift publisher on this machine (real ICE, DTLS, SRTP; no browser): the packets are
 * built by the test from real VP8 frames, with Chrome's empty padding packets mixed in, so every step after werift
 * (padding, assembly, IVF, ffmpeg, PLI on loss, lifecycle) is checked against known input.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection, type RTCRtpSender, RtpHeader, RtpPacket } from 'werift';
import { InvalidStateError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/types.js';
import { resolveFfmpegPath } from '../../src/media/ffmpegPath.js';
import { IvfWriter } from '../../src/media/rtp/IvfWriter.js';
import type { RtpPacketIn } from '../../src/media/rtp/rtpPacket.js';
import { WebRtcSource, type WebRtcSourceOptions } from '../../src/media/WebRtcSource.js';
import { ffmpegChildren } from '../e2e/webrtcHarness.js';
import { type EncodedFrame, encodeVp8, Packetizer } from '../unit/media/rtpFixtures.js';

const FRAMES = 60;
const GOP = 10;
let vp8: EncodedFrame[];
let reference: Buffer[];
let dir: string;

beforeAll(() => {
  vp8 = encodeVp8(FRAMES, GOP);
  dir = mkdtempSync(join(tmpdir(), 'webrtc-src-'));
  // What ffmpeg makes of the same frames at the source's output size: the expected pictures.
  const ivf = new IvfWriter();
  const file = join(dir, 'ref.ivf');
  writeFileSync(file, Buffer.concat([ivf.header(320, 180), ...vp8.map((f, i) => ivf.frame(f.data, i * 3000))]));
  const raw = execFileSync(
    resolveFfmpegPath(),
    [
      ...['-hide_banner', '-v', 'error', '-i', file, '-vf', 'scale=640:360'],
      ...['-vsync', 'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'],
    ],
    { maxBuffer: 128 * 1024 * 1024 },
  );
  const size = 640 * 360 * 3;
  reference = [];
  for (let o = 0; o + size <= raw.length; o += size) reference.push(raw.subarray(o, o + size));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function mad(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return s / a.length;
}

/** A werift publisher with one sendonly video track, and a WebRtcSource answering it. */
async function connectPair(extra: Partial<WebRtcSourceOptions> = {}, answer = true) {
  const pub = new RTCPeerConnection({ iceServers: [] });
  const transceiver = pub.addTransceiver('video', { direction: 'sendonly' });
  await pub.setLocalDescription(await pub.createOffer());
  if (pub.iceGatheringState !== 'complete') await pub.iceGatheringStateChange.watch((s) => s === 'complete', 5000);
  const source = await WebRtcSource.create({
    id: 'w1',
    offerSdp: pub.localDescription?.sdp ?? '',
    ...extra,
  });
  if (answer) await pub.setRemoteDescription({ type: 'answer', sdp: source.answerSdp });
  return { pub, sender: transceiver.sender, source };
}

function send(sender: RTCRtpSender, p: RtpPacketIn): void {
  const header = new RtpHeader({
    sequenceNumber: p.seq,
    timestamp: p.timestamp,
    marker: p.marker,
    payloadType: 96,
  });
  void sender.sendRtp(new RtpPacket(header, p.payload));
}

/** Sends the fixture at 30 fps: padding before each frame and after its first packet, like Chrome does. */
async function publish(sender: RTCRtpSender): Promise<void> {
  const pz = new Packetizer(1000, 400);
  for (const [i, f] of vp8.entries()) {
    const ts = 3000 * (i + 1);
    send(sender, pz.padding(ts - 3000));
    const pkts = pz.vp8(f.data, ts, { pictureId: 15, l: true, t: true }, i);
    for (const [k, p] of pkts.entries()) {
      send(sender, p);
      if (k === 0) send(sender, pz.padding(ts));
    }
    await sleep(33);
  }
}

function collect(source: WebRtcSource): Frame[] {
  const frames: Frame[] = [];
  source.on('frame', () => {
    const f = source.takeFrame();
    if (f) frames.push(f);
  });
  return frames;
}

describe('WebRtcSource with a werift publisher', () => {
  it('decodes every frame, padding and all, to the right picture at 640 wide, then closes clean', async () => {
    const { pub, sender, source } = await connectPair();
    const states: string[] = [];
    source.on('state', (s) => states.push(s));
    try {
      await until(() => source.stats.connectedAt !== undefined, 10_000, 'DTLS');
      await until(() => sender.dtlsTransport.state === 'connected', 10_000, 'sender DTLS');
      const frames = collect(source);
      await publish(sender);
      await until(() => frames.length >= FRAMES, 5000, 'all frames');
      expect(frames).toHaveLength(FRAMES);
      expect(source.stats.assembler).toMatchObject({
        gaps: 0,
        droppedFrames: 0,
        malformed: 0,
        frames: FRAMES,
      });
      expect(source.stats.assembler?.padding).toBeGreaterThanOrEqual(2 * FRAMES - 1);
      expect(source.frameSize).toEqual({ width: 640, height: 360 });
      const mads = frames.map((f, i) => mad(f.data, reference[i] ?? Buffer.alloc(0)));
      expect(Math.max(...mads)).toBeLessThan(1);
      // timestamps follow the 90 kHz RTP clock (33.3 ms apart), seq counts from 0
      expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
      const span = (frames.at(-1)?.ts ?? 0) - (frames[0]?.ts ?? 0);
      expect(span).toBeGreaterThan(((FRAMES - 1) * 1000) / 30 - 5);
      expect(span).toBeLessThan(((FRAMES - 1) * 1000) / 30 + 100);
      expect(states).toEqual(['live']);
    } finally {
      const pid = source.stats.ffmpegPid;
      const closing = source.close();
      expect(source.close()).toBe(closing); // idempotent
      await closing;
      await pub.close();
      expect(source.state).toBe('closed');
      expect(source.connectionState).toBe('closed');
      expect(() => source.takeFrame()).toThrow(InvalidStateError);
      await until(() => !ffmpegChildren().includes(pid ?? -1), 5000, 'ffmpeg gone');
    }
  });

  it('after injected loss drops frames until a keyframe, and the publisher gets a PLI', async () => {
    let n = 0;
    let target = -1;
    const { pub, sender, source } = await connectPair({
      // drop the first non-padding packet of the 16th frame
      packetFilter: (p) => {
        if (p.payload.length === 0) return true;
        if (n === 15 && target < 0) target = p.seq;
        if (p.marker) n++;
        return p.seq !== target;
      },
    });
    let plis = 0;
    sender.onPictureLossIndication.subscribe(() => plis++);
    try {
      await until(() => sender.dtlsTransport.state === 'connected', 10_000, 'sender DTLS');
      await until(() => source.stats.connectedAt !== undefined, 10_000, 'DTLS');
      const frames = collect(source);
      await publish(sender);
      await sleep(500);
      // frames 15-19 are lost (15 cut, 16-19 depend on it); 20 is a keyframe
      expect(frames).toHaveLength(FRAMES - 5);
      expect(source.stats.injectedDrops).toBe(1);
      expect(source.stats.assembler).toMatchObject({ gaps: 1, lostPackets: 1, keyframes: 6 });
      expect(source.stats.pliSent).toBeGreaterThanOrEqual(1);
      expect(plis).toBe(source.stats.pliSent);
      const after = frames.slice(15);
      const mads = after.map((f, i) => mad(f.data, reference[20 + i] ?? Buffer.alloc(0)));
      expect(Math.max(...mads)).toBeLessThan(1);
    } finally {
      await source.close();
      await pub.close();
    }
  });

  it('fails with WEBRTC_CONNECT_TIMEOUT when the peer never connects, and closes', async () => {
    const { pub, source } = await connectPair({ connectTimeoutMs: 400 }, false);
    const errors: string[] = [];
    source.on('error', (e) => errors.push((e as { code?: string }).code ?? ''));
    try {
      expect(source.state).toBe('starting');
      await until(() => source.closed, 3000, 'close');
      expect(errors).toEqual(['WEBRTC_CONNECT_TIMEOUT']);
      expect(source.state).toBe('closed');
      expect(source.stats.ffmpegPid).toBeUndefined();
    } finally {
      await pub.close();
    }
  });
});
