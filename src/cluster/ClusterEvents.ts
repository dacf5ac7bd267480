import type { NatsConnection, Subscription as NatsSubscription } from 'nats';
import { CloseOnce } from '../core/CloseOnce.js';
import type { EventBus, Subscription } from '../core/EventBus.js';
import { type BusEvent, encodeEvent, rememberEncoding } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { ClusterNames } from './subjects.js';

export interface ClusterEventsStats {
  /** This node's events published to the broker, and their bytes. */
  out: number;
  outBytes: number;
  /** Other nodes' events handed to the local bus, and their bytes. */
  in: number;
  inBytes: number;
  /** This node's events not sent because the broker was away (local subscribers had them). */
  notSent: number;
  /** Messages from the broker that were not valid events (or too large): not handed on. */
  invalid: number;
}

/**
 * The event transport: every event of this node's streams goes to `<name>.events.<stream>.<type>` as the wire JSON
 * of `/events` (encoded once, the same text every sink sends); every other node's events come back from there onto
 * the local bus, marked remote, so that `/events` serves them with the same filters and bounded queues and nothing
 * publishes them again (the connection has no echo: a node never gets its own back).
 */
export class ClusterEvents {
  readonly #bus: EventBus;
  readonly #names: ClusterNames;
  readonly #nc: () => NatsConnection | undefined;
  readonly #maxBytes: number;
  readonly #logger: Logger;
  readonly #onRemote: (event: BusEvent) => void;
  readonly #local: Subscription;
  #remote: NatsSubscription | undefined;
  readonly #lifecycle = new CloseOnce('cluster events', () => this.#teardown());
  readonly #stats: ClusterEventsStats = { out: 0, outBytes: 0, in: 0, inBytes: 0, notSent: 0, invalid: 0 };

  constructor(options: {
    bus: EventBus;
    names: ClusterNames;
    /** The connection while it is up. */
    nc: () => NatsConnection | undefined;
    /** Largest event taken from the broker, bytes (as `/events` sends at most). */
    maxBytes: number;
    /** Told every remote event after the bus took it. */
    onRemote: (event: BusEvent) => void;
    logger: Logger;
  }) {
    this.#bus = options.bus;
    this.#names = options.names;
    this.#nc = options.nc;
    this.#maxBytes = options.maxBytes;
    this.#onRemote = options.onRemote;
    this.#logger = options.logger;
    this.#local = this.#bus.subscribe((event) => this.#send(event), { localOnly: true });
  }

  get stats(): ClusterEventsStats {
    return { ...this.#stats };
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /** Subscribes to the other nodes' events (once: nats.js subscribes again by itself after a reconnect). */
  listen(nc: NatsConnection): void {
    if (this.#remote || this.closed) return;
    this.#remote = nc.subscribe(this.#names.events, { callback: (err, msg) => !err && this.#receive(msg.data) });
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #send(event: BusEvent): void {
    const nc = this.#nc();
    if (!nc) {
      this.#stats.notSent++;
      return;
    }
    const text = encodeEvent(event);
    nc.publish(this.#names.event(event), text);
    this.#stats.out++;
    this.#stats.outBytes += Buffer.byteLength(text);
  }

  #receive(data: Uint8Array): void {
    if (this.closed) return;
    let event: BusEvent;
    let text: string;
    try {
      if (data.length > this.#maxBytes) throw new RangeError('too large');
      text = Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
      event = JSON.parse(text) as BusEvent;
      if (typeof event === 'object' && event !== null) rememberEncoding(event, text); // before the sinks encode it
      this.#bus.publish(event, 'remote'); // validated there against the schema
    } catch (err) {
      if (this.#stats.invalid++ % 1000 === 0) {
        this.#logger.warn({ err: (err as Error).message, bytes: data.length }, 'invalid event from the cluster');
      }
      return;
    }
    this.#stats.in++;
    this.#stats.inBytes += data.length;
    this.#onRemote(event);
  }

  #teardown(): void {
    this.#local.unsubscribe();
    this.#remote?.unsubscribe();
  }
}
