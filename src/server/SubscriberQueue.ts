/**
 * The bounded outbound queue of one `/events` subscriber (docs/architecture.md: "a slow subscriber gets a bounded
 * queue and loses the oldest updates (counted), never the server's memory").
 *
 * - While the socket's `bufferedAmount` is under `highWaterMarkBytes` and nothing waits, an event is sent at once.
 * - Otherwise it waits here. Over `maxEvents` or `maxBytes`, the **oldest `face.update`** is dropped; only when the
 *   queue holds no `face.update` at all is the oldest event of another type dropped (counted apart as `critical`).
 * - Each time the socket takes data again, a `{"type":"dropped","count":N}` notice for the drops since the last
 *   notice goes out first, then the queued events in order.
 *
 * The socket calls `onWritten` when a message left its buffer; that (and `flush()` from the owner's timer) is what
 * moves the queue: no polling per subscriber. O(1) per push, send and drop.
 */
import { type BusEventType, encodeEvent } from '../core/events.js';

/** What the queue needs of a WebSocket (ws's `WebSocket` fits through a small adapter). */
export interface QueueSocket {
  /** Bytes accepted by `send` and not yet handed to the OS. */
  readonly bufferedAmount: number;
  /** False once the socket is closing: nothing more is sent. */
  readonly writable: boolean;
  /** Sends one text message; `onWritten` runs when it left the socket's buffer (or failed). */
  send(data: string, onWritten: () => void): void;
}

export interface SubscriberQueueOptions {
  /** Events held at most (default 1000). */
  maxEvents?: number;
  /** Bytes of queued messages held at most (default 1 MiB). */
  maxBytes?: number;
  /** The socket counts as backed up from this many buffered bytes (default 256 KiB). */
  highWaterMarkBytes?: number;
}

export const SUBSCRIBER_QUEUE_DEFAULTS = Object.freeze({
  maxEvents: 1000,
  maxBytes: 1024 * 1024,
  highWaterMarkBytes: 256 * 1024,
});

export interface SubscriberQueueStats {
  /** Events waiting now. */
  queued: number;
  queuedBytes: number;
  /** Messages handed to the socket (events and notices). */
  sent: number;
  /** Events dropped in total. */
  dropped: number;
  /** Of those, events that were not `face.update` (dropped only when no update was left to drop). */
  droppedCritical: number;
  /** Drops not yet announced with a `dropped` notice. */
  pendingDropped: number;
}

interface Node {
  type: BusEventType;
  data: string;
  bytes: number;
  prev: Node | undefined;
  next: Node | undefined;
  removed: boolean;
}

export class SubscriberQueue {
  readonly #socket: QueueSocket;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #highWater: number;
  #head: Node | undefined;
  #tail: Node | undefined;
  #count = 0;
  #bytes = 0;
  /** `face.update` nodes oldest first; entries before `#updHead` are consumed, removed ones are skipped. */
  #updates: Node[] = [];
  #updHead = 0;
  #sent = 0;
  #dropped = 0;
  #droppedCritical = 0;
  #pendingDropped = 0;
  #flushScheduled = false;
  readonly #onWritten = (): void => {
    if ((this.#count > 0 || this.#pendingDropped > 0) && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.flush();
      });
    }
  };

  constructor(socket: QueueSocket, options: SubscriberQueueOptions = {}) {
    this.#socket = socket;
    this.#maxEvents = options.maxEvents ?? SUBSCRIBER_QUEUE_DEFAULTS.maxEvents;
    this.#maxBytes = options.maxBytes ?? SUBSCRIBER_QUEUE_DEFAULTS.maxBytes;
    this.#highWater = options.highWaterMarkBytes ?? SUBSCRIBER_QUEUE_DEFAULTS.highWaterMarkBytes;
    if (!(this.#maxEvents >= 1)) throw new RangeError('maxEvents must be >= 1');
    if (!(this.#maxBytes >= 1)) throw new RangeError('maxBytes must be >= 1');
    if (!(this.#highWater >= 0)) throw new RangeError('highWaterMarkBytes must be >= 0');
  }

  get stats(): SubscriberQueueStats {
    return {
      queued: this.#count,
      queuedBytes: this.#bytes,
      sent: this.#sent,
      dropped: this.#dropped,
      droppedCritical: this.#droppedCritical,
      pendingDropped: this.#pendingDropped,
    };
  }

  /** True when nothing waits here and the socket's buffer is empty. */
  get drained(): boolean {
    return this.#count === 0 && this.#pendingDropped === 0 && this.#socket.bufferedAmount === 0;
  }

  /** Sends or queues one encoded event (`bytes` = its UTF-8 length). */
  push(type: BusEventType, data: string, bytes: number): void {
    if (!this.#socket.writable) return;
    if (this.#count === 0 && this.#pendingDropped === 0 && this.#socket.bufferedAmount < this.#highWater) {
      this.#send(data);
      return;
    }
    const node: Node = {
      type,
      data,
      bytes,
      prev: this.#tail,
      next: undefined,
      removed: false,
    };
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#count++;
    this.#bytes += bytes;
    if (type === 'face.update') this.#updates.push(node);
    while (this.#count > 0 && (this.#count > this.#maxEvents || this.#bytes > this.#maxBytes)) this.#dropOne();
    this.flush();
  }

  /** Sends the pending notice and queued events while the socket has room. Returns `drained`. */
  flush(): boolean {
    while (this.#socket.writable && this.#socket.bufferedAmount < this.#highWater) {
      if (this.#pendingDropped > 0) {
        const count = this.#pendingDropped;
        this.#pendingDropped = 0;
        this.#send(encodeEvent({ type: 'dropped', count }));
        continue;
      }
      const node = this.#head;
      if (!node) break;
      this.#unlink(node);
      this.#send(node.data);
    }
    this.#compactUpdates();
    return this.drained;
  }

  /** Forgets everything queued (the subscriber is gone). */
  clear(): void {
    this.#head = undefined;
    this.#tail = undefined;
    this.#count = 0;
    this.#bytes = 0;
    this.#updates = [];
    this.#updHead = 0;
    this.#pendingDropped = 0;
  }

  #send(data: string): void {
    this.#sent++;
    this.#socket.send(data, this.#onWritten);
  }

  #dropOne(): void {
    let victim: Node | undefined;
    while (this.#updHead < this.#updates.length) {
      const candidate = this.#updates[this.#updHead++];
      if (candidate && !candidate.removed) {
        victim = candidate;
        break;
      }
    }
    if (!victim) {
      victim = this.#head;
      if (!victim) return;
      this.#droppedCritical++;
    }
    this.#unlink(victim);
    this.#dropped++;
    this.#pendingDropped++;
  }

  #unlink(node: Node): void {
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
    node.removed = true;
    this.#count--;
    this.#bytes -= node.bytes;
  }

  /** Keeps the update index from growing: cut consumed and removed entries off its front. */
  #compactUpdates(): void {
    while (this.#updHead < this.#updates.length && this.#updates[this.#updHead]?.removed) this.#updHead++;
    if (this.#updHead === this.#updates.length) {
      this.#updates = [];
      this.#updHead = 0;
    } else if (this.#updHead > 1024 && this.#updHead * 2 > this.#updates.length) {
      this.#updates = this.#updates.slice(this.#updHead);
      this.#updHead = 0;
    }
  }
}
