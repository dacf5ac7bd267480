/**
 * The `/events` WebSocket endpoint (docs/interfaces.md, docs/events.md): attaches to an existing `http.Server` (ws with
 * `noServer`, answering `upgrade` for its path only, so `/signal` can live on the same server), subscribes once to
 * the event bus and fans every event out to the subscribers whose filter selects it, encoding each event once.
 *
 * Per subscriber (EventsSubscriber): a bounded SubscriberQueue (oldest `face.update` dropped first, a `dropped`
 * notice on catch-up) and a heartbeat (ping every `heartbeatMs`; a peer that did not answer the previous ping is
 * terminated). Limits: `maxSubscribers` (refused: an error message, then close code 1013), `maxMessageBytes`
 * (larger events are not sent, counted); inbound messages are not part of the protocol (ignored; over 4 KiB
 * closes the socket with 1009). A bad filter gets `{"type":"error","code":"EVENTS_BAD_FILTER",...}`, then 1008.
 * `close()` stops accepting, flushes what is queued for up to `closeTimeoutMs`, closes with 1001, and terminates
 * peers that do not finish the closing handshake within `closeHandshakeMs`.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { CloseOnce } from '../core/CloseOnce.js';
import type { EventBus, Subscription } from '../core/EventBus.js';
import { errorCode, errorMessage } from '../core/errors.js';
import { type BusEvent, encodeEvent } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { EventsSubscriber, type SubscriberStats } from './EventsSubscriber.js';
import { type EventsQuery, parseEventsQuery } from './parseEventsQuery.js';
import type { SubscriberQueueOptions } from './SubscriberQueue.js';
import { refuse, upgradePath } from './UpgradeGate.js';

export type { SubscriberStats };

export interface EventsServerOptions {
  bus: EventBus;
  /** URL path served (default `/events`). */
  path?: string;
  /** Subscribers at once; more are refused. */
  maxSubscribers?: number;
  /** Ping interval; a peer that misses one pong is terminated at the next tick. */
  heartbeatMs?: number;
  /** Largest event sent, in bytes of JSON. */
  maxMessageBytes?: number;
  /** Time `close()` gives subscribers to receive what is queued. */
  closeTimeoutMs?: number;
  /** Time `close()` waits for a peer's closing handshake before terminating it. */
  closeHandshakeMs?: number;
  /** Per-subscriber queue limits (defaults: SUBSCRIBER_QUEUE_DEFAULTS). */
  queue?: SubscriberQueueOptions;
  logger?: Logger;
}

export const EVENTS_SERVER_DEFAULTS = Object.freeze({
  path: '/events',
  maxSubscribers: 100,
  heartbeatMs: 30_000,
  maxMessageBytes: 64 * 1024,
  closeTimeoutMs: 2000,
  closeHandshakeMs: 500,
});

export const EVENTS_CLOSE_CODES = Object.freeze({
  shutdown: 1001,
  badFilter: 1008,
  tooManySubscribers: 1013,
});

export interface EventsServerStats {
  subscribers: number;
  queued: number;
  queuedBytes: number;
  /** Events dropped for slow subscribers since start (including subscribers that left). */
  dropped: number;
  /** Dropped events that were not `face.update` (only when a queue held nothing else). */
  droppedCritical: number;
  /** Events not sent because they exceeded `maxMessageBytes`. */
  oversize: number;
  /** Connections refused because of `maxSubscribers`. */
  refused: number;
  badFilter: number;
  heartbeatTimeouts: number;
  perSubscriber: SubscriberStats[];
}

const MAX_INBOUND_BYTES = 4096;

export class EventsServer {
  readonly #server: Server | undefined;
  readonly #options: Required<Omit<EventsServerOptions, 'bus' | 'logger' | 'queue'>>;
  readonly #queueOptions: SubscriberQueueOptions;
  readonly #log: Logger | undefined;
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_INBOUND_BYTES,
    perMessageDeflate: false,
  });
  readonly #subscribers = new Map<number, EventsSubscriber>();
  readonly #subscription: Subscription;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #lifecycle = new CloseOnce('events server', () => this.#teardown());
  #nextId = 1;
  #droppedGone = 0;
  #droppedCriticalGone = 0;
  #oversize = 0;
  #refused = 0;
  #badFilter = 0;
  #heartbeatTimeouts = 0;

  /**
   * `server`: attach to this HTTP server's `upgrade` event and take the upgrades for `path` (others are left to
   * other listeners). Without it, upgrades come only through `handleUpgrade` (the app's UpgradeGate routes them).
   */
  constructor(server: Server | undefined, options: EventsServerOptions) {
    this.#server = server;
    const { bus, logger, queue, ...rest } = options;
    this.#options = { ...EVENTS_SERVER_DEFAULTS, ...stripUndefined(rest) };
    this.#queueOptions = queue ?? {};
    this.#log = logger?.child({ component: 'events' });
    if (!(this.#options.heartbeatMs > 0)) throw new RangeError('heartbeatMs must be > 0');
    if (!(this.#options.maxSubscribers >= 0)) throw new RangeError('maxSubscribers must be >= 0');
    this.#subscription = bus.subscribe((event) => this.#fanOut(event));
    this.#heartbeat = setInterval(() => this.#tick(), this.#options.heartbeatMs);
    this.#heartbeat.unref();
    server?.on('upgrade', this.#onUpgrade);
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /** Counters for /metrics and the API. */
  get stats(): EventsServerStats {
    const perSubscriber = [...this.#subscribers.values()].map((sub) => sub.stats);
    const sum = (key: 'queued' | 'queuedBytes' | 'dropped' | 'droppedCritical') =>
      perSubscriber.reduce((total, s) => total + s[key], 0);
    return {
      subscribers: this.#subscribers.size,
      queued: sum('queued'),
      queuedBytes: sum('queuedBytes'),
      dropped: this.#droppedGone + sum('dropped'),
      droppedCritical: this.#droppedCriticalGone + sum('droppedCritical'),
      oversize: this.#oversize,
      refused: this.#refused,
      badFilter: this.#badFilter,
      heartbeatTimeouts: this.#heartbeatTimeouts,
      perSubscriber,
    };
  }

  /** Stops accepting, flushes and closes every subscriber (bounded in time), detaches from the bus. Idempotent. */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  /** Attached to a server: upgrades for our path (normalised as URL parsing does); others are another's. */
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (upgradePath(req) !== this.#options.path) return; // another endpoint's (e.g. /signal)
    this.handleUpgrade(req, socket, head);
  };

  /** Takes an upgrade routed here, whatever its path: it becomes a subscriber, or is answered and closed. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      refuse(socket, 503, 'INVALID_STATE', 'the events server is shutting down');
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, q === -1 ? '' : url.slice(q)));
  }

  #onConnection(ws: WebSocket, search: string): void {
    ws.on('error', (err) => this.#log?.debug({ err: errorMessage(err) }, 'subscriber socket error'));
    if (this.closed) {
      ws.close(EVENTS_CLOSE_CODES.shutdown, 'server shutting down');
      return;
    }
    let filter: EventsQuery;
    try {
      filter = parseEventsQuery(search);
    } catch (err) {
      this.#badFilter++;
      this.#refuse(ws, EVENTS_CLOSE_CODES.badFilter, errorCode(err), errorMessage(err));
      return;
    }
    if (this.#subscribers.size >= this.#options.maxSubscribers) {
      this.#refused++;
      const message = `subscriber limit reached (${this.#options.maxSubscribers}); try again later`;
      this.#refuse(ws, EVENTS_CLOSE_CODES.tooManySubscribers, 'EVENTS_TOO_MANY_SUBSCRIBERS', message);
      return;
    }
    const sub = new EventsSubscriber(this.#nextId++, ws, filter, this.#queueOptions);
    this.#subscribers.set(sub.id, sub);
    ws.on('close', () => this.#forget(sub));
    const { streams, types } = sub.stats;
    this.#log?.info({ subscriber: sub.id, streams: streams ?? 'all', types: types ?? 'all' }, 'subscriber connected');
  }

  #refuse(ws: WebSocket, closeCode: number, code: string, message: string): void {
    ws.send(encodeEvent({ type: 'error', code, message }));
    ws.close(closeCode, clipReason(`${code}: ${message}`));
    this.#log?.info({ code, message }, 'events subscriber refused');
  }

  #forget(sub: EventsSubscriber): void {
    if (this.#subscribers.get(sub.id) !== sub) return;
    this.#subscribers.delete(sub.id);
    const q = sub.queue.stats;
    this.#droppedGone += q.dropped;
    this.#droppedCriticalGone += q.droppedCritical;
    sub.queue.clear();
    this.#log?.info({ subscriber: sub.id, sent: q.sent, dropped: q.dropped }, 'subscriber gone');
  }

  #fanOut(event: BusEvent): void {
    let data: string | undefined;
    let bytes = 0;
    for (const sub of this.#subscribers.values()) {
      if (!sub.wants(event)) continue;
      if (data === undefined) {
        data = encodeEvent(event);
        bytes = Buffer.byteLength(data);
        if (bytes > this.#options.maxMessageBytes) {
          this.#oversize++;
          this.#log?.warn({ type: event.type, streamId: event.streamId, bytes }, 'event over maxMessageBytes not sent');
          return;
        }
      }
      sub.queue.push(event.type, data, bytes);
    }
  }

  #tick(): void {
    for (const sub of this.#subscribers.values()) {
      if (sub.heartbeat()) continue;
      this.#heartbeatTimeouts++;
      this.#log?.info({ subscriber: sub.id }, 'subscriber missed a heartbeat; terminating');
      sub.ws.terminate();
      this.#forget(sub);
    }
  }

  async #teardown(): Promise<void> {
    this.#server?.off('upgrade', this.#onUpgrade);
    clearInterval(this.#heartbeat);
    this.#subscription.unsubscribe();
    const { closeTimeoutMs, closeHandshakeMs } = this.#options;
    await Promise.all(
      [...this.#subscribers.values()].map(async (sub) => {
        await sub.closeGracefully(
          EVENTS_CLOSE_CODES.shutdown,
          'server shutting down',
          closeTimeoutMs,
          closeHandshakeMs,
        );
        this.#forget(sub);
      }),
    );
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/** A close reason is at most 123 bytes of UTF-8. */
function clipReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
