import { describe, expect, it } from 'vitest';
import type { BusEvent, StreamStateEvent } from '../../../src/core/events.js';
import { compareTrackIds, FaceStore } from '../../../web-client/src/FaceStore.js';
import { sequenceEvents } from './sequenceEvents.js';

/** Replays events at their capture-time spacing into a store; returns face counts after each event. */
function replay(store: FaceStore, events: readonly BusEvent[], prune = true): number[] {
  const t0 = events[0]?.ts ?? 0;
  return events.map((e) => {
    const now = e.ts - t0;
    store.apply(e, now);
    if (prune) store.prune(now);
    return store.size;
  });
}

describe('FaceStore on the recorded sequence of a real video', () => {
  const events = sequenceEvents('cam-1');
  const news = events.filter((e) => e.type === 'face.new');
  const ends = events.filter((e) => e.type === 'face.end');

  it('has as many faces at each moment as tracks started and not yet ended', () => {
    const store = new FaceStore(3000);
    const counts = replay(store, events);
    let open = 0;
    const expected = events.map((e) => {
      if (e.type === 'face.new') open++;
      if (e.type === 'face.end') open--;
      return open;
    });
    expect(news.length).toBeGreaterThan(1);
    expect(ends.length).toBeGreaterThan(0);
    expect(counts).toEqual(expected);
  });

  it('keeps the latest state of each track', () => {
    const store = new FaceStore(10_000);
    replay(store, events);
    for (const face of store.faces()) {
      const last = events.filter((e) => 'trackId' in e && e.trackId === face.event.trackId).at(-1);
      expect(face.event).toBe(last);
    }
  });

  it('drops a track that stops being reported once it is stale (a lost face.end)', () => {
    const store = new FaceStore(3000);
    const first = news[0];
    if (!first) throw new Error('no face.new in the sequence');
    store.apply(first, 0);
    expect(store.prune(2999)).toBe(0);
    expect(store.faces().map((f) => f.event.trackId)).toEqual([first.trackId]);
    expect(store.prune(3001)).toBe(1);
    expect(store.size).toBe(0);
  });

  it('filters by stream and forgets a stream that ends', () => {
    const store = new FaceStore(60_000);
    replay(store, sequenceEvents('a').slice(0, 20), false);
    replay(store, sequenceEvents('b').slice(0, 20), false);
    const a = store.faces('a').length;
    const b = store.faces('b').length;
    expect(a).toBeGreaterThan(0);
    expect(a + b).toBe(store.size);
    const ended: StreamStateEvent = { type: 'stream.state', streamId: 'a', ts: 1, state: 'ended', reason: 'eof' };
    expect(store.apply(ended, 0)).toBe(true);
    expect(store.faces('a')).toEqual([]);
    expect(store.faces('b').length).toBe(b);
    const live: StreamStateEvent = { ...ended, streamId: 'b', state: 'live', reason: '' };
    expect(store.apply(live, 0)).toBe(false);
    expect(store.faces('b').length).toBe(b);
  });

  it('orders tracks numerically', () => {
    expect(['s/10', 's/2', 's/1'].sort(compareTrackIds)).toEqual(['s/1', 's/2', 's/10']);
  });
});
