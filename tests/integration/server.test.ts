import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EMOTION_LABELS } from '../../src/core/labels.js';
import { childProcesses } from '../fixtures/childProcesses.js';
import { startServer, subscribe, waitFor } from '../helpers/serverHarness.js';
import { SHARED_DATA, sharedPath } from '../helpers/sharedData.js';

type Started = Awaited<ReturnType<typeof startServer>>;
let s: Started;

beforeAll(async () => {
  s = await startServer({ files: { allowDir: `${SHARED_DATA}/video` }, analysis: { fps: 5 } });
});
afterAll(async () => {
  await s?.server.close();
});

async function api(path: string, init: RequestInit = {}) {
  const res = await fetch(`${s.url}${path}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body: body as Record<string, unknown> & { error?: { code: string } } };
}

describe('emostream serve: HTTP API', () => {
  it('answers health with the engine it picked and why, and metrics in Prometheus text', async () => {
    const health = await api('/healthz');
    expect(health.status).toBe(200);
    // The embedded default here: ONNX Runtime on the CPU for every default model; CUDA passed over, with the reason.
    expect(health.body).toMatchObject({
      status: 'ok',
      engine: 'onnx',
      backend: 'cpu',
      models: { blazeface: 'onnx', 'emotion-cnn': 'onnx', mask: 'onnx' },
    });
    expect(health.body.passedOver).toEqual([
      { name: 'onnx/cuda', reason: expect.stringContaining('CUDA') },
      expect.anything(),
    ]);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain('emostream_engine_info{engine="onnx",backend="cpu"} 1');
    expect(metrics).toContain('emostream_model_engine_info{model="emotion-cnn",engine="onnx"} 1');
    expect(metrics).toContain('# TYPE emostream_inference_seconds histogram');
  });

  it('analyzes an uploaded image, and refuses bad uploads with stable codes', async () => {
    const jpeg = readFileSync(sharedPath('photos', 'single_face_emotion_labeled', 'happy__faceapijs_happy.jpg'));
    const ok = await api('/api/analyze', { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
    expect(ok.status).toBe(200);
    const faces = ok.body.faces as { emotion: { label: string } }[];
    expect(faces).toHaveLength(1);
    expect(faces[0]?.emotion.label).toBe('happy');

    const corrupt = await api('/api/analyze', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: jpeg.subarray(0, 1000),
    });
    expect([corrupt.status, corrupt.body.error?.code]).toEqual([400, 'IMAGE_UNREADABLE']);
    const wrongType = await api('/api/analyze', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect([wrongType.status, wrongType.body.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const huge = await api('/api/analyze', {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(s.config.server.maxBodyBytes + 1),
    });
    expect([huge.status, huge.body.error?.code]).toEqual([413, 'BODY_TOO_LARGE']);
    expect((await api('/healthz')).status).toBe(200); // still serving
  });

  it('refuses camera URLs that are not rtsp (the API cannot be used to fetch arbitrary URLs)', async () => {
    for (const url of ['http://127.0.0.1:8080/', 'file:///etc/passwd', '/etc/passwd', '../../etc/passwd']) {
      const res = await api('/api/streams', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', url }),
      });
      expect(res.status, url).toBe(400);
      expect(res.body.error?.code).toBe('BAD_URL');
    }
    const bad = await api('/api/streams', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(bad.body.error?.code).toBe('BAD_JSON');
    expect((await api('/api/streams/nope', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('emostream serve: a stream end to end', () => {
  it('a looped video with faces gives face.new, face.update with seven scores, a snapshot, and face.end on removal', async () => {
    const sub = subscribe(s.url, '?types=face.new,face.update,face.end,stream.state');
    await sub.opened;
    const added = await api('/api/streams', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'hamilton', url: 'fr_short_hamilton_clip.mp4' }),
    });
    expect(added.status).toBe(201);
    const id = added.body.id as string;
    expect(added.body).toMatchObject({ name: 'hamilton', kind: 'file' });

    const update = (await waitFor('a face.update', () =>
      sub.messages.find((m) => m.type === 'face.update' && m.streamId === id),
    )) as { emotion: { scores: Record<string, number> }; trackId: string; valence: number };
    expect(Object.keys(update.emotion.scores)).toEqual([...EMOTION_LABELS]);
    const sum = Object.values(update.emotion.scores).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 3);
    expect(update.trackId.startsWith(`${id}/`)).toBe(true);
    expect(sub.messages.findIndex((m) => m.type === 'face.new' && m.trackId === update.trackId)).toBeLessThan(
      sub.messages.indexOf(update as unknown as Record<string, unknown>),
    );

    const list = await api('/api/streams');
    const info = (list.body as unknown as { id: string; state: string; fps: number }[]).find((x) => x.id === id);
    expect(info?.state).toBe('live');

    const snap = await fetch(`${s.url}/api/streams/${id}/snapshot.jpg`);
    expect(snap.status).toBe(200);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = new Uint8Array(await snap.arrayBuffer());
    expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);

    const ffmpegs = childProcesses('ffmpeg').length;
    expect(ffmpegs).toBeGreaterThan(0);
    expect((await api(`/api/streams/${id}`, { method: 'DELETE' })).status).toBe(204);
    await waitFor('face.end', () => sub.messages.find((m) => m.type === 'face.end' && m.streamId === id));
    await waitFor('stream closed', () =>
      sub.messages.find((m) => m.type === 'stream.state' && m.streamId === id && m.state === 'closed'),
    );
    expect(childProcesses('ffmpeg')).toHaveLength(ffmpegs - 1);
    expect((await api('/api/streams')).body).toEqual([]);
    sub.ws.close();
  });
});

describe('emostream serve: access control', () => {
  it('with tokens, each role needs its own token (header or query), compared exactly', async () => {
    const tokens = {
      publishToken: 'publish-token-0123456789',
      subscribeToken: 'subscribe-token-0123456789',
      adminToken: 'admin-token-0123456789abc',
    };
    const t = await startServer({ auth: tokens });
    try {
      const get = (headers: Record<string, string> = {}) => fetch(`${t.url}/api/streams`, { headers });
      expect((await get()).status).toBe(401);
      expect((await get({ authorization: `Bearer ${tokens.adminToken}` })).status).toBe(403);
      expect((await get({ authorization: `Bearer ${tokens.subscribeToken}` })).status).toBe(200);
      const post = (token: string) =>
        fetch(`${t.url}/api/streams`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'c', url: 'http://x' }),
        });
      expect((await post(tokens.subscribeToken)).status).toBe(403);
      expect((await post(tokens.adminToken)).status).toBe(400); // authorised; the URL is what is wrong
      const refused = subscribe(t.url);
      await expect(refused.opened).rejects.toThrow('HTTP 401');
      const wrong = subscribe(t.url, `?token=${tokens.publishToken}`);
      await expect(wrong.opened).rejects.toThrow('HTTP 403');
      const ok = subscribe(t.url, `?stream=cam-x&token=${tokens.subscribeToken}`);
      await ok.opened;
      await new Promise((r) => setTimeout(r, 300));
      expect(ok.ws.readyState).toBe(WebSocket.OPEN); // the token in the query is not taken for a bad filter
      ok.ws.close();
      const signal = new WebSocket(`${t.url.replace('http', 'ws')}/signal`);
      const status = await new Promise<number>((resolve) =>
        signal.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
      );
      expect(status).toBe(401);
      // /metrics needs the subscribe token; /healthz says only "ok" without it (issue 15, finding 4).
      expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
      const metrics = await (
        await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${tokens.subscribeToken}` } })
      ).text();
      expect(metrics).toMatch(/emostream_auth_refused_total\{role="subscribe"\} [3-9]/);
      const health = await fetch(`${t.url}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
      const detailed = await fetch(`${t.url}/healthz`, {
        headers: { authorization: `Bearer ${tokens.subscribeToken}` },
      });
      expect(await detailed.json()).toMatchObject({ status: 'ok', workers: 1, engine: expect.any(String) });
    } finally {
      await t.server.close();
    }
  });

  it('refuses WebSockets from a foreign origin', async () => {
    const foreign = subscribe(s.url, '', { origin: 'http://evil.example' });
    await expect(foreign.opened).rejects.toThrow('HTTP 403');
    const own = subscribe(s.url, '', { origin: s.url });
    await own.opened;
    own.ws.close();
  });

  it('will not listen on a public interface without tokens', async () => {
    await expect(startServer({ server: { host: '0.0.0.0' } })).rejects.toMatchObject({ code: 'AUTH_TOKENS_REQUIRED' });
  });
});
