/**
 * Issue 15, finding 4: camera passwords (with `@ / : %` in them) and secret query values never appear in another
 * user's `ps`, in logs, API answers, events or metrics, while a real authenticated RTSP camera (GStreamer, Basic
 * auth) streams through the running server. `ps` is the real procps `ps`, run while ffmpeg is decoding.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childProcesses } from '../fixtures/childProcesses.js';
import { freePort, type RtspTestServer, startRtspServer } from '../fixtures/rtspServer.js';
import { startServer, subscribe, waitFor } from '../helpers/serverHarness.js';

const USER = 'viewer';
/** Every character that has broken redaction before: @ / : % and a quote. */
const PASSWORD = "Pa@ss/w:rd%9'x";
const ENCODED = encodeURIComponent(PASSWORD);
/** Every form the password may be printed in. */
const FORMS = [PASSWORD, ENCODED, 'Pa@ss', 'w:rd%9', 'Pa%40ss%2Fw%3Ard%259'];
const TOKEN = 'tok3n-Q8d1e0b7c2a9';

let camera: RtspTestServer;
let port: number;
type Started = Awaited<ReturnType<typeof startServer>>;
let s: Started;

beforeAll(async () => {
  execFileSync('bash', [resolve(__dirname, '../../scripts/ensure-system-deps.sh')], { stdio: 'inherit' });
  port = await freePort();
  camera = await startRtspServer(port, { user: USER, password: PASSWORD, width: 320, height: 240, fps: 15 });
  s = await startServer({ analysis: { fps: 2 } });
});

afterAll(async () => {
  await s?.server.close();
  await camera?.stop();
});

/** Every process's command line, as another local user sees it: the real `ps`, and /proc/PID/cmdline. */
function processListings(): string {
  const ps = execFileSync('ps', ['-eo', 'pid,user,args', '--no-headers', '-ww'], { encoding: 'utf8' });
  const proc = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return '';
      }
    })
    .join('\n');
  return `${ps}\n${proc}`;
}

function expectNoSecret(where: string, text: string): void {
  for (const form of [...FORMS, TOKEN]) expect(text, `${where} shows "${form}"`).not.toContain(form);
}

async function api(path: string, init: RequestInit = {}) {
  const res = await fetch(`${s.url}${path}`, init);
  return { status: res.status, text: await res.text() };
}

const post = (body: unknown) =>
  api('/api/streams', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('camera secrets through the running server', () => {
  it('a camera whose password has @ / : % streams, and no process listing, answer, event, log or metric shows it', async () => {
    const events = subscribe(s.url);
    await events.opened;
    const cameraUrl = `rtsp://${USER}:${ENCODED}@127.0.0.1:${port}/h264?token=${TOKEN}&channel=1`;
    const added = await post({ name: 'door', url: cameraUrl });
    expect(added.status).toBe(201);
    const id = (JSON.parse(added.text) as { id: string }).id;
    await waitFor(
      'the camera to go live',
      () => events.messages.find((m) => m.type === 'stream.state' && m.streamId === id && m.state === 'live'),
      30_000,
    );
    // ffmpeg runs, decoding the authenticated camera, and its command line names no camera.
    const ffmpegs = childProcesses('ffmpeg');
    expect(ffmpegs.length).toBe(1);
    const cmdline = readFileSync(`/proc/${ffmpegs[0]}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain('pipe:0');
    expect(cmdline.join(' ')).not.toContain('127.0.0.1');
    expectNoSecret('ps', processListings());

    const list = await api('/api/streams');
    expect(list.text).toContain(`rtsp://***@127.0.0.1:${port}/h264?token=***&channel=1`);
    expectNoSecret('POST /api/streams', added.text);
    expectNoSecret('GET /api/streams', list.text);
    expectNoSecret('GET /api/streams/:id', (await api(`/api/streams/${id}`)).text);
    expectNoSecret('/metrics', (await api('/metrics')).text);
    expectNoSecret('/healthz', (await api('/healthz')).text);
    expect((await api(`/api/streams/${id}`, { method: 'DELETE' })).status).toBe(204);
    await waitFor('closed', () =>
      events.messages.find((m) => m.type === 'stream.state' && m.streamId === id && m.state === 'closed'),
    );
    expectNoSecret('events', JSON.stringify(events.messages));
    expectNoSecret('logs', s.logs.join(''));
    events.ws.close();
  });

  it('a wrong password, a refused port and malformed URLs: reasons, 400 answers and logs show no secret', async () => {
    const events = subscribe(s.url);
    await events.opened;
    const wrong = `rtsp://${USER}:${ENCODED}x@127.0.0.1:${port}/h264`; // the password plus one letter
    const refused = `rtsp://${USER}:${ENCODED}@127.0.0.1:${await freePort()}/h264?token=${TOKEN}`;
    const ids: string[] = [];
    for (const [name, url] of [
      ['wrong', wrong],
      ['refused', refused],
    ]) {
      const res = await post({ name, url });
      expect(res.status).toBe(201);
      ids.push((JSON.parse(res.text) as { id: string }).id);
    }
    const stalled = (id: string) =>
      events.messages.find((m) => m.type === 'stream.state' && m.streamId === id && m.state === 'stalled');
    await waitFor('both stalled', () => ids.every(stalled), 30_000);
    expect(String(stalled(ids[0] as string)?.reason)).toMatch(/401 Unauthorized.*\[SOURCE_UNAUTHORIZED\]/);
    expect(String(stalled(ids[1] as string)?.reason)).toMatch(/Connection refused.*\[SOURCE_UNREACHABLE\]/);
    expectNoSecret('ps', processListings());
    // Malformed: an unencoded '/' in the password, a space, a foreign scheme. The 400 never repeats the URL.
    for (const url of [
      `rtsp://${USER}:${PASSWORD}@127.0.0.1:${port}/h264`,
      `rtsp://${USER}:Pa@ss w:rd%9@127.0.0.1/`,
      `http://${USER}:${ENCODED}@127.0.0.1/?token=${TOKEN}`,
    ]) {
      const res = await post({ name: 'bad', url });
      expect(res.status, url).toBe(400);
      expect(JSON.parse(res.text).error.code).toBe('BAD_URL');
      expectNoSecret('400 answer', res.text);
    }
    for (const id of ids) expect((await api(`/api/streams/${id}`, { method: 'DELETE' })).status).toBe(204);
    expectNoSecret('events', JSON.stringify(events.messages));
    expectNoSecret('logs', s.logs.join(''));
    expectNoSecret('/metrics', (await api('/metrics')).text);
    events.ws.close();
  });

  it('a ?token= on a failing request is not logged', async () => {
    const res = await fetch(`${s.url}/%E0%A4%A?token=${TOKEN}`);
    expect(res.status).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 100));
    expectNoSecret('logs', s.logs.join(''));
  });
});
