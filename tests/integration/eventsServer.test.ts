/**
 * The `/events` endpoint against a real `http.Server` on 127.0.0.1 with real `ws` clients and raw TCP peers.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { EventBus } from '../../src/core/EventBus.js';
import {
  type BusEvent,
  type EventsMessage,
  EventsMessageSchema,
  type FaceEndEvent,
  type FaceUpdateEvent,
  type StreamStateEvent,
} from '../../src/core/events.js';
import { EMOTION_LABELS } from '../../src/core/labels.js';
import { EVENTS_CLOSE_CODES, EventsServer, type EventsServerOptions } from '../../src/server/EventsServer.js';

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Harness {
  http: Server;
  bus: EventBus;
  events: EventsServer;
  port: number;
}

const open: Array<net.Socket | WebSocket> = [];
let harness: Harness | undefined;

afterEach(async () => {
  for (const c of open.splice(0)) {
    if (c instanceof net.Socket) c.destroy();
    else c.terminate();
  }
  if (harness) {
    await harness.events.close();
    await harness.bus.close();
    harness.http.closeAllConnections();
    await new Promise((r) => harness?.http.close(r));
    harness = undefined;
  }
});

async function start(options: Partial<EventsServerOptions> = {}): Promise<Harness> {
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const bus = new EventBus();
  const events = new EventsServer(http, { bus, ...options });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const address = http.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  harness = { http, bus, events, port: address.port };
  return harness;
}

/** A `ws` client that records every message, validated against the protocol schema. */
class Client {
  readonly messages: EventsMessage[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(port: number, query = '', keep = true) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/events${query}`);
    open.push(this.ws);
    this.opened = once(this.ws, 'open').then(() => undefined);
    this.closed = once(this.ws, 'close').then(([code, reason]) => {
      this.closeCode = code as number;
      this.closeReason = String(reason);
    });
    this.ws.on('message', (data) => {
      // Kept messages are checked against the protocol schema; the 200k-event stream only JSON-parses.
      const json = JSON.parse(String(data)) as EventsMessage;
      const msg = keep ? EventsMessageSchema.parse(json) : json;
      if (keep) this.messages.push(msg);
      this.onMessage?.(msg);
    });
  }

  onMessage: ((msg: EventsMessage) => void) | undefined;
}

/** Fails (instead of hanging until the test timeout) when `promise` does not settle in time. */
function within<T>(what: string, promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function until(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Completes a WebSocket upgrade over plain TCP: a peer that does exactly what the test says, nothing more. */
async function rawPeer(port: number, path = '/events'): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  open.push(socket);
  await once(socket, 'connect');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let head = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  expect(head.startsWith('HTTP/1.1 101')).toBe(true);
  return socket;
}

/** A realistic event: seven unrounded scores and fractional boxes make it about 500 bytes of JSON. */
let seed = 42;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
function faceEvent(
  type: 'face.new' | 'face.update' | 'face.end',
  streamId: string,
  track: number,
  seq: number,
): BusEvent {
  const raw = EMOTION_LABELS.map(() => rand() + 0.01);
  const sum = raw.reduce((a, b) => a + b, 0);
  const scores = Object.fromEntries(EMOTION_LABELS.map((l, i) => [l, (raw[i] ?? 0) / sum]));
  const base: FaceUpdateEvent = {
    type: 'face.update',
    streamId,
    trackId: `${streamId}/${track}`,
    ts: Date.now(),
    frameSeq: seq,
    frame: { w: 640, h: 480 },
    box: {
      x: 100 + rand() * 300,
      y: 50 + rand() * 200,
      w: 80 + rand() * 40,
      h: 90 + rand() * 40,
    },
    detScore: 0.5 + rand() / 2,
    emotion: {
      label: 'happy',
      scores: scores as FaceUpdateEvent['emotion']['scores'],
    },
    valence: rand() * 2 - 1,
    arousal: rand() * 2 - 1,
    mask: null,
  };
  if (type === 'face.end') {
    const end: FaceEndEvent = {
      ...base,
      type,
      durationMs: 1234,
      dominant: 'happy',
      timeShare: base.emotion.scores,
    };
    return end;
  }
  return { ...base, type } as BusEvent;
}
function stateEvent(streamId: string, state: StreamStateEvent['state'] = 'live'): StreamStateEvent {
  return {
    type: 'stream.state',
    streamId,
    ts: Date.now(),
    state,
    reason: 'test',
  };
}

const yieldLoop = () => new Promise((r) => setImmediate(r));

describe('EventsServer /events', () => {
  it('filters by stream and by type, alone and combined; dropped notices never appear for a reader', async () => {
    const { bus, port, events } = await start();
    const queries: Record<string, (e: BusEvent) => boolean> = {
      '': () => true,
      '?stream=a': (e) => e.streamId === 'a',
      '?stream=a,c': (e) => e.streamId === 'a' || e.streamId === 'c',
      '?stream=a&stream=b': (e) => e.streamId === 'a' || e.streamId === 'b',
      '?types=face.new,face.end': (e) => e.type === 'face.new' || e.type === 'face.end',
      '?stream=b&types=face.update,stream.state': (e) =>
        e.streamId === 'b' && (e.type === 'face.update' || e.type === 'stream.state'),
    };
    const clients = Object.keys(queries).map((q) => [q, new Client(port, q)] as const);
    await Promise.all(clients.map(([, c]) => c.opened));
    await until('all subscribed', () => events.stats.subscribers === clients.length);
    const published: BusEvent[] = [];
    let seq = 0;
    for (const s of ['a', 'b', 'c']) {
      published.push(stateEvent(s));
      published.push(faceEvent('face.new', s, 1, seq++));
      for (let i = 0; i < 5; i++) published.push(faceEvent('face.update', s, 1, seq++));
      published.push(faceEvent('face.end', s, 1, seq++));
    }
    for (const e of published) bus.publish(e);
    for (const [q, client] of clients) {
      const expected = published.filter(queries[q] ?? (() => false));
      expect(expected.length).toBeGreaterThan(0);
      await until(`${q} to receive ${expected.length}`, () => client.messages.length >= expected.length);
    }
    await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
    for (const [q, client] of clients) {
      const expected = published.filter(queries[q] ?? (() => false));
      expect(client.messages, q).toEqual(JSON.parse(JSON.stringify(expected)));
    }
  });

  it('a subscriber that never reads keeps server memory bounded and does not slow another subscriber', async () => {
    const queue = {
      maxEvents: 1000,
      maxBytes: 1024 * 1024,
      highWaterMarkBytes: 256 * 1024,
    };
    const { bus, port, events } = await start({ queue });
    const slow = await rawPeer(port);
    slow.pause(); // completes the upgrade, then never reads again
    let fastCount = 0;
    let fastDropped = 0;
    let lastSeq = -1;
    let outOfOrder = 0;
    const latencies = new Float64Array(200_000);
    const fast = new Client(port, '', false);
    fast.onMessage = (m) => {
      if (m.type === 'dropped') fastDropped += m.count;
      if (m.type !== 'face.update') return;
      latencies[fastCount++] = Date.now() - m.ts;
      if (m.frameSeq !== lastSeq + 1) outOfOrder++;
      lastSeq = m.frameSeq;
    };
    await fast.opened;
    await until('both subscribed', () => events.stats.subscribers === 2);

    const total = 200_000;
    const sample = JSON.stringify(faceEvent('face.update', 'cam-lobby-01', 17, 0));
    expect(sample.length).toBeGreaterThan(450);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let peakQueued = 0;
    let peakBuffered = 0;
    const t0 = Date.now();
    for (let i = 0; i < total; i++) {
      bus.publish(faceEvent('face.update', 'cam-lobby-01', 17, i));
      if (i % 500 === 499) {
        const slowStats = events.stats.perSubscriber.find((s) => s.id === 1);
        peakQueued = Math.max(peakQueued, slowStats?.queued ?? 0);
        peakBuffered = Math.max(peakBuffered, slowStats?.bufferedAmount ?? 0);
        await yieldLoop();
      }
    }
    const publishMs = Date.now() - t0;
    await until('fast subscriber to receive everything', () => fastCount === total, 20_000);
    const allMs = Date.now() - t0;
    gc();
    const heapAfter = process.memoryUsage().heapUsed;

    const stats = events.stats;
    const slowStats = stats.perSubscriber.find((s) => s.id === 1);
    const fastStats = stats.perSubscriber.find((s) => s.id === 2);
    const sorted = Array.from(latencies.subarray(0, fastCount)).sort((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? Infinity;
    const growthMb = (heapAfter - heapBefore) / 1e6;
    console.log(
      `[events] ${total} events of ~${sample.length} B: publish ${publishMs} ms, fast subscriber complete after ${allMs} ms, ` +
        `fast p99 latency ${p99} ms; slow: sent ${slowStats?.sent} queued ${slowStats?.queued} (peak ${peakQueued}) ` +
        `buffered peak ${peakBuffered} B dropped ${slowStats?.dropped}; heap growth ${growthMb.toFixed(1)} MB`,
    );
    // The fast subscriber got everything, in order, with no drops, promptly.
    expect(fastDropped).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(fastStats?.dropped).toBe(0);
    expect(p99).toBeLessThan(1000);
    expect(allMs - publishMs).toBeLessThan(1000);
    // The slow one: queue at its cap, socket buffer at its high-water mark, the rest dropped and counted.
    expect(slowStats?.queued).toBe(queue.maxEvents);
    expect(peakQueued).toBeLessThanOrEqual(queue.maxEvents);
    expect(peakBuffered).toBeLessThan(queue.highWaterMarkBytes + 64 * 1024);
    expect((slowStats?.sent ?? 0) + (slowStats?.queued ?? 0) + (slowStats?.dropped ?? 0)).toBe(total);
    expect(slowStats?.dropped).toBeGreaterThan(total * 0.75);
    expect(stats.droppedCritical).toBe(0);
    // About 100 MB went through; holding it for the slow peer would have grown the heap by as much.
    expect(growthMb).toBeLessThan(25);
  });

  it('tells a resumed subscriber how many updates it lost, and never drops face.new / face.end while updates exist', async () => {
    const { bus, port, events } = await start({
      queue: { maxEvents: 600, highWaterMarkBytes: 64 * 1024 },
    });
    const client = new Client(port);
    await client.opened;
    await until('subscribed', () => events.stats.subscribers === 1);
    const tcp = (client.ws as unknown as { _socket: net.Socket })._socket;
    tcp.pause();
    let updates = 0;
    let seq = 0;
    const tracks = 200;
    for (let t = 1; t <= tracks; t++) {
      bus.publish(faceEvent('face.new', 'cam-1', t, seq++));
      for (let i = 0; i < 300; i++) {
        bus.publish(faceEvent('face.update', 'cam-1', t, seq++));
        updates++;
      }
      bus.publish(faceEvent('face.end', 'cam-1', t, seq++));
      await yieldLoop();
    }
    bus.publish(stateEvent('cam-1', 'ended'));
    const backlog = events.stats.perSubscriber[0];
    expect(backlog?.dropped).toBeGreaterThan(0);
    expect(backlog?.queued).toBeLessThanOrEqual(600);
    tcp.resume();
    await until('the final stream.state', () => client.messages.at(-1)?.type === 'stream.state', 20_000);
    const byType = (t: EventsMessage['type']) => client.messages.filter((m) => m.type === t);
    const notices = byType('dropped') as Array<{
      type: 'dropped';
      count: number;
    }>;
    const noticed = notices.reduce((a, n) => a + n.count, 0);
    expect(notices.length).toBeGreaterThan(0);
    expect(byType('face.new')).toHaveLength(tracks);
    expect(byType('face.end')).toHaveLength(tracks);
    expect(byType('face.update').length + noticed).toBe(updates);
    expect(noticed).toBe(events.stats.dropped);
    expect(events.stats.droppedCritical).toBe(0);
    // Per track: face.new first, face.end last, updates in between in order.
    const seen = new Map<string, string[]>();
    for (const m of client.messages) {
      if (m.type === 'face.new' || m.type === 'face.update' || m.type === 'face.end') {
        seen.set(m.trackId, [...(seen.get(m.trackId) ?? []), m.type]);
      }
    }
    for (const [track, list] of seen) {
      expect(list[0], track).toBe('face.new');
      expect(list.at(-1), track).toBe('face.end');
    }
  });

  it('refuses subscribers over the cap with a clear error and close code, and accepts again when one leaves', async () => {
    const { bus, port, events } = await start({ maxSubscribers: 2 });
    const a = new Client(port);
    const b = new Client(port);
    await Promise.all([a.opened, b.opened]);
    await until('two subscribed', () => events.stats.subscribers === 2);
    const c = new Client(port);
    await within('refusal close', c.closed);
    expect(c.closeCode).toBe(EVENTS_CLOSE_CODES.tooManySubscribers);
    expect(c.closeReason).toContain('EVENTS_TOO_MANY_SUBSCRIBERS');
    expect(c.messages).toEqual([
      expect.objectContaining({
        type: 'error',
        code: 'EVENTS_TOO_MANY_SUBSCRIBERS',
      }),
    ]);
    expect(events.stats).toMatchObject({ subscribers: 2, refused: 1 });
    a.ws.close();
    await until('one left', () => events.stats.subscribers === 1);
    const d = new Client(port);
    await d.opened;
    await until('two again', () => events.stats.subscribers === 2);
    bus.publish(stateEvent('x'));
    await until('d receives', () => d.messages.length === 1);
    expect(d.messages[0]).toMatchObject({
      type: 'stream.state',
      streamId: 'x',
    });
  });

  it('heartbeat terminates a peer that never answers pings and keeps a live one', async () => {
    const { bus, port, events } = await start({ heartbeatMs: 100 });
    const dead = await rawPeer(port);
    dead.resume(); // reads and discards everything, never sends a pong
    const deadClosed = once(dead, 'close');
    const live = new Client(port);
    await live.opened;
    await until('two subscribed', () => events.stats.subscribers === 2);
    const t0 = Date.now();
    await within('heartbeat termination', deadClosed, 3000);
    const ms = Date.now() - t0;
    expect(ms).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 400)); // several more heartbeats
    expect(events.stats).toMatchObject({
      subscribers: 1,
      heartbeatTimeouts: 1,
    });
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    bus.publish(stateEvent('x'));
    await until('live receives', () => live.messages.length === 1);
  });

  it('answers a malformed query with an error message and close code 1008', async () => {
    const { port, events } = await start();
    const bad: Array<[string, string]> = [
      ['?types=face.bogus', 'face.bogus'],
      ['?stream=', 'empty entry'],
      ['?stream=a,,b', 'empty entry'],
      ['?stream=has%20space', 'bad stream id'],
      ['?types=face.new&nope=1', 'nope'],
    ];
    for (const [query, mention] of bad) {
      const c = new Client(port, query);
      await within(`close after ${query}`, c.closed);
      expect(c.closeCode, query).toBe(EVENTS_CLOSE_CODES.badFilter);
      expect(c.closeReason, query).toContain('EVENTS_BAD_FILTER');
      expect(c.messages, query).toHaveLength(1);
      const msg = c.messages[0];
      expect(msg?.type === 'error' && msg.code).toBe('EVENTS_BAD_FILTER');
      expect(msg?.type === 'error' && msg.message, query).toContain(mention);
    }
    expect(events.stats).toMatchObject({
      subscribers: 0,
      badFilter: bad.length,
    });
  });

  it('leaves other upgrade paths to their owners', async () => {
    const { port, http, events } = await start();
    const other = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      if (req.url?.startsWith('/signal')) other.handleUpgrade(req, socket, head, (ws) => ws.send('signal-ok'));
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/signal`);
    open.push(ws);
    const [data] = await once(ws, 'message');
    expect(String(data)).toBe('signal-ok');
    expect(events.stats.subscribers).toBe(0);
    other.close();
  });

  it('close() flushes queued events to a subscriber that catches up, then closes with 1001; bounded for a dead one', async () => {
    const { bus, port, events } = await start({
      queue: {
        maxEvents: 100_000,
        maxBytes: 64 * 1024 * 1024,
        highWaterMarkBytes: 16 * 1024,
      },
      closeTimeoutMs: 4000,
      closeHandshakeMs: 300,
    });
    const client = new Client(port);
    await client.opened;
    const dead = await rawPeer(port);
    dead.pause();
    await until('subscribed', () => events.stats.subscribers === 2);
    const tcp = (client.ws as unknown as { _socket: net.Socket })._socket;
    tcp.pause();
    const total = 20_000; // ~11 MB: more than the kernel's socket buffers hold, so some waits in our queue
    for (let i = 0; i < total; i++) {
      bus.publish(faceEvent('face.update', 'cam-1', 1, i));
      if (i % 1000 === 999) await yieldLoop();
    }
    const waiting = events.stats.perSubscriber.find((s) => s.id === 1)?.queued ?? 0;
    expect(waiting).toBeGreaterThan(0);
    const t0 = Date.now();
    const closing = events.close();
    expect(events.close()).toBe(closing);
    expect(events.closed).toBe(true);
    setTimeout(() => tcp.resume(), 100);
    await within('close()', closing, 10_000);
    const ms = Date.now() - t0;
    await within('client close', client.closed);
    expect(client.closeCode).toBe(EVENTS_CLOSE_CODES.shutdown);
    const updates = client.messages.filter((m) => m.type === 'face.update');
    expect(updates).toHaveLength(total);
    expect(updates.at(-1)?.type === 'face.update' && updates.at(-1)?.frameSeq).toBe(total - 1);
    // The dead peer held close() for at most closeTimeoutMs + closeHandshakeMs.
    expect(ms).toBeLessThan(4000 + 300 + 1000);
    expect(events.stats.subscribers).toBe(0);
    expect(() => bus.publish(stateEvent('x'))).not.toThrow(); // detached from the bus, the bus lives on
  });
});
