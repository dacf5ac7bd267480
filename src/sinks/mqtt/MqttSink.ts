import { hostname } from 'node:os';
import { CloseOnce } from '../../core/CloseOnce.js';
import type { MqttConfig } from '../../core/config.js';
import type { EventBus, Subscription } from '../../core/EventBus.js';
import { type BusEvent, encodeEvent, type StreamStateEvent } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import { UpdateRateLimiter } from '../../core/UpdateRateLimiter.js';
import { FaceTally } from './FaceTally.js';
import { discoveryMessages, discoveryTopics, type StreamDescription } from './homeAssistant.js';
import { MqttConnection, type MqttFailure, type MqttState } from './MqttConnection.js';
import { type DropCause, MqttOutbox, type OutMessage } from './MqttOutbox.js';
import { AVAILABLE, MqttTopics, UNAVAILABLE } from './mqttTopics.js';

export interface MqttSinkOptions {
  config: Readonly<MqttConfig>;
  bus: EventBus;
  /** The stream's name and kind, for the Home Assistant device; undefined when it is gone. */
  describeStream(id: string): Omit<StreamDescription, 'id'> | undefined;
  logger: Logger;
}

/** What `/healthz` shows and `/metrics` exports (no secret: the URL is shown without its user info). */
export interface MqttSinkStats {
  state: MqttState;
  url: string;
  /** When the state last changed, ms since the epoch. */
  since: number;
  error?: MqttFailure;
  connects: number;
  /** Messages the broker took (written for QoS 0, acknowledged for QoS 1 and 2). */
  published: number;
  /** Events waiting in the outbox (at most `queueLimit`). */
  queued: number;
  /** State topics waiting to be (re)published. */
  pendingState: number;
  dropped: Record<DropCause, number>;
}

/** Messages handed to the client and not yet confirmed, at most: the client's own buffers stay small. */
const MAX_IN_FLIGHT = 64;
/** How long `close()` waits for the outbox to reach the broker. */
const FLUSH_TIMEOUT_MS = 2000;

interface StreamEntry {
  tally: FaceTally;
  described?: StreamDescription;
  dirty: boolean;
  lastSummary?: string;
}

/**
 * The MQTT sink (docs/events.md, "MQTT"): a bus subscriber that publishes stream state, face events, a per-stream
 * summary and Home Assistant discovery to a broker. Publishing from the bus is synchronous and O(1): events go
 * into a bounded outbox, which a pump hands to the client while it is connected (at most `MAX_IN_FLIGHT` at a
 * time). A broker that goes away costs at most the outbox: the server never waits for it.
 */
export class MqttSink {
  readonly #config: Readonly<MqttConfig>;
  readonly #options: MqttSinkOptions;
  readonly #logger: Logger;
  readonly #topics: MqttTopics;
  readonly #outbox: MqttOutbox;
  readonly #connection: MqttConnection;
  readonly #subscription: Subscription;
  readonly #updates: UpdateRateLimiter;
  readonly #streams = new Map<string, StreamEntry>();
  readonly #inFlight = new Set<OutMessage>();
  readonly #summaryTimer: NodeJS.Timeout;
  readonly #lifecycle = new CloseOnce('MQTT sink', () => this.#teardown());
  readonly #announce = new Set<string>();
  #pumpScheduled = false;
  #published = 0;
  #shuttingDown = false;

  constructor(options: MqttSinkOptions) {
    const config = options.config;
    this.#config = config;
    this.#options = options;
    this.#logger = options.logger;
    this.#topics = new MqttTopics(config.topicPrefix);
    this.#outbox = new MqttOutbox(config.queueLimit);
    this.#updates = new UpdateRateLimiter({ maxPerSecond: 1000 / config.faceUpdateIntervalMs });
    this.#outbox.setState(this.#topics.available, AVAILABLE, 1, true);
    this.#connection = new MqttConnection({
      url: config.url,
      clientId: config.clientId ?? `emostream-${hostname()}-${process.pid}`,
      username: config.username,
      password: config.password,
      keepaliveMs: config.keepaliveMs,
      connectTimeoutMs: config.connectTimeoutMs,
      reconnectMinMs: config.reconnectMinMs,
      reconnectMaxMs: config.reconnectMaxMs,
      will: { topic: this.#topics.available, payload: UNAVAILABLE },
      logger: options.logger,
    });
    this.#connection.on('connected', () => {
      this.#outbox.markAllStatePending(); // a restarted broker may have lost the retained state
      this.#schedulePump();
    });
    this.#connection.on('disconnected', () => {
      this.#outbox.requeue([...this.#inFlight]);
      this.#inFlight.clear();
    });
    const discovery = config.homeAssistant;
    if (discovery.discovery) {
      const status = `${discovery.discoveryPrefix}/status`;
      this.#connection.subscribe(status);
      this.#connection.on('message', (topic, payload) => {
        // Home Assistant's birth message: it (re)started and wants the discovery configs and states again.
        if (topic === status && payload === 'online') {
          this.#outbox.markAllStatePending((t) => t !== this.#topics.available);
          this.#schedulePump();
        }
      });
    }
    // This node's streams only: in a cluster every node publishes its own (docs/scaling.md), never another's again.
    this.#subscription = options.bus.subscribe((event) => this.#onEvent(event), { localOnly: true });
    this.#summaryTimer = setInterval(() => this.#publishSummaries(), config.summaryIntervalMs);
    this.#summaryTimer.unref();
    this.#connection.start();
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get topics(): MqttTopics {
    return this.#topics;
  }

  get stats(): MqttSinkStats {
    const c = this.#connection;
    return {
      state: c.state,
      url: c.url,
      since: c.since,
      ...(c.failure ? { error: c.failure } : {}),
      connects: c.connects,
      published: this.#published,
      queued: this.#outbox.queuedEvents,
      pendingState: this.#outbox.pendingState,
      dropped: { ...this.#outbox.dropped },
    };
  }

  /**
   * The server is stopping: streams that close from now on are not "removed" for Home Assistant (their entities
   * stay, unavailable, and come back with the server), except WebRTC streams, which will not come back.
   */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  /** Publishes the last summaries and `offline`, waits up to 2 s for the outbox to drain, disconnects. */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #onEvent(event: BusEvent): void {
    if (this.closed) return;
    const entry = this.#stream(event.streamId);
    if (event.type === 'stream.state') {
      this.#onState(event, entry);
      return;
    }
    entry.tally.apply(event);
    entry.dirty = true;
    if (event.type === 'face.end') this.#updates.forget(event.trackId);
    if (event.type === 'face.update') {
      if (!this.#config.faceUpdates || !this.#updates.allow(event.trackId, event.ts)) return;
    }
    this.#outbox.pushEvent({
      topic: this.#topics.face(event.streamId, event.type),
      payload: encodeEvent(event),
      qos: this.#config.qos,
      retain: false,
      state: false,
      droppable: event.type === 'face.update',
    });
    this.#schedulePump();
  }

  #onState(event: StreamStateEvent, entry: StreamEntry): void {
    const id = event.streamId;
    if (event.state !== 'live' && event.state !== 'starting') {
      entry.tally.clear(event.ts);
      entry.dirty = true;
    }
    const removed = event.state === 'closed' && event.reason === 'removed';
    const forget = removed && (!this.#shuttingDown || entry.described?.kind === 'webrtc');
    if (!forget) {
      this.#outbox.setState(this.#topics.state(id), encodeEvent(event), this.#config.qos, this.#config.retain);
      this.#schedulePump();
      return;
    }
    // Removed: tell the live subscribers, then clear every retained topic of the stream and its entities.
    this.#outbox.pushEvent({
      topic: this.#topics.state(id),
      payload: encodeEvent(event),
      qos: this.#config.qos,
      retain: false,
      state: false,
    });
    this.#streams.delete(id);
    this.#announce.delete(id);
    const cleared = [this.#topics.state(id), this.#topics.summary(id)];
    if (this.#config.homeAssistant.discovery) cleared.push(...discoveryTopics(this.#discovery(), id));
    for (const topic of cleared) this.#outbox.setState(topic, '', 1, true);
    this.#schedulePump();
  }

  #stream(id: string): StreamEntry {
    let entry = this.#streams.get(id);
    if (!entry) {
      entry = { tally: new FaceTally(), dirty: true };
      this.#streams.set(id, entry);
      // Described on the next turn: the stream manager registers a stream right after its first event.
      this.#announce.add(id);
      this.#schedulePump();
    }
    return entry;
  }

  #discovery() {
    return { topics: this.#topics, discoveryPrefix: this.#config.homeAssistant.discoveryPrefix };
  }

  #announceStreams(): void {
    for (const id of this.#announce) {
      const entry = this.#streams.get(id);
      if (!entry) continue;
      const known = this.#options.describeStream(id);
      entry.described = { id, name: known?.name ?? id, ...(known?.kind ? { kind: known.kind } : {}) };
      if (!this.#config.homeAssistant.discovery) continue;
      for (const [topic, payload] of discoveryMessages(this.#discovery(), entry.described)) {
        this.#outbox.setState(topic, payload, 1, true);
      }
    }
    this.#announce.clear();
  }

  #publishSummaries(): void {
    for (const [id, entry] of this.#streams) {
      if (!entry.dirty) continue;
      entry.dirty = false;
      const summary = entry.tally.summary(id);
      const key = JSON.stringify({ ...summary, ts: 0 });
      if (key === entry.lastSummary) continue;
      entry.lastSummary = key;
      this.#outbox.setState(this.#topics.summary(id), JSON.stringify(summary), this.#config.qos, this.#config.retain);
    }
    this.#schedulePump();
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#announce.size > 0) this.#announceStreams();
    while (this.#connection.connected && this.#inFlight.size < MAX_IN_FLIGHT) {
      const message = this.#outbox.next();
      if (!message) break;
      this.#inFlight.add(message);
      const handed = this.#connection.publish(message, (err) => {
        if (!this.#inFlight.delete(message)) return;
        if (err) {
          // Only a connection going away fails a publish (MQTT 3.1.1): it goes out again after the reconnect,
          // which pumps (no pump from here, so a failing connection cannot spin).
          this.#outbox.requeue([message]);
          return;
        }
        this.#published++;
        if (message.state) this.#outbox.stateSent(message.topic, message.payload);
        this.#schedulePump();
      });
      if (!handed) {
        this.#inFlight.delete(message);
        this.#outbox.requeue([message]);
        break;
      }
    }
  }

  async #teardown(): Promise<void> {
    this.#subscription.unsubscribe();
    clearInterval(this.#summaryTimer);
    this.#publishSummaries();
    const deadline = Date.now() + FLUSH_TIMEOUT_MS;
    await this.#drain(deadline);
    // Last: a clean DISCONNECT makes the broker drop our last will, so we say `offline` ourselves.
    this.#outbox.setState(this.#topics.available, UNAVAILABLE, 1, true);
    await this.#drain(deadline);
    const lost = this.#outbox.discard(this.#inFlight.size);
    this.#inFlight.clear();
    if (lost > 0) this.#logger.warn({ lost }, 'mqtt: messages not delivered at shutdown');
    await this.#connection.close();
    this.#logger.info('mqtt sink closed');
  }

  /** Pumps until the outbox and the in-flight messages are empty, the connection is gone, or the deadline. */
  async #drain(deadline: number): Promise<void> {
    this.#pump();
    while (
      this.#connection.connected &&
      (this.#inFlight.size > 0 || this.#outbox.queuedEvents > 0 || this.#outbox.pendingState > 0) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 10));
      this.#pump();
    }
  }
}
