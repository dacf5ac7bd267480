/**
 * Issue 15, "ownership": a stream whose source ends by itself (a file that fails, a WebRTC peer that leaves) is
 * forgotten by its one owner, frees its place under maxStreams, and says `stream.state closed` exactly once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, subscribe, waitFor } from '../helpers/serverHarness.js';
import { sharedPath } from '../helpers/sharedData.js';
import { offerOverSignal } from '../helpers/signalOffer.js';

type Started = Awaited<ReturnType<typeof startServer>>;
let s: Started;
const allowDir = mkdtempSync(join(tmpdir(), 'emostream-owner-'));

beforeAll(async () => {
  // A truncated MP4 (no moov atom): ffmpeg cannot decode it, so the file source fails and closes itself.
  const video = readFileSync(sharedPath('video', 'fr_short_hamilton_clip.mp4'));
  writeFileSync(join(allowDir, 'truncated.mp4'), video.subarray(0, 20_000));
  writeFileSync(join(allowDir, 'good.mp4'), video);
  s = await startServer({ files: { allowDir }, limits: { maxStreams: 2 }, analysis: { fps: 2 } });
});

afterAll(async () => {
  await s?.server.close();
});

async function api(path: string, init: RequestInit = {}) {
  const res = await fetch(`${s.url}${path}`, init);
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

const add = (name: string, url: string) =>
  api('/api/streams', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, url }),
  });

const closedEvents = (messages: Record<string, unknown>[], id: string) =>
  messages.filter((m) => m.type === 'stream.state' && m.streamId === id && m.state === 'closed');

describe('one owner, one removal, one stream.state closed', () => {
  it('a file stream that fails is removed and frees its place under maxStreams', async () => {
    const sub = subscribe(s.url, '?types=stream.state');
    await sub.opened;
    const ids: string[] = [];
    for (const name of ['bad-1', 'bad-2']) {
      const res = await add(name, 'truncated.mp4');
      expect(res.status).toBe(201);
      ids.push(res.body.id as string);
    }
    for (const id of ids) await waitFor(`${id} closed`, () => closedEvents(sub.messages, id).length > 0, 20_000);
    const deadline = Date.now() + 10_000;
    while (((await api('/api/streams')).body as unknown as unknown[]).length > 0) {
      expect(Date.now(), 'forgotten within 10 s').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Their places are free again: two more streams fit under maxStreams = 2.
    expect((await add('good-1', 'good.mp4')).status).toBe(201);
    expect((await add('good-2', 'good.mp4')).status).toBe(201);
    await new Promise((r) => setTimeout(r, 500));
    for (const id of ids) {
      const closed = closedEvents(sub.messages, id);
      expect(closed).toHaveLength(1);
      expect(String(closed[0]?.reason)).toMatch(/SOURCE_DECODE_FAILED|truncated|moov|Invalid data/);
    }
    for (const { id } of (await api('/api/streams')).body as unknown as { id: string }[]) {
      expect((await api(`/api/streams/${id}`, { method: 'DELETE' })).status).toBe(204);
    }
    sub.ws.close();
  });

  it('a WebRTC session that ends by itself: its stream is removed once, one closed event, its socket closed', async () => {
    // The publisher never answers the server's answer, so the server's source gives up (WEBRTC_CONNECT_TIMEOUT,
    // 15 s) and closes itself: the same path as a peer that leaves (werift notices that after ~30 s of silence).
    const sub = subscribe(s.url, '?types=stream.state');
    await sub.opened;
    const { pub, closeCode, reply } = await offerOverSignal(s.url);
    expect(reply.type).toBe('answer');
    const id = reply.streamId as string;
    expect(((await api('/api/streams')).body as unknown as { id: string }[]).map((x) => x.id)).toEqual([id]);
    await waitFor('the stream closed', () => closedEvents(sub.messages, id).length > 0, 30_000);
    expect(await closeCode).toBe(1011); // the server ended the session's socket
    await new Promise((r) => setTimeout(r, 500));
    const closed = closedEvents(sub.messages, id);
    expect(closed).toHaveLength(1);
    expect(String(closed[0]?.reason)).toMatch(/ICE\/DTLS|connect/i);
    expect((await api('/api/streams')).body).toEqual([]);
    await pub.close();
    sub.ws.close();
  });

  it('closing the signalling socket removes the stream, once', async () => {
    const sub = subscribe(s.url, '?types=stream.state');
    await sub.opened;
    const { pub, ws, reply } = await offerOverSignal(s.url);
    const id = reply.streamId as string;
    ws.close();
    await waitFor('the stream closed', () => closedEvents(sub.messages, id).length > 0, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(closedEvents(sub.messages, id)).toHaveLength(1);
    expect((await api('/api/streams')).body).toEqual([]);
    await pub.close();
    sub.ws.close();
  });
});
