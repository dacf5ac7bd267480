/**
 * One `/events` subscriber: its WebSocket, its filter, its bounded queue (SubscriberQueue) and its heartbeat
 * state. Owned by EventsServer, which keeps it in a Map and forgets it on `close`.
 */
import type { WebSocket } from 'ws';
import type { BusEvent } from '../core/events.js';
import type { EventsQuery } from './parseEventsQuery.js';
import { type QueueSocket, SubscriberQueue, type SubscriberQueueOptions } from './SubscriberQueue.js';

export interface SubscriberStats {
  id: number;
  /** null: every stream / every type. */
  streams: string[] | null;
  types: string[] | null;
  queued: number;
  queuedBytes: number;
  /** Bytes in the socket's own buffer (bounded by the queue's high-water mark plus one message). */
  bufferedAmount: number;
  sent: number;
  dropped: number;
  droppedCritical: number;
}

export class EventsSubscriber {
  readonly id: number;
  readonly ws: WebSocket;
  readonly filter: EventsQuery;
  readonly queue: SubscriberQueue;
  /** Answered the last ping (or none was sent yet). */
  #alive = true;

  constructor(id: number, ws: WebSocket, filter: EventsQuery, queueOptions: SubscriberQueueOptions) {
    this.id = id;
    this.ws = ws;
    this.filter = filter;
    const socket: QueueSocket = {
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      get writable() {
        return ws.readyState === ws.OPEN;
      },
      send: (data, onWritten) => ws.send(data, onWritten),
    };
    this.queue = new SubscriberQueue(socket, queueOptions);
    ws.on('pong', () => {
      this.#alive = true;
    });
  }

  wants(event: BusEvent): boolean {
    const { streams, types } = this.filter;
    return (!types || types.has(event.type)) && (!streams || streams.has(event.streamId));
  }

  /**
   * One heartbeat tick: false when the peer did not answer the previous ping (the caller terminates it);
   * otherwise sends a new ping and lets the queue move.
   */
  heartbeat(): boolean {
    if (!this.#alive) return false;
    this.#alive = false;
    this.ws.ping();
    this.queue.flush();
    return true;
  }

  get stats(): SubscriberStats {
    const q = this.queue.stats;
    return {
      id: this.id,
      streams: this.filter.streams ? [...this.filter.streams] : null,
      types: this.filter.types ? [...this.filter.types] : null,
      queued: q.queued,
      queuedBytes: q.queuedBytes,
      bufferedAmount: this.ws.bufferedAmount,
      sent: q.sent,
      dropped: q.dropped,
      droppedCritical: q.droppedCritical,
    };
  }

  /**
   * Graceful end: flush what is queued until `flushMs` passed (or the peer caught up), close with `code`, and
   * terminate the peer when it does not finish the closing handshake within `handshakeMs`.
   */
  async closeGracefully(code: number, reason: string, flushMs: number, handshakeMs: number): Promise<void> {
    const ws = this.ws;
    const deadline = Date.now() + flushMs;
    while (ws.readyState === ws.OPEN && !this.queue.flush() && Date.now() < deadline) await sleep(10);
    const closed = new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) resolve();
      else ws.once('close', () => resolve());
    });
    if (ws.readyState === ws.OPEN) ws.close(code, reason);
    const timer = setTimeout(() => ws.terminate(), handshakeMs);
    await closed;
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
