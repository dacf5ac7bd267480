import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { EMOTION_LABELS } from '../../src/core/labels.js';
import { startServer, subscribe, waitFor } from '../helpers/serverHarness.js';
import { SHARED_DATA } from '../helpers/sharedData.js';

type Msg = Record<string, unknown> & { type: string; streamId?: string; trackId?: string };

/** File streams added through the API play looped, in real time. */
async function addFile(url: string, name: string, file: string) {
  const res = await fetch(`${url}/api/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, url: file }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe('live pipeline on real video', () => {
  it('a subscriber sees face.new, face.update with seven scores, and face.end; tracks ≈ people', async () => {
    // The 10 s clip, played once in real time: 1-2 people over a few shots.
    const s = await startServer({ files: { allowDir: `${SHARED_DATA}/video` }, analysis: { fps: 5 } });
    try {
      const sub = subscribe(s.url);
      await sub.opened;
      const id = await addFile(s.url, 'clip', 'fr_short_hamilton_clip.mp4');
      // File streams loop; stop this one after one pass (10 s) by removing it.
      await new Promise((r) => setTimeout(r, 10_500));
      await fetch(`${s.url}/api/streams/${id}`, { method: 'DELETE' });
      await waitFor('the stream to close', () =>
        sub.messages.find((m) => m.type === 'stream.state' && m.streamId === id && m.state === 'closed'),
      );
      const events = sub.messages as Msg[];
      const news = events.filter((m) => m.type === 'face.new');
      const updates = events.filter((m) => m.type === 'face.update');
      const ends = events.filter((m) => m.type === 'face.end');
      expect(news.length).toBeGreaterThanOrEqual(1);
      expect(updates.length).toBeGreaterThan(10);
      for (const u of updates) {
        const scores = (u.emotion as { scores: Record<string, number> }).scores;
        expect(Object.keys(scores)).toEqual([...EMOTION_LABELS]);
        expect(Object.values(scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      }
      // The default mask head runs too, off the frame's path: a track's events carry a mask score from its first
      // mask result on (null before it, a fraction of a second), and nobody in the clip wears a mask.
      const withMask = updates.filter((u) => u.mask !== null);
      for (const u of withMask) expect(u.mask).toEqual({ present: expect.any(Boolean), score: expect.any(Number) });
      expect(withMask.length / updates.length).toBeGreaterThan(0.8);
      const seenMask = new Set<string>();
      for (const u of updates) {
        if (u.mask !== null) seenMask.add(u.trackId as string);
        else expect(seenMask.has(u.trackId as string)).toBe(false);
      }
      const masked = withMask.filter((u) => (u.mask as { present: boolean }).present);
      expect(masked.length / withMask.length).toBeLessThan(0.2);
      // Every track that started also ended, once; and each update belongs to an announced track.
      expect(ends.map((e) => e.trackId).sort()).toEqual(news.map((e) => e.trackId).sort());
      const announced = new Set(news.map((n) => n.trackId));
      expect(updates.every((u) => announced.has(u.trackId))).toBe(true);
      // 1-2 people, cut into a few shots (a new shot is a new track): measured 5-7 tracks.
      expect(news.length).toBeLessThanOrEqual(10);
      // Updates are rate-limited per track (4/s by default).
      const perTrack = new Map<string, number[]>();
      for (const u of updates)
        perTrack.set(u.trackId as string, [...(perTrack.get(u.trackId as string) ?? []), u.ts as number]);
      for (const ts of perTrack.values()) {
        const spanS = Math.max(1, ((ts.at(-1) as number) - (ts[0] as number)) / 1000);
        expect(ts.length / spanS).toBeLessThanOrEqual(5);
      }
      sub.ws.close();
    } finally {
      await s.server.close();
    }
  });

  it('four looped streams at once: all analyzed fairly, memory and tensors flat', async () => {
    const s = await startServer({
      files: { allowDir: `${SHARED_DATA}/video` },
      analysis: { fps: 5 },
      models: { workers: 2 },
    });
    try {
      const ids = [];
      for (let i = 0; i < 4; i++) {
        const file = i % 2 === 0 ? 'fr_short_hamilton_clip.mp4' : 'facenetpt_video.mp4';
        ids.push(await addFile(s.url, `loop-${i}`, file));
      }
      const health = async () => (await (await fetch(`${s.url}/healthz`)).json()) as { tensors: number[] };
      await new Promise((r) => setTimeout(r, 15_000)); // warm-up: models, first tracks
      const before = { tensors: (await health()).tensors, heap: getHeapStatistics().used_heap_size };
      const heapSamples: number[] = [];
      for (let i = 0; i < 12; i++) {
        await new Promise((r) => setTimeout(r, 5_000));
        heapSamples.push(getHeapStatistics().used_heap_size);
      }
      const after = { tensors: (await health()).tensors, heap: getHeapStatistics().used_heap_size };
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      const analyzed = ids.map((id) => {
        const m = new RegExp(`emostream_frames_analyzed_total\\{stream="${id}",kind="file"\\} (\\d+)`).exec(metrics);
        return Number(m?.[1] ?? 0);
      });
      console.log(
        `analyzed per stream over ~75 s: ${analyzed.join(', ')}; heap ${Math.round(before.heap / 1e6)} -> ${Math.round(after.heap / 1e6)} MB; tensors ${before.tensors} -> ${after.tensors}`,
      );
      expect(Math.min(...analyzed)).toBeGreaterThan(20);
      // No stream starves (the 1080p ones cost more to decode, so they may get somewhat fewer).
      expect(Math.min(...analyzed)).toBeGreaterThanOrEqual(0.5 * Math.max(...analyzed));
      expect(after.tensors).toEqual(before.tensors);
      // Flat: the heap's later samples are not trending above the earlier ones (allowing GC noise).
      const firstHalf = heapSamples.slice(0, 6).sort((a, b) => a - b)[3] as number;
      const secondHalf = heapSamples.slice(6).sort((a, b) => a - b)[3] as number;
      expect(secondHalf - firstHalf).toBeLessThan(40e6);
    } finally {
      await s.server.close();
    }
  });
});
