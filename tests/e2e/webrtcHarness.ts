/**
 * The real-peer harness of the WebRTC tests: a Y4M fake camera made at test time from the shared video, an HTTP
 * server on 127.0.0.1 serving the publish page with the SignalingServer attached (wired to WebRtcSource the way the
 * app does it), and Debian's headless Chromium through playwright-core.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { resolveFfmpegPath } from '../../src/media/ffmpegPath.js';
import { WebRtcSource, type WebRtcSourceOptions } from '../../src/media/WebRtcSource.js';
import { signalSessionOf } from '../../src/server/webrtcSession.js';
import { SignalingServer, type SignalSession } from '../../src/signaling/SignalingServer.js';

export const VIDEO = join(import.meta.dirname, '../../../shared/data/video/fr_short_hamilton_clip.mp4');
const PAGE = readFileSync(join(import.meta.dirname, '../fixtures/webrtc/publish.html'));

/** Writes `seconds` of the shared clip as a Y4M (the fake camera's file) and returns its path. */
export function makeY4m(dir: string, seconds: number, startSeconds = 2): string {
  const out = join(dir, 'camera.y4m');
  execFileSync(resolveFfmpegPath(), [
    ...['-hide_banner', '-loglevel', 'error', '-ss', String(startSeconds), '-i', VIDEO, '-t', String(seconds)],
    ...['-an', '-pix_fmt', 'yuv420p', '-r', '30', '-f', 'yuv4mpegpipe', '-y', out],
  ]);
  return out;
}

/** The Y4M's frames as RGB, block-averaged to (w/8)x(h/8): the reference pictures. */
export function referenceThumbs(y4m: string, width: number, height: number): Uint8Array[] {
  const tw = width / 8;
  const th = height / 8;
  const raw = execFileSync(
    resolveFfmpegPath(),
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      y4m,
      '-vf',
      `scale=${tw}:${th}:flags=area`,
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
      'pipe:1',
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const size = tw * th * 3;
  const out: Uint8Array[] = [];
  for (let off = 0; off + size <= raw.length; off += size) out.push(raw.subarray(off, off + size));
  return out;
}

/** Block-average an RGB frame by 8 in each direction. */
export function thumb(data: Uint8Array, width: number, height: number): Uint8Array {
  const tw = width / 8;
  const th = height / 8;
  const out = new Uint8Array(tw * th * 3);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let y = 0; y < 8; y++) {
          const row = ((ty * 8 + y) * width + tx * 8) * 3 + c;
          for (let x = 0; x < 8; x++) sum += data[row + x * 3] ?? 0;
        }
        out[(ty * tw + tx) * 3 + c] = Math.round(sum / 64);
      }
    }
  }
  return out;
}

export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

/** Smallest MAD of a thumbnail against all reference thumbnails (the camera file loops, so any frame may match). */
export function bestMatch(t: Uint8Array, refs: readonly Uint8Array[]): { index: number; mad: number } {
  let best = { index: -1, mad: Number.POSITIVE_INFINITY };
  refs.forEach((r, index) => {
    const mad = meanAbsDiff(t, r);
    if (mad < best.mad) best = { index, mad };
  });
  return best;
}

/**
 * How far a decoded frame is from the camera file: the best-matching reference frame by mean absolute difference
 * (`mad`), and against it the largest MAD over 8x8-thumbnail tiles (64x64 pixels) (`worstTile`), which catches
 * local corruption that a whole-frame mean dilutes.
 */
export function pictureError(
  t: Uint8Array,
  refs: readonly Uint8Array[],
  thumbWidth: number,
): { index: number; mad: number; worstTile: number } {
  const best = bestMatch(t, refs);
  const ref = refs[best.index];
  if (!ref) return { ...best, worstTile: Number.POSITIVE_INFINITY };
  const th = t.length / 3 / thumbWidth;
  let worstTile = 0;
  for (let ty = 0; ty < th; ty += 8) {
    for (let tx = 0; tx < thumbWidth; tx += 8) {
      let sum = 0;
      let n = 0;
      for (let y = ty; y < Math.min(th, ty + 8); y++) {
        for (let x = tx; x < Math.min(thumbWidth, tx + 8); x++) {
          for (let c = 0; c < 3; c++) {
            const i = (y * thumbWidth + x) * 3 + c;
            sum += Math.abs((t[i] ?? 0) - (ref[i] ?? 0));
            n++;
          }
        }
      }
      worstTile = Math.max(worstTile, sum / n);
    }
  }
  return { ...best, worstTile };
}

export interface Harness {
  url: string;
  server: Server;
  signaling: SignalingServer;
  sources: Map<string, WebRtcSource>;
  /** Resolves with the next source created. */
  nextSource(): Promise<WebRtcSource>;
  close(): Promise<void>;
}

/** Starts the HTTP server + SignalingServer; `sourceOptions` are given to every WebRtcSource. */
export async function startHarness(
  sourceOptions: Partial<Omit<WebRtcSourceOptions, 'id' | 'offerSdp'>> = {},
): Promise<Harness> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/publish.html')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  const sources = new Map<string, WebRtcSource>();
  const waiters: ((s: WebRtcSource) => void)[] = [];
  let n = 0;
  const signaling = new SignalingServer({
    createSession: async (req): Promise<SignalSession> => {
      const source = await WebRtcSource.create({
        ...sourceOptions,
        id: `webrtc-${++n}`,
        offerSdp: req.sdp,
        name: req.name,
      });
      sources.set(source.id, source);
      for (const w of waiters.splice(0)) w(source);
      return signalSessionOf(source);
    },
  });
  signaling.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    signaling,
    sources,
    nextSource: () => new Promise((resolve) => waiters.push(resolve)),
    close: async () => {
      await signaling.close();
      await Promise.all([...sources.values()].map((s) => s.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

export async function launchChromium(y4m: string): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, `--use-file-for-fake-video-capture=${y4m}`],
  });
}

/** PIDs of this process's child processes named ffmpeg (from the process table). */
export function ffmpegChildren(): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there is no child
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm === 'ffmpeg')
    .map(([pid]) => Number(pid));
}
