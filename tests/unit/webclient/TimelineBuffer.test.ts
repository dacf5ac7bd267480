import { describe, expect, it } from 'vitest';
import type { FaceUpdateEvent } from '../../../src/core/events.js';
import { TimelineBuffer } from '../../../web-client/src/TimelineBuffer.js';
import { sequenceEvents } from './sequenceEvents.js';

describe('TimelineBuffer', () => {
  const events = sequenceEvents('cam-1');
  const faceEvents = events.filter((e) => e.type === 'face.new' || e.type === 'face.update');

  it('keeps one point per face event, per track, with its valence and smoothed label', () => {
    const buf = new TimelineBuffer();
    for (const e of events) buf.add(e, 0);
    const tracks = buf.tracks();
    expect(tracks.reduce((n, t) => n + t.points.length, 0)).toBe(faceEvents.length);
    for (const track of tracks) {
      const mine = faceEvents.filter((e) => e.trackId === track.trackId);
      expect(track.points).toEqual(mine.map((e) => ({ ts: e.ts, valence: e.valence, label: e.emotion.label })));
      const ended = events.some((e) => e.type === 'face.end' && e.trackId === track.trackId);
      expect(track.ended).toBe(ended);
    }
  });

  it('forgets points older than the window, and tracks left empty', () => {
    const buf = new TimelineBuffer({ windowMs: 2000 });
    for (const e of events) buf.add(e, 0);
    const last = events.at(-1)?.ts ?? 0;
    buf.prune(last);
    const kept = buf.tracks().flatMap((t) => t.points);
    expect(kept.length).toBe(faceEvents.filter((e) => e.ts >= last - 2000).length);
    expect(kept.every((p) => p.ts >= last - 2000)).toBe(true);
    expect(buf.tracks().every((t) => t.points.length > 0)).toBe(true);
    buf.prune(last + 10_000);
    expect(buf.tracks()).toEqual([]);
  });

  it("extrapolates the server's clock from the newest event", () => {
    const buf = new TimelineBuffer();
    expect(buf.now(1000)).toBeUndefined();
    const e = faceEvents[0] as FaceUpdateEvent;
    buf.add(e, 50_000);
    expect(buf.now(50_000)).toBe(e.ts);
    expect(buf.now(52_500)).toBe(e.ts + 2500);
  });

  it('caps points per track and the number of tracks, and ignores out-of-order points', () => {
    const buf = new TimelineBuffer({ maxPointsPerTrack: 5, maxTracks: 2 });
    for (const e of events) buf.add(e, 0);
    expect(buf.tracks().length).toBeLessThanOrEqual(2);
    expect(buf.tracks().every((t) => t.points.length <= 5)).toBe(true);
    const track = buf.tracks()[0];
    if (!track) throw new Error('no track');
    const lastTs = track.points.at(-1)?.ts ?? 0;
    const stale = faceEvents.find((e) => e.trackId === track.trackId && e.ts < lastTs) as FaceUpdateEvent;
    expect(buf.add(stale, 0)).toBe(false);
  });
});
