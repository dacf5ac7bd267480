import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/core/types.js';
import type { WebRtcSource } from '../../src/media/WebRtcSource.js';
import {
  ffmpegChildren,
  type Harness,
  launchChromium,
  makeY4m,
  pictureError,
  referenceThumbs,
  startHarness,
  thumb,
} from './webrtcHarness.js';

/**
 * When a decoded frame counts as "the right picture" (mean absolute difference, 0-255, on 8x8 block averages, against
 * the best-matching frame of the camera file). Measured on this machine (docs/webrtc.md): good frames have a
 * whole-frame MAD of 1.1-1.6 and a worst 64x64-tile MAD of 1.9-4.0 (VP8 and H264); the same frames with one 64x64
 * block of garbage have a worst-tile MAD of 20.4-59.9 (their whole-frame MAD, 2.0-3.5, barely moves: hence the tiles).
 */
const MAD_BOUND = 4;
const TILE_BOUND = 12;

interface SendStats {
  framesSent: number;
  frameWidth: number;
  frameHeight: number;
  pliCount: number;
  keyFramesEncoded: number;
  mimeType: string;
  now: number;
}

let dir: string;
let y4m: string;
let refs: Uint8Array[];
let harness: Harness;
let browser: Browser;
let dropping = false;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'e2e-webrtc-'));
  y4m = makeY4m(dir, 6);
  refs = referenceThumbs(y4m, 640, 360);
  harness = await startHarness({ packetFilter: () => !dropping });
  browser = await launchChromium(y4m);
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const sendStats = (page: Page) =>
  page.evaluate(() => (window as unknown as { sendStats(): Promise<SendStats> }).sendStats());

/** Collects frames from the source: every frame counted, every `every`-th kept. */
function collect(source: WebRtcSource, every: number) {
  const kept: Frame[] = [];
  let count = 0;
  const listener = () => {
    const f = source.takeFrame();
    if (!f) return;
    if (count++ % every === 0) kept.push(f);
  };
  source.on('frame', listener);
  return {
    kept,
    count: () => count,
    stop: () => source.off('frame', listener),
  };
}

/** A copy of the frame with a 64x64 block of decoder-like garbage (what a lost packet looks like when not handled). */
function corrupt(f: Frame): Uint8Array {
  const data = Uint8Array.from(f.data);
  for (let y = 150; y < 214; y++) {
    for (let x = 300; x < 364; x++) {
      const i = (y * f.width + x) * 3;
      data[i] = (x * 7) & 0xff;
      data[i + 1] = 128;
      data[i + 2] = (y * 13) & 0xff;
    }
  }
  return data;
}

describe.each(['vp8', 'h264'] as const)('WebRTC ingest from a real Chromium, %s', (codec) => {
  it('decodes the webcam at its resolution and rate, with the right picture; recovers from loss; closes clean', async () => {
    const page = await browser.newPage();
    try {
      const next = harness.nextSource();
      await page.goto(`${harness.url}/publish.html?codec=${codec}`);
      const source = await next;
      await until('first frame', () => source.state === 'live', 15_000);
      const pub = await page.evaluate(() => (window as unknown as { __pub: Record<string, unknown> }).__pub);
      const firstFrameMs = (source.stats.firstFrameAt ?? 0) - Number(pub.wsOpenAt);
      const settings = pub.trackSettings as { width: number; height: number };
      expect(settings).toMatchObject({ width: 640, height: 360 });
      expect(source.stats.codec).toBe(codec);

      // 10 s of frames against what Chromium says it sent.
      await sleep(1000);
      const s0 = await sendStats(page);
      const c = collect(source, 15);
      await sleep(10_000);
      const s1 = await sendStats(page);
      c.stop();
      const seconds = (s1.now - s0.now) / 1000;
      const sentFps = (s1.framesSent - s0.framesSent) / seconds;
      const decodedFps = c.count() / seconds;
      expect(s1.mimeType.toLowerCase()).toBe(`video/${codec}`);
      expect(sentFps).toBeGreaterThan(20); // the camera really runs (30 fps nominal)
      expect(decodedFps).toBeGreaterThanOrEqual(0.8 * sentFps);
      expect([s1.frameWidth, s1.frameHeight]).toEqual([settings.width, settings.height]);
      for (const f of c.kept) expect([f.width, f.height]).toEqual([settings.width, settings.height]);

      // The picture is right: every sampled frame matches a frame of the camera file.
      const errs = c.kept.map((f) => pictureError(thumb(f.data, f.width, f.height), refs, f.width / 8));
      expect(errs.length).toBeGreaterThanOrEqual(15);
      // ... and the check can fail: the same frames with a block of garbage do not pass.
      const corrupted = c.kept.map((f) => pictureError(thumb(corrupt(f), f.width, f.height), refs, f.width / 8));
      const mads = errs.map((e) => e.mad);
      expect(Math.max(...mads)).toBeLessThan(MAD_BOUND);
      expect(Math.max(...errs.map((e) => e.worstTile))).toBeLessThan(TILE_BOUND);
      expect(Math.min(...corrupted.map((e) => e.worstTile))).toBeGreaterThan(TILE_BOUND);
      const corruptMads = corrupted.map((e) => e.mad);

      // Packet loss between werift and the assembler: a gap, a PLI, a keyframe, then frames again.
      const before = {
        ...source.stats,
        assembler: { ...source.stats.assembler },
      };
      const chromeBefore = await sendStats(page);
      dropping = true;
      await sleep(300);
      dropping = false;
      const lossEnd = Date.now();
      await until(
        'a keyframe after the loss',
        () => (source.stats.assembler?.keyframes ?? 0) > (before.assembler.keyframes ?? 0),
        5000,
      );
      const recoveryMs = Date.now() - lossEnd;
      const after = collect(source, 10);
      await sleep(2000);
      after.stop();
      const chromeAfter = await sendStats(page);
      const stats = source.stats;
      expect(stats.injectedDrops).toBeGreaterThan(before.injectedDrops);
      expect(stats.assembler?.gaps).toBeGreaterThan(before.assembler.gaps ?? 0);
      expect(stats.pliSent).toBeGreaterThan(before.pliSent);
      expect(chromeAfter.pliCount).toBeGreaterThan(chromeBefore.pliCount); // the PLI reached Chromium
      expect(chromeAfter.keyFramesEncoded).toBeGreaterThan(chromeBefore.keyFramesEncoded);
      expect(after.count()).toBeGreaterThan(2 * 30 * 0.8);
      const recovered = after.kept.map((f) => pictureError(thumb(f.data, f.width, f.height), refs, f.width / 8));
      expect(Math.max(...recovered.map((e) => e.mad))).toBeLessThan(MAD_BOUND);
      expect(Math.max(...recovered.map((e) => e.worstTile))).toBeLessThan(TILE_BOUND);

      // Closing the WebSocket ends the session: the source is closed and no ffmpeg is left.
      const pid = source.stats.ffmpegPid;
      expect(pid).toBeDefined();
      expect(ffmpegChildren()).toContain(pid);
      await page.evaluate(() => (window as unknown as { closeSocket(): void }).closeSocket());
      await until('source closed', () => source.closed && source.state === 'closed', 5000);
      await until('ffmpeg gone', () => !ffmpegChildren().includes(pid ?? -1), 5000);
      expect(source.connectionState).toBe('closed');
      expect(harness.signaling.sessionCount).toBe(0);
      console.log(
        JSON.stringify({
          codec,
          firstFrameMs,
          sentFps: +sentFps.toFixed(1),
          decodedFps: +decodedFps.toFixed(1),
          mad: {
            max: +Math.max(...mads).toFixed(2),
            mean: +(mads.reduce((a, b) => a + b, 0) / mads.length).toFixed(2),
          },
          worstTile: +Math.max(...errs.map((e) => e.worstTile)).toFixed(1),
          corruptMadMin: +Math.min(...corruptMads).toFixed(2),
          corruptTileMin: +Math.min(...corrupted.map((e) => e.worstTile)).toFixed(1),
          recoveryMs,
          pliSent: stats.pliSent,
          assembler: stats.assembler,
        }),
      );
    } finally {
      await page.close();
    }
  });
});
