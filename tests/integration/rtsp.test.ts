import { execFileSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceState } from '../../src/core/source.js';
import { FileSource } from '../../src/media/FileSource.js';
import { RtspSource, type RtspSourceOptions } from '../../src/media/RtspSource.js';
import { childProcesses } from '../fixtures/childProcesses.js';
import { freePort, type RtspTestServer, startRtspServer } from '../fixtures/rtspServer.js';

const VIDEO = resolve(__dirname, '../../../shared/data/video/fr_short_hamilton_clip.mp4');
const USER = 'viewer';
const PASSWORD = 'secret';
const FAST = { stallTimeoutMs: 2500, socketTimeoutMs: 2000, backoff: { initialMs: 200, maxMs: 800 } };

let server: RtspTestServer;
let port: number;

beforeAll(async () => {
  execFileSync('bash', [resolve(__dirname, '../../scripts/ensure-system-deps.sh')], { stdio: 'inherit' });
  port = await freePort();
  server = await startRtspServer(port, { user: USER, password: PASSWORD });
});

afterAll(async () => {
  await server?.stop();
});

/** Everything a source exposes: state events, errors, log lines (pino into a buffer). */
function watch(opts: RtspSourceOptions) {
  const logs: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  );
  const source = new RtspSource({ ...FAST, ...opts, logger });
  const states: { state: SourceState; reason: string; at: number }[] = [];
  const errors: Error[] = [];
  source.on('state', (state, reason) => states.push({ state, reason, at: Date.now() }));
  source.on('error', (e) => errors.push(e));
  const everything = () =>
    [
      ...logs,
      ...states.map((s) => s.reason),
      ...errors.map((e) => `${e.message} ${String(e.cause)}`),
      source.url,
      source.id,
    ].join('\n');
  return { source, states, errors, logs, everything };
}

function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolveWait, reject) => {
    const t0 = Date.now();
    const timer = setInterval(() => {
      if (check()) {
        clearInterval(timer);
        resolveWait();
      } else if (Date.now() - t0 > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }
    }, 20);
  });
}

/** Frames taken over `ms` (taking each as it arrives, as a consumer would). */
async function framesOver(source: RtspSource, ms: number) {
  const frames: { width: number; height: number; bytes: number; seq: number; ts: number }[] = [];
  const onFrame = () => {
    const f = source.takeFrame();
    if (f) frames.push({ width: f.width, height: f.height, bytes: f.data.byteLength, seq: f.seq, ts: f.ts });
  };
  source.on('frame', onFrame);
  await new Promise((r) => setTimeout(r, ms));
  source.off('frame', onFrame);
  return frames;
}

const url = (path: string, p = port, password = PASSWORD) => `rtsp://${USER}:${password}@127.0.0.1:${p}${path}`;

describe('RtspSource against a real RTSP server (GStreamer)', () => {
  it('delivers H264 frames at the default size and the served rate; secrets never leak', async () => {
    const w = watch({ url: url('/h264') });
    expect(w.source.url).toBe(`rtsp://***@127.0.0.1:${port}/h264`);
    const t0 = Date.now();
    w.source.start();
    await waitFor(() => w.source.state === 'live', 10_000, 'live');
    const firstFrameMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
    const frames = await framesOver(w.source, 2000);
    // served at 30 fps: at least 80% over 2 s
    expect(frames.length).toBeGreaterThanOrEqual(48);
    expect(frames.length).toBeLessThanOrEqual(66);
    for (const f of frames) expect([f.width, f.height, f.bytes]).toEqual([640, 480, 640 * 480 * 3]);
    for (let i = 1; i < frames.length; i++) expect(frames[i]?.seq).toBeGreaterThan(frames[i - 1]?.seq ?? 0);
    expect(w.states.map((s) => s.state)).toEqual(['starting', 'live']);
    console.log(`RTSP H264: first frame after ${firstFrameMs} ms, ${frames.length / 2} fps`);
    await w.source.close();
    expect(w.states.at(-1)?.state).toBe('closed');
    expect(w.logs.length).toBeGreaterThan(0);
    expect(w.everything()).not.toContain(PASSWORD);
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('delivers VP8 frames at an explicit size', async () => {
    const w = watch({ url: url('/vp8'), width: 320, height: 240 });
    w.source.start();
    await waitFor(() => w.source.state === 'live', 10_000, 'live');
    await new Promise((r) => setTimeout(r, 500));
    const frames = await framesOver(w.source, 2000);
    expect(frames.length).toBeGreaterThanOrEqual(48);
    for (const f of frames) expect([f.width, f.height, f.bytes]).toEqual([320, 240, 320 * 240 * 3]);
    await w.source.close();
    expect(w.everything()).not.toContain(PASSWORD);
  });

  it('reports a wrong path, a wrong password and a refused port as stalled/reconnecting with a reason', async () => {
    const refusedPort = await freePort();
    const cases = [
      { w: watch({ url: url('/no-such-stream') }), reason: /404 Not Found/ },
      { w: watch({ url: url('/h264', port, 'not-the-secret') }), reason: /401 Unauthorized/ },
      { w: watch({ url: url('/h264', refusedPort) }), reason: /Connection refused/ },
    ];
    for (const { w } of cases) w.source.start();
    await waitFor(
      () => cases.every(({ w }) => w.states.filter((s) => s.state === 'reconnecting').length >= 2),
      10_000,
      'retries',
    );
    for (const { w, reason } of cases) {
      const stalled = w.states.filter((s) => s.state === 'stalled');
      expect(stalled[0]?.reason).toMatch(reason);
      expect(w.states.some((s) => s.state === 'live')).toBe(false);
      expect(w.source.stats.received).toBe(0);
      // backoff: the second retry waits twice as long as the first
      const retries = w.states.filter((s) => s.state === 'reconnecting').map((s) => s.reason);
      expect(retries.slice(0, 2)).toEqual(['attempt 1 in 200 ms', 'attempt 2 in 400 ms']);
      expect(w.everything()).not.toContain(PASSWORD);
      expect(w.everything()).not.toContain('not-the-secret');
    }
    await Promise.all(cases.map(({ w }) => w.source.close()));
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('restarts a camera that accepts but never answers (watchdog) or sends garbage', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s)); // accepts, never answers
    const garbage = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.end(Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n'.repeat(2) + '\x00\xff'.repeat(500), 'latin1'));
    });
    const listen = (srv: typeof silent) =>
      new Promise<number>((ok) => srv.listen(0, '127.0.0.1', () => ok((srv.address() as { port: number }).port)));
    const [silentPort, garbagePort] = [await listen(silent), await listen(garbage)];
    const hung = watch({ url: url('/cam', silentPort), stallTimeoutMs: 800, socketTimeoutMs: 10_000 });
    const junk = watch({ url: url('/cam', garbagePort) });
    try {
      hung.source.start();
      junk.source.start();
      await waitFor(
        () => [hung, junk].every((w) => w.states.filter((s) => s.state === 'reconnecting').length >= 2),
        10_000,
        'retries',
      );
      expect(hung.states.find((s) => s.state === 'stalled')?.reason).toMatch(/^no first frame for \d+ ms$/);
      expect(junk.states.find((s) => s.state === 'stalled')?.reason).toMatch(/ffmpeg exited with code/);
      for (const w of [hung, junk]) {
        expect(w.source.stats.received).toBe(0);
        expect(w.everything()).not.toContain(PASSWORD);
      }
    } finally {
      await Promise.all([hung.source.close(), junk.source.close()]);
      for (const s of sockets) s.destroy();
      silent.close();
      garbage.close();
    }
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('reports a camera that accepts and then says nothing as a timeout, not as invalid data (issue 15, 7)', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    const silentPort = await new Promise<number>((ok) =>
      silent.listen(0, '127.0.0.1', () => ok((silent.address() as { port: number }).port)),
    );
    // No credentials: ffmpeg's own socket timeout applies (with them, the 4.x build has none: the watchdog is it).
    const w = watch({ url: `rtsp://127.0.0.1:${silentPort}/cam`, socketTimeoutMs: 1000, stallTimeoutMs: 30_000 });
    try {
      w.source.start();
      await waitFor(() => w.states.some((s) => s.state === 'stalled'), 10_000, 'stalled');
      const reason = w.states.find((s) => s.state === 'stalled')?.reason ?? '';
      expect(reason).toMatch(/timed out: no answer within 1000 ms \[SOURCE_UNREACHABLE\]/);
      expect(reason).not.toMatch(/Invalid data/);
    } finally {
      await w.source.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('goes stalled/reconnecting when the server dies and live again when it is back, same RtspSource', async () => {
    const ownPort = await freePort();
    let own = await startRtspServer(ownPort, { user: USER, password: PASSWORD });
    const w = watch({ url: url('/h264', ownPort), resetAfterMs: 700 });
    try {
      w.source.start();
      await waitFor(() => w.source.state === 'live', 10_000, 'live');
      await framesOver(w.source, 300);
      await own.stop();
      const killedAt = Date.now();
      await waitFor(() => w.states.some((s) => s.state === 'reconnecting' && s.at >= killedAt), 8000, 'reconnecting');
      const stalled = w.states.find((s) => s.state === 'stalled' && s.at >= killedAt);
      expect(stalled?.reason).toBeTruthy();
      const seqBefore = w.source.stats.received;
      // stay down long enough for failed retries (connection refused) before the camera comes back
      await waitFor(
        () => w.states.filter((s) => s.state === 'reconnecting' && s.at >= killedAt).length >= 2,
        5000,
        'a failed retry',
      );
      own = await startRtspServer(ownPort, { user: USER, password: PASSWORD });
      const restartedAt = Date.now();
      await waitFor(() => w.states.some((s) => s.state === 'live' && s.at >= restartedAt), 10_000, 'live again');
      const frames = await framesOver(w.source, 1000);
      expect(frames.length).toBeGreaterThanOrEqual(20);
      expect(frames[0]?.seq).toBeGreaterThanOrEqual(seqBefore);
      expect(frames[0]?.height).toBe(480);
      console.log(
        `RTSP reconnect: ${w.states.map((s) => `${s.state}(${s.reason})`).join(' -> ')}; live again ${
          (w.states.findLast((s) => s.state === 'live')?.at ?? 0) - restartedAt
        } ms after the server was back`,
      );
      // live for longer than resetAfterMs: the next outage starts the backoff from the beginning again
      await own.stop();
      const secondKill = Date.now();
      await waitFor(() => w.states.some((s) => s.state === 'reconnecting' && s.at >= secondKill), 8000, 'reconnecting');
      expect(w.states.find((s) => s.state === 'reconnecting' && s.at >= secondKill)?.reason).toBe(
        'attempt 1 in 200 ms',
      );
      expect(w.everything()).not.toContain(PASSWORD);
    } finally {
      await w.source.close();
      await own.stop();
    }
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('a failing RTSP source does not disturb a FileSource beside it', async () => {
    const failing = watch({ url: url('/h264', await freePort()) });
    const file = new FileSource({ path: VIDEO, pace: 'realtime', loop: true });
    let fileFrames = 0;
    file.on('frame', () => {
      if (file.takeFrame()) fileFrames++;
    });
    failing.source.start();
    await file.start();
    await new Promise((r) => setTimeout(r, 1200));
    const before = fileFrames;
    await new Promise((r) => setTimeout(r, 1500));
    expect(failing.states.filter((s) => s.state === 'reconnecting').length).toBeGreaterThanOrEqual(2);
    expect(fileFrames - before).toBeGreaterThanOrEqual(36); // ~30 fps for 1.5 s
    expect(file.state).toBe('live');
    await Promise.all([failing.source.close(), file.close(), failing.source.close()]);
    expect(childProcesses('ffmpeg')).toEqual([]);
    expect(() => failing.source.takeFrame()).toThrow(/closed/);
  });
});
