import { describe, expect, it } from 'vitest';
import { EventBus, InvalidEventError } from '../../../src/core/EventBus.js';
import { InvalidStateError } from '../../../src/core/errors.js';
import type { BusEvent, FaceUpdateEvent, StreamStateEvent } from '../../../src/core/events.js';
import { UpdateRateLimiter } from '../../../src/core/UpdateRateLimiter.js';

function face(type: 'face.new' | 'face.update', streamId: string, n: number, ts: number): FaceUpdateEvent {
  return {
    type: type as 'face.update',
    streamId,
    trackId: `${streamId}/${n}`,
    ts,
    frameSeq: Math.round(ts / 40),
    frame: { w: 640, h: 480 },
    box: { x: 10, y: 20, w: 50, h: 60 },
    detScore: 0.9,
    emotion: {
      label: 'neutral',
      scores: {
        angry: 0.05,
        disgust: 0.05,
        fear: 0.05,
        happy: 0.1,
        sad: 0.05,
        surprise: 0.1,
        neutral: 0.6,
      },
    },
    valence: 0.1,
    arousal: 0.05,
    mask: null,
  };
}

function state(streamId: string, ts: number): StreamStateEvent {
  return { type: 'stream.state', streamId, ts, state: 'live', reason: 'test' };
}

describe('EventBus', () => {
  it('delivers each event to every sink whose stream and type filters select it', () => {
    const bus = new EventBus();
    const all: BusEvent[] = [];
    const camA: BusEvent[] = [];
    const newOnly: BusEvent[] = [];
    const bUpdates: BusEvent[] = [];
    bus.subscribe((e) => all.push(e));
    bus.subscribe((e) => camA.push(e), { streams: ['a'] });
    bus.subscribe((e) => newOnly.push(e), {
      types: ['face.new', 'stream.state'],
    });
    bus.subscribe((e) => bUpdates.push(e), {
      streams: ['b'],
      types: ['face.update'],
    });
    const events: BusEvent[] = [
      state('a', 1),
      face('face.new', 'a', 1, 2),
      face('face.update', 'a', 1, 3),
      face('face.new', 'b', 1, 4),
      face('face.update', 'b', 1, 5),
      face('face.update', 'c', 1, 6),
    ];
    const counts = events.map((e) => bus.publish(e));
    expect(all).toEqual(events);
    expect(camA.map((e) => e.ts)).toEqual([1, 2, 3]);
    expect(newOnly.map((e) => e.ts)).toEqual([1, 2, 4]);
    expect(bUpdates.map((e) => e.ts)).toEqual([5]);
    expect(counts).toEqual([3, 3, 2, 2, 2, 1]);
    expect(bus.stats).toMatchObject({
      sinks: 4,
      published: 6,
      delivered: 13,
      sinkErrors: 0,
    });
  });

  it('a sink that throws breaks neither the publisher nor the sinks after it, and is reported', () => {
    const reported: unknown[] = [];
    const bus = new EventBus({ onSinkError: (err) => reported.push(err) });
    const before: number[] = [];
    const after: number[] = [];
    bus.subscribe((e) => before.push(e.ts));
    bus.subscribe(() => {
      throw new Error('sink exploded');
    });
    bus.subscribe((e) => after.push(e.ts));
    expect(() => bus.publish(state('a', 1))).not.toThrow();
    bus.publish(state('a', 2));
    expect(before).toEqual([1, 2]);
    expect(after).toEqual([1, 2]);
    expect(reported).toHaveLength(2);
    expect(bus.stats.sinkErrors).toBe(2);
    // Even a throwing error reporter is contained.
    const bus2 = new EventBus({
      onSinkError: () => {
        throw new Error('reporter exploded');
      },
    });
    const got: number[] = [];
    bus2.subscribe(() => {
      throw new Error('x');
    });
    bus2.subscribe((e) => got.push(e.ts));
    expect(() => bus2.publish(state('a', 7))).not.toThrow();
    expect(got).toEqual([7]);
  });

  it('unsubscribe stops delivery, also from inside a publish, and subscribing inside a publish is safe', () => {
    const bus = new EventBus();
    const got: string[] = [];
    const second = { unsubscribe: () => {} };
    bus.subscribe((e) => {
      got.push(`first:${e.ts}`);
      second.unsubscribe();
      bus.subscribe((e2) => got.push(`late:${e2.ts}`));
    });
    Object.assign(
      second,
      bus.subscribe((e) => got.push(`second:${e.ts}`)),
    );
    bus.publish(state('a', 1));
    expect(got).toEqual(['first:1']);
    got.length = 0;
    bus.publish(state('a', 2));
    expect(got).toEqual(['first:2', 'late:2']);
  });

  it('validates events by default and throws a typed error naming the field', () => {
    const bus = new EventBus();
    const got: BusEvent[] = [];
    bus.subscribe((e) => got.push(e));
    const bad = face('face.update', 'a', 1, 1);
    bad.emotion.scores.happy = 0.9;
    expect(() => bus.publish(bad)).toThrow(InvalidEventError);
    try {
      bus.publish(bad);
    } catch (err) {
      expect((err as InvalidEventError).code).toBe('EVENT_INVALID');
      expect((err as Error).message).toContain('emotion.scores');
    }
    expect(got).toHaveLength(0);
    const lax = new EventBus({ validate: false });
    let n = 0;
    lax.subscribe(() => n++);
    lax.publish(bad);
    expect(n).toBe(1);
  });

  it('rate-limits face.update per track by event time, never the other types', () => {
    const bus = new EventBus({ maxUpdatesPerSecond: 4 });
    const got: string[] = [];
    bus.subscribe((e) => got.push(`${e.type}@${e.ts}${'trackId' in e ? `#${e.trackId}` : ''}`));
    bus.publish(face('face.new', 'a', 1, 0));
    // 30 fps for one second on two tracks: 30 updates each; an update passes once >= 250 ms of event time
    // passed since the last one that passed (frames at 0, 33, 67, ... ms: 0, 267, 533, 800).
    for (let i = 0; i < 30; i++) {
      const ts = Math.round((i * 1000) / 30);
      bus.publish(face('face.update', 'a', 1, ts));
      bus.publish(face('face.update', 'a', 2, ts));
      bus.publish(state('a', ts));
    }
    const t1 = got.filter((g) => g.startsWith('face.update') && g.endsWith('#a/1'));
    const t2 = got.filter((g) => g.startsWith('face.update') && g.endsWith('#a/2'));
    expect(t1.map((g) => Number(g.slice(g.indexOf('@') + 1, g.indexOf('#'))))).toEqual([0, 267, 533, 800]);
    expect(t2).toHaveLength(4);
    expect(got.filter((g) => g.startsWith('stream.state'))).toHaveLength(30);
    expect(got.filter((g) => g.startsWith('face.new'))).toHaveLength(1);
    expect(bus.stats.rateLimited).toBe(52);
  });

  it('close() is idempotent, detaches sinks and makes later use throw InvalidStateError', async () => {
    const bus = new EventBus();
    let n = 0;
    bus.subscribe(() => n++);
    const p1 = bus.close();
    expect(bus.close()).toBe(p1);
    expect(bus.closed).toBe(true);
    await p1;
    expect(() => bus.publish(state('a', 1))).toThrow(InvalidStateError);
    expect(() => bus.subscribe(() => {})).toThrow(InvalidStateError);
    expect(n).toBe(0);
    expect(bus.stats.sinks).toBe(0);
  });

  it('counts what it loses: events that fail the schema (by type) and publishes after close (issue 15)', async () => {
    const bus = new EventBus();
    const bad = { ...state('a', 1), reason: 'x'.repeat(501) };
    expect(() => bus.publish(bad)).toThrow(InvalidEventError);
    expect(() => bus.publish({ ...face('face.update', 'a', 1, 1), trackId: 'b/1' })).toThrow(InvalidEventError);
    bus.publish(state('a', 2));
    await bus.close();
    expect(() => bus.publish(state('a', 3))).toThrow(InvalidStateError);
    expect(bus.stats).toMatchObject({
      published: 1,
      rejected: { 'stream.state': 1, 'face.update': 1 },
      afterClose: 1,
    });
  });
});

describe('UpdateRateLimiter', () => {
  it('lets one update per interval through per track and forgets ended tracks', () => {
    const limiter = new UpdateRateLimiter({ maxPerSecond: 2 });
    expect(limiter.allow('a/1', 1000)).toBe(true);
    expect(limiter.allow('a/1', 1499)).toBe(false);
    expect(limiter.allow('a/2', 1499)).toBe(true);
    expect(limiter.allow('a/1', 1500)).toBe(true);
    limiter.forget('a/1');
    expect(limiter.allow('a/1', 1501)).toBe(true);
    expect(limiter.stats).toEqual({ tracks: 2, allowed: 4, limited: 1 });
  });

  it('restarts a window when time goes backwards and keeps memory bounded', () => {
    const limiter = new UpdateRateLimiter({ maxPerSecond: 1, maxTracks: 100 });
    expect(limiter.allow('a/1', 5000)).toBe(true);
    expect(limiter.allow('a/1', 100)).toBe(true);
    for (let i = 0; i < 10_000; i++) limiter.allow(`a/${i}`, i);
    expect(limiter.stats.tracks).toBe(100);
    expect(() => new UpdateRateLimiter({ maxPerSecond: 0 })).toThrow(RangeError);
  });
  it("hands remote events (another node's) to every sink but the localOnly ones, without rate-limiting them", () => {
    const bus = new EventBus({ maxUpdatesPerSecond: 1 });
    const all: BusEvent[] = [];
    const local: BusEvent[] = [];
    bus.subscribe((e) => all.push(e));
    bus.subscribe((e) => local.push(e), { localOnly: true });
    bus.publish(face('face.update', 'a', 1, 1000));
    bus.publish(face('face.update', 'b', 1, 1000), 'remote');
    bus.publish(face('face.update', 'b', 1, 1001), 'remote'); // the origin's limiter let it through: so does ours
    expect(all.map((e) => e.streamId)).toEqual(['a', 'b', 'b']);
    expect(local.map((e) => e.streamId)).toEqual(['a']);
    expect(bus.stats).toMatchObject({ published: 3, remote: 2, rateLimited: 0 });
    expect(() => bus.publish({ ...state('c', 1), reason: 'x'.repeat(501) }, 'remote')).toThrow(InvalidEventError);
  });
});
