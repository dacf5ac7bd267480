import { describe, expect, it } from 'vitest';
import type { BusEventType } from '../../../src/core/events.js';
import { type QueueSocket, SubscriberQueue } from '../../../src/server/SubscriberQueue.js';

/** A socket whose buffer empties only when the test says so (like a peer that stopped reading). */
class FakeSocket implements QueueSocket {
  bufferedAmount = 0;
  writable = true;
  readonly received: string[] = [];
  readonly #pending: Array<{ bytes: number; done: () => void }> = [];

  send(data: string, onWritten: () => void): void {
    this.received.push(data);
    const bytes = Buffer.byteLength(data);
    this.bufferedAmount += bytes;
    this.#pending.push({ bytes, done: onWritten });
  }

  /** The peer reads everything buffered so far. */
  drain(): void {
    for (const p of this.#pending.splice(0)) {
      this.bufferedAmount -= p.bytes;
      p.done();
    }
  }
}

function msg(type: BusEventType, n: number): [BusEventType, string, number] {
  const data = JSON.stringify({ type, n, pad: 'x'.repeat(80) });
  return [type, data, Buffer.byteLength(data)];
}

function types(received: string[]): string[] {
  return received.map((r) => {
    const m = JSON.parse(r) as { type: string; n?: number; count?: number };
    return m.type === 'dropped' ? `dropped:${m.count}` : `${m.type}:${m.n}`;
  });
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SubscriberQueue', () => {
  it('sends at once while the socket has room and queues nothing', () => {
    const socket = new FakeSocket();
    const q = new SubscriberQueue(socket, { highWaterMarkBytes: 10_000 });
    for (let i = 0; i < 5; i++) {
      q.push(...msg('face.update', i));
      socket.drain();
    }
    expect(socket.received).toHaveLength(5);
    expect(q.stats).toMatchObject({ queued: 0, dropped: 0, sent: 5 });
  });

  it('when backed up, keeps at most maxEvents, drops the oldest face.update first and announces the count', async () => {
    const socket = new FakeSocket();
    const q = new SubscriberQueue(socket, {
      maxEvents: 4,
      highWaterMarkBytes: 1,
    });
    q.push(...msg('face.update', 0)); // goes out, socket now "full"
    q.push(...msg('face.new', 1));
    q.push(...msg('face.update', 2));
    q.push(...msg('face.update', 3));
    q.push(...msg('face.end', 4));
    q.push(...msg('face.update', 5)); // over the cap: update 2 goes
    q.push(...msg('face.emotion', 6)); // update 3 goes
    q.push(...msg('stream.state', 7)); // update 5 goes
    expect(q.stats).toMatchObject({
      queued: 4,
      dropped: 3,
      droppedCritical: 0,
      pendingDropped: 3,
    });
    socket.drain();
    await tick();
    // One message per drain with a 1-byte high-water mark: notice first, then the survivors in order.
    const seen = [...types(socket.received)];
    for (let i = 0; i < 6; i++) {
      socket.drain();
      await tick();
    }
    expect(types(socket.received)).toEqual([
      'face.update:0',
      'dropped:3',
      'face.new:1',
      'face.end:4',
      'face.emotion:6',
      'stream.state:7',
    ]);
    expect(seen.length).toBeLessThan(socket.received.length);
    expect(q.stats).toMatchObject({ queued: 0, dropped: 3, pendingDropped: 0 });
    expect(q.drained).toBe(true);
  });

  it('drops the oldest of other types only when no face.update is left, counting them apart', () => {
    const socket = new FakeSocket();
    const q = new SubscriberQueue(socket, {
      maxEvents: 2,
      highWaterMarkBytes: 1,
    });
    q.push(...msg('face.new', 0)); // sent at once
    q.push(...msg('face.new', 1));
    q.push(...msg('face.end', 2));
    q.push(...msg('face.end', 3)); // no update to drop: the oldest (new 1) goes
    expect(q.stats).toMatchObject({
      queued: 2,
      dropped: 1,
      droppedCritical: 1,
    });
    q.push(...msg('face.update', 4)); // the update itself goes, not face.end 2/3
    expect(q.stats).toMatchObject({
      queued: 2,
      dropped: 2,
      droppedCritical: 1,
    });
    q.push(...msg('face.new', 5)); // the oldest (end 2) goes
    expect(q.stats).toMatchObject({
      queued: 2,
      dropped: 3,
      droppedCritical: 2,
    });
    socket.drain();
    q.flush();
    socket.drain();
    q.flush();
    socket.drain();
    q.flush();
    expect(types(socket.received)).toEqual(['face.new:0', 'dropped:3', 'face.end:3', 'face.new:5']);
  });

  it('bounds queued bytes as well as events over 200k pushes, dropping updates before face.new', () => {
    const socket = new FakeSocket();
    const q = new SubscriberQueue(socket, {
      maxEvents: 1_000_000,
      maxBytes: 10_000,
      highWaterMarkBytes: 1,
    });
    // One face.new per 4000 events: 50 of them fit in the queue (about 90 events) with updates to drop instead.
    for (let i = 0; i < 200_000; i++) q.push(...msg(i % 4000 === 1 ? 'face.new' : 'face.update', i));
    const s = q.stats;
    expect(s.queuedBytes).toBeLessThanOrEqual(10_000);
    expect(s.queued).toBeGreaterThan(80);
    expect(s.queued).toBeLessThan(100);
    expect(s.queued + s.dropped + 1).toBe(200_000);
    expect(s.droppedCritical).toBe(0);
    // Every face.new since the start is still there, in order, after the survivors of the updates.
    socket.drain();
    for (let i = 0; i < 200 && !q.flush(); i++) socket.drain();
    const got = types(socket.received);
    expect(got.filter((t) => t.startsWith('face.new:'))).toEqual(
      Array.from({ length: 50 }, (_, k) => `face.new:${k * 4000 + 1}`),
    );
    expect(got[1]).toBe(`dropped:${s.dropped}`);
  });

  it('sends nothing to a socket that is no longer writable and clear() forgets the queue', () => {
    const socket = new FakeSocket();
    const q = new SubscriberQueue(socket, { highWaterMarkBytes: 1 });
    q.push(...msg('face.update', 0));
    q.push(...msg('face.update', 1));
    socket.writable = false;
    q.push(...msg('face.update', 2));
    expect(q.stats.queued).toBe(1);
    socket.drain();
    q.flush();
    expect(socket.received).toHaveLength(1);
    q.clear();
    expect(q.stats.queued).toBe(0);
  });
});
