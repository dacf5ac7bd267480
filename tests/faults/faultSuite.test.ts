/**
 * The fault suite of issue 15 (docs/reliability.md): faults injected into one running server (in-process: real
 * sockets, real ffmpeg, real worker threads, GStreamer RTSP cameras), each with what must hold, descriptors and RSS
 * before and after, and the time to recover. Bounded for the test suite; FAULT_SCALE=10 (npm run soak:faults)
 * multiplies inputs and durations. Figures go to stdout (`FAULT {...}`) and FAULT_REPORT.
 *
 * The probes of the issue (long and odd URLs, odd upgrade paths and Host headers, huge images, malformed escapes,
 * passwords in ps/logs/answers/events/metrics) are regression tests of their own: hardening.test.ts and
 * secrets.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import WebSocket from 'ws';
import { ERROR_CATALOGUE, type ErrorCode, isErrorCode } from '../../src/core/errors.js';
import { SIGNAL_ERROR_CODES } from '../../src/core/signalProtocol.js';
import { childProcesses } from '../fixtures/childProcesses.js';
import { freePort, type RtspTestServer, startRtspServer } from '../fixtures/rtspServer.js';
import { startServer, subscribe } from '../helpers/serverHarness.js';
import { SHARED_DATA, sharedPath } from '../helpers/sharedData.js';
import { record, SCALE, snapshot, until } from './faultReport.js';
import { eventsQuery, httpRequest, rng, signalMessage } from './fuzzInputs.js';
import { rawExchange } from './rawHttp.js';

type Started = Awaited<ReturnType<typeof startServer>>;
let s: Started;
let port: number;
let lobby: string;
let offer: string;
const cameras: RtspTestServer[] = [];

beforeAll(async () => {
  execFileSync('bash', [resolve(__dirname, '../../scripts/ensure-system-deps.sh')], { stdio: 'inherit' });
  s = await startServer({
    files: { allowDir: `${SHARED_DATA}/video` },
    limits: { maxStreams: 6, maxSubscribers: 150 },
    analysis: { fps: 5 },
  });
  port = Number(new URL(s.url).port);
  const res = await api('/api/streams', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'lobby', url: 'fr_short_hamilton_clip.mp4' }),
  });
  lobby = (JSON.parse(res.text) as { id: string }).id;
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver('video', { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  offer = pc.localDescription?.sdp ?? '';
  await pc.close();
});

afterAll(async () => {
  await s?.server.close();
  await Promise.all(cameras.map((c) => c.stop()));
  expect(childProcesses('ffmpeg')).toEqual([]); // shutdown leaves no process behind
});

async function api(path: string, init: RequestInit = {}) {
  const res = await fetch(`${s.url}${path}`, init);
  return { status: res.status, text: await res.text() };
}

async function streams(): Promise<{ id: string; name: string; state: string; fps: number }[]> {
  return JSON.parse((await api('/api/streams')).text);
}

/** Frames analyzed so far by a stream, from /metrics. */
async function analyzed(id: string): Promise<number> {
  const text = (await api('/metrics')).text;
  const m = new RegExp(`emostream_frames_analyzed_total\\{stream="${id}",kind="[a-z]+"\\} (\\d+)`).exec(text);
  return Number(m?.[1] ?? 0);
}

/** Analyzed frames per second of a stream over `ms`. */
async function rate(id: string, ms: number): Promise<number> {
  const a = await analyzed(id);
  await new Promise((r) => setTimeout(r, ms));
  return ((await analyzed(id)) - a) / (ms / 1000);
}

/** An HTTP error answer must be `{error:{code,message}}` with a catalogue code whose status it has. */
function typedError(status: number, body: string): ErrorCode | string {
  let parsed: { error?: { code?: unknown; message?: unknown } };
  try {
    parsed = JSON.parse(body);
  } catch {
    return `not JSON: ${body.slice(0, 80)}`;
  }
  const code = parsed.error?.code;
  if (typeof code !== 'string' || !isErrorCode(code)) return `unknown code ${String(code)}`;
  if (typeof parsed.error?.message !== 'string') return 'no message';
  if (ERROR_CATALOGUE[code].status !== status) return `${code} with status ${status}`;
  if (code === 'INTERNAL') return 'INTERNAL';
  return code;
}

describe('fault suite', () => {
  it('100 subscribers on a live stream, then a burst of upgrades: descriptors and RSS come back', {
    timeout: 120_000 * SCALE,
  }, async () => {
    const before = await snapshot();
    const subs = Array.from({ length: 100 }, () => subscribe(s.url, `?stream=${lobby}&types=face.update`));
    await Promise.all(subs.map((x) => x.opened));
    const t0 = Date.now();
    await until('every subscriber gets a face.update', () => subs.every((x) => x.messages.length > 0), 60_000);
    const firstAll = Date.now() - t0;
    for (const x of subs) x.ws.close();
    await until('subscribers gone', async () => (await api('/metrics')).text.includes('emostream_subscribers 0'));
    // A burst of upgrades of every kind, all at once: good ones (closed at once), odd paths, bad filters, foreign
    // hosts, handshakes without a key.
    const kinds = [
      '/events',
      '/./events',
      '/x/../events?stream=a,b',
      '/events?types=nope',
      '/nowhere',
      '/signal/../events',
    ];
    const burst = 300 * SCALE;
    const answers = await Promise.all(
      Array.from({ length: burst }, (_, i) => {
        const host = i % 7 === 0 ? 'evil.example' : `127.0.0.1:${port}`;
        const key = i % 11 === 0 ? '' : 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
        return rawExchange(
          port,
          `GET ${kinds[i % kinds.length]} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `${key}Sec-WebSocket-Version: 13\r\n\r\n`,
          10_000,
        );
      }),
    );
    const unanswered = answers.filter((a) => a.status === 0).length;
    expect(unanswered).toBe(0);
    for (const a of answers.filter((x) => x.status >= 400)) expect(typedError(a.status, a.body)).toMatch(/^[A-Z_]+$/);
    const settle = await until('descriptors back', async () => (await snapshot()).fds <= before.fds + 3, 30_000);
    const after = await snapshot();
    record({
      fault: 'subscribers and upgrade burst',
      injected: 100 + burst,
      survived: 100 + burst - unanswered,
      before,
      after,
      recoveryMs: [settle],
      notes: `100 subscribers all had a face.update within ${firstAll} ms; ${burst} raw upgrades (6 kinds, foreign Host, missing key) all answered`,
    });
    expect(after.rssMb - before.rssMb).toBeLessThan(200);
  });

  it('fuzzer: REST, /signal and /events get thousands of generated inputs; every answer is typed, the server stays healthy', {
    timeout: 120_000 * SCALE,
  }, async () => {
    const before = await snapshot();
    const r = rng(Number(process.env.FUZZ_SEED ?? 15));
    const image = readFileSync(sharedPath('photos', 'single_face_emotion_labeled', 'happy__faceapijs_happy.jpg'));
    const budgetMs = 25_000 * SCALE;
    const deadline = Date.now() + budgetMs;
    const violations: string[] = [];
    const codes = new Map<string, number>();
    const count = (k: string) => codes.set(k, (codes.get(k) ?? 0) + 1);
    const lobbyBefore = await analyzed(lobby);
    const logsAt = s.logs.length;
    let http = 0;
    let signal = 0;
    let events = 0;

    // REST, eight requests at a time.
    const restTarget = 2000 * SCALE;
    const restWorker = async () => {
      while (http < restTarget && Date.now() < deadline) {
        http++;
        const request = httpRequest(r, port, image);
        const head = request.toString('latin1', 0, Math.min(request.length, 60_000));
        const declared = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        const bodyStart = head.indexOf('\r\n\r\n');
        const lied = bodyStart >= 0 && declared > request.length - bodyStart - 4;
        const res = await rawExchange(port, request, lied ? 300 : 10_000);
        if (res.status === 0) {
          if (!lied) violations.push(`no answer: ${head.slice(0, 120)}`);
          count('no answer (declared body never sent)');
          continue;
        }
        if (res.status < 400) {
          count(String(res.status));
          continue;
        }
        if (/^HEAD /.test(head) && res.body === '') {
          count(`${res.status} HEAD`);
          continue;
        }
        const code = typedError(res.status, res.body);
        count(code);
        if (!/^[A-Z_]+$/.test(code)) {
          violations.push(`${code}: ${res.status} ${res.body.slice(0, 80)} for ${JSON.stringify(head.slice(0, 120))}`);
        }
      }
    };

    // /signal: one socket at a time, one message, one answer; a new socket after a session or a close.
    const signalTarget = 600 * SCALE;
    const signalWorker = async () => {
      while (signal < signalTarget && Date.now() < deadline) {
        const ws = new WebSocket(`${s.url.replace('http', 'ws')}/signal`);
        const opened = await new Promise<boolean>((ok) => {
          ws.once('open', () => ok(true));
          ws.once('error', () => ok(false));
        });
        if (!opened) {
          violations.push('a /signal socket did not open');
          break;
        }
        let alive = true;
        ws.on('close', () => {
          alive = false;
        });
        while (alive && signal < signalTarget && Date.now() < deadline) {
          signal++;
          const { data, binary } = signalMessage(r, offer);
          const reply = new Promise<Record<string, unknown> | 'closed' | 'silent'>((ok) => {
            const timer = setTimeout(() => ok('silent'), 5000);
            ws.once('message', (d) => {
              clearTimeout(timer);
              ok(JSON.parse(String(d)));
            });
            ws.once('close', () => {
              clearTimeout(timer);
              ok('closed');
            });
          });
          ws.send(data, { binary });
          const got = await reply;
          if (got === 'closed') {
            count('signal: closed (1009 over the hard cap)');
            break;
          }
          if (got === 'silent') {
            violations.push(`/signal: no answer to ${String(data).slice(0, 80)}`);
            break;
          }
          if (got.type === 'answer') {
            count('signal: answer');
            break; // this socket has a session now: start over on a new one
          }
          const code = String(got.code);
          count(`signal: ${code}`);
          if (
            got.type !== 'error' ||
            !(SIGNAL_ERROR_CODES as readonly string[]).includes(code) ||
            code === 'INTERNAL'
          ) {
            violations.push(`/signal answered ${JSON.stringify(got).slice(0, 120)}`);
          }
        }
        ws.terminate();
      }
    };

    // /events: a query and, when it is taken, a few inbound messages (ignored; over 4 KiB closes with 1009).
    const eventsTarget = 600 * SCALE;
    const eventsWorker = async () => {
      while (events < eventsTarget && Date.now() < deadline) {
        events++;
        const query = eventsQuery(r);
        // ws refuses a URL with a fragment; the server sees '%23' instead.
        const ws = new WebSocket(`${s.url.replace('http', 'ws')}/events${query.replaceAll('#', '%23')}`);
        const outcome = await new Promise<string>((ok) => {
          const timer = setTimeout(() => ok('open'), 300);
          ws.once('unexpected-response', (_req, res) => {
            clearTimeout(timer);
            ok(`http ${res.statusCode}`);
          });
          ws.once('error', () => undefined);
          ws.once('message', (d) => {
            const m = JSON.parse(String(d)) as { type: string; code?: string };
            if (m.type === 'error') {
              clearTimeout(timer);
              ok(`error ${m.code}`);
            }
          });
        });
        count(`events: ${outcome}`);
        if (!/^(open|error EVENTS_BAD_FILTER|http 400|http 404)$/.test(outcome)) {
          violations.push(`/events${query.slice(0, 80)}: ${outcome}`);
        }
        if (outcome === 'open' && ws.readyState === WebSocket.OPEN) {
          ws.send(r() < 0.2 ? 'z'.repeat(5000) : 'hello');
          events++;
        }
        ws.terminate();
      }
    };

    await Promise.all([...Array.from({ length: 8 }, restWorker), signalWorker(), eventsWorker()]);
    const inputs = http + signal + events;
    // No input is a bug: nothing was logged at error level (a 500, an invalid event, a crashed component).
    for (const line of s.logs.slice(logsAt)) {
      const entry = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
      if (entry.level >= 50) violations.push(`logged at error: ${entry.msg} ${entry.err?.message ?? ''}`);
    }

    // Streams the fuzzer managed to add (valid-looking cameras) go again; the lobby stayed and kept analyzing.
    for (const x of await streams()) if (x.id !== lobby) await api(`/api/streams/${x.id}`, { method: 'DELETE' });
    expect((await api('/healthz')).status).toBe(200);
    expect(await analyzed(lobby)).toBeGreaterThan(lobbyBefore);
    await until('one ffmpeg (the lobby)', () => childProcesses('ffmpeg').length === 1, 15_000);
    const settle = await until('descriptors back', async () => (await snapshot()).fds <= before.fds + 3, 30_000);
    const after = await snapshot();
    console.log(`fuzz outcomes: ${JSON.stringify(Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])))}`);
    record({
      fault: 'fuzzer (REST, /signal, /events)',
      injected: inputs,
      survived: inputs - violations.length,
      before,
      after,
      recoveryMs: [settle],
      notes: `REST ${http}, /signal ${signal}, /events ${events} in ${Math.round((budgetMs - Math.max(0, deadline - Date.now())) / 1000)} s; ${codes.size} distinct outcomes`,
    });
    expect(violations.slice(0, 20)).toEqual([]);
    expect(inputs).toBeGreaterThan(1000);
    expect(after.rssMb - before.rssMb).toBeLessThan(300);
  });

  it('ffmpeg killed mid-stream and the RTSP server restarted: stalled, reconnecting, live; the other stream keeps its rate', {
    timeout: 120_000 * SCALE,
  }, async () => {
    const portA = await freePort();
    const portB = await freePort();
    let camA = await startRtspServer(portA, { width: 320, height: 240, fps: 15 });
    const camB = await startRtspServer(portB, { width: 320, height: 240, fps: 15 });
    cameras.push(camB);
    const before = await snapshot();
    const sub = subscribe(s.url, '?types=stream.state');
    await sub.opened;
    const add = async (name: string, p: number) =>
      (
        JSON.parse(
          (
            await api('/api/streams', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ name, url: `rtsp://127.0.0.1:${p}/h264` }),
            })
          ).text,
        ) as { id: string }
      ).id;
    const a = await add('cam-a', portA);
    const b = await add('cam-b', portB);
    const statesOf = (id: string, since = 0) =>
      sub.messages.filter((m) => m.streamId === id && (m.ts as number) >= since).map((m) => m.state as string);
    await until('both live', () => statesOf(a).includes('live') && statesOf(b).includes('live'), 30_000);
    const rateBefore = await rate(b, 3000 * SCALE);
    const recovery: number[] = [];
    const outageRates: number[] = [];

    // 1. ffmpeg of camera A killed with SIGKILL.
    const ffmpegOfA = () =>
      childProcesses('ffmpeg').filter((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`127.0.0.1:${portA}/`),
      );
    const [pid] = ffmpegOfA();
    expect(pid).toBeGreaterThan(0);
    const killedAt = Date.now();
    process.kill(pid as number, 'SIGKILL');
    recovery.push(
      await until(
        'A stalled, reconnecting, live again',
        () => /stalled,reconnecting,live/.test(statesOf(a, killedAt).join(',')),
        30_000,
      ),
    );

    // 2. The RTSP server of camera A stopped, then started again on the same port.
    await camA.stop();
    const stoppedAt = Date.now();
    const rateDuring = rate(b, 3000 * SCALE);
    await until('A reconnecting twice', () => statesOf(a, stoppedAt).filter((x) => x === 'reconnecting').length >= 2);
    outageRates.push(await rateDuring);
    camA = await startRtspServer(portA, { width: 320, height: 240, fps: 15 });
    cameras.push(camA);
    const restartedAt = Date.now();
    recovery.push(await until('A live again', () => statesOf(a, restartedAt).includes('live'), 60_000));
    expect(statesOf(a, stoppedAt).slice(0, 2)).toEqual(['stalled', 'reconnecting']);

    // Camera B kept its rate through both outages; removing both leaves only the lobby's ffmpeg.
    expect(outageRates[0]).toBeGreaterThan(rateBefore * 0.6);
    for (const id of [a, b]) expect((await api(`/api/streams/${id}`, { method: 'DELETE' })).status).toBe(204);
    await until('only the lobby ffmpeg', () => childProcesses('ffmpeg').length === 1, 15_000);
    sub.ws.close();
    const after = await snapshot();
    record({
      fault: 'ffmpeg SIGKILL, then RTSP server restart',
      injected: 2,
      survived: 2,
      before,
      after,
      recoveryMs: recovery,
      notes: `camera B ${rateBefore.toFixed(1)} analyzed fps before, ${(outageRates[0] as number).toFixed(1)} during A's outage; recovery = kill to live, restart to live`,
    });
  });

  it('an inference worker dies mid-inference: its job fails typed, the worker is replaced, the live stream goes on', async () => {
    const before = await snapshot();
    const sub = subscribe(s.url, `?stream=${lobby}&types=face.update`);
    await sub.opened;
    await until('events flowing', () => sub.messages.length > 0, 30_000);
    const recovery: number[] = [];
    const kills = 3;
    for (let i = 0; i < kills; i++) {
      const logsAt = s.logs.length;
      expect(await s.server.faults.crashInferenceWorker()).toBe(true); // while it runs a job
      const t0 = Date.now();
      const seen = sub.messages.length;
      await until(
        'a replacement worker and new events',
        async () => {
          const health = JSON.parse((await api('/healthz')).text) as { inference: { workers: number } };
          return health.inference.workers === 1 && sub.messages.length > seen + 2;
        },
        60_000,
      );
      recovery.push(Date.now() - t0);
      const log = s.logs.slice(logsAt).join('');
      expect(log).toContain('inference worker exited');
    }
    const health = JSON.parse((await api('/healthz')).text) as { status: string; inference: Record<string, unknown> };
    // Each crash failed exactly the job it was running, with WORKER_CRASHED; the frame it was for is lost, logged.
    expect(health).toMatchObject({
      status: 'ok',
      inference: { workers: 1, restarts: kills, crashedJobs: kills, exhausted: false },
    });
    const crashed = s.logs.filter((l) => l.includes('"code":"WORKER_CRASHED"')).length;
    expect(crashed).toBeGreaterThan(0);
    sub.ws.close();
    const after = await snapshot();
    record({
      fault: 'inference worker crashed mid-inference',
      injected: kills,
      survived: kills,
      before,
      after,
      recoveryMs: recovery,
      notes: `${kills} jobs failed with WORKER_CRASHED (${crashed} logged by their stream); recovery = crash to a new worker and events again`,
    });
  });
});
