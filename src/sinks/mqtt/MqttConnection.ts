import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { CloseOnce } from '../../core/CloseOnce.js';
import type { ErrorCode } from '../../core/errors.js';
import { type Logger, redactUrl } from '../../core/logger.js';
import { TypedEmitter } from '../../core/TypedEmitter.js';
import type { OutMessage } from './MqttOutbox.js';

/**
 * `connecting`: the first attempt is under way; `connected`; `disconnected`: the broker is unreachable or the
 * connection dropped, retrying with backoff; `unauthorized`: the broker refused our credentials, retrying slowly
 * (at the longest backoff); `closed`: the sink was closed.
 */
export const MQTT_STATES = ['connecting', 'connected', 'disconnected', 'unauthorized', 'closed'] as const;
export type MqttState = (typeof MQTT_STATES)[number];

export interface MqttConnectionOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  keepaliveMs: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** The last will: what the broker publishes when we vanish without a DISCONNECT. */
  will: { topic: string; payload: string };
  logger: Logger;
}

export interface MqttConnectionEvents {
  /** A connection is up (first or again). */
  connected: () => void;
  /** A connection that was up is gone (what was handed to the client and not confirmed is the sink's to redo). */
  disconnected: () => void;
  message: (topic: string, payload: string) => void;
}

export interface MqttFailure {
  code: ErrorCode;
  message: string;
}

/** CONNACK return codes (MQTT 3.1.1: 4, 5; MQTT 5: 0x86, 0x87) that mean "your credentials". */
const UNAUTHORIZED_CODES = new Set([4, 5, 0x86, 0x87]);

/**
 * One broker connection with our own reconnect schedule: mqtt.js's own reconnect (a fixed period) is off, each
 * attempt is a fresh client, and the delay doubles from `reconnectMinMs` to `reconnectMaxMs` (refused credentials
 * wait the longest). The client's own offline queue is off too (`queueQoSZero: false`, nothing is published while
 * disconnected): the sink's bounded outbox is the only queue.
 */
export class MqttConnection extends TypedEmitter<MqttConnectionEvents> {
  readonly url: string;
  readonly #options: MqttConnectionOptions;
  readonly #logger: Logger;
  readonly #lifecycle = new CloseOnce('MQTT connection', () => this.#teardown());
  #client: MqttClient | undefined;
  #state: MqttState = 'connecting';
  #since = Date.now();
  #failure: MqttFailure | undefined;
  #attempts = 0;
  #connects = 0;
  #retry: NodeJS.Timeout | undefined;
  #subscriptions: string[] = [];

  constructor(options: MqttConnectionOptions) {
    super();
    this.#options = options;
    this.url = redactUrl(options.url);
    this.#logger = options.logger;
  }

  get state(): MqttState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** When the state last changed, ms since the epoch. */
  get since(): number {
    return this.#since;
  }

  /** Why the last attempt or connection failed (kept until the next successful connect). */
  get failure(): MqttFailure | undefined {
    return this.#failure;
  }

  /** Successful connections since start. */
  get connects(): number {
    return this.#connects;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  start(): void {
    this.#lifecycle.assertOpen();
    this.#logger.info({ url: this.url, clientId: this.#options.clientId }, 'mqtt connecting');
    this.#attempt();
  }

  /** Subscribes now and after every reconnect. */
  subscribe(topic: string): void {
    this.#subscriptions.push(topic);
    if (this.connected) this.#client?.subscribe(topic, { qos: 0 });
  }

  /**
   * Hands one message to the client; `done` is called once it is written (QoS 0) or acknowledged (QoS 1, 2), or
   * with an error. Returns false (and never calls `done`) when there is no connection.
   */
  publish(message: OutMessage, done: (err?: Error) => void): boolean {
    const client = this.#client;
    if (!client || !this.connected) return false;
    client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, (err) => {
      if (client === this.#client) done(err ?? undefined);
    });
    return true;
  }

  /**
   * Ends the connection: with a DISCONNECT when connected (the broker then drops our last will: publish the
   * offline state first), within `timeoutMs`. Idempotent.
   */
  close(timeoutMs = 2000): Promise<void> {
    return this.#lifecycle.close().then(() => this.#endWithin(timeoutMs));
  }

  #attempt(): void {
    this.#retry = undefined;
    if (this.closed) return;
    const o = this.#options;
    const options: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: 4,
      clean: true,
      keepalive: Math.round(o.keepaliveMs / 1000),
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: true },
    };
    let client: MqttClient;
    try {
      client = connect(o.url, options);
    } catch (err) {
      this.#fail({ code: 'MQTT_UNREACHABLE', message: this.#scrub((err as Error).message) });
      this.#scheduleRetry();
      return;
    }
    this.#client = client;
    client.on('connect', () => {
      if (client !== this.#client) return;
      this.#attempts = 0;
      this.#connects++;
      this.#failure = undefined;
      this.#setState('connected');
      this.#logger.info({ url: this.url, connects: this.#connects }, 'mqtt connected');
      for (const topic of this.#subscriptions) client.subscribe(topic, { qos: 0 });
      this.emit('connected');
    });
    client.on('message', (topic, payload) => {
      if (client === this.#client) this.emit('message', topic, payload.toString('utf8'));
    });
    client.on('error', (err) => {
      if (client === this.#client) this.#fail(this.#classify(err));
    });
    client.on('close', () => {
      if (client !== this.#client || this.closed) return;
      this.#client = undefined;
      client.removeAllListeners('connect');
      client.on('error', () => undefined); // a late error of a discarded client must not throw
      client.end(true);
      const wasConnected = this.connected;
      if (wasConnected) {
        this.#failure ??= { code: 'MQTT_UNREACHABLE', message: 'the broker closed the connection' };
        this.#logger.warn({ url: this.url, reason: this.#failure.message }, 'mqtt connection lost; reconnecting');
        this.#setState('disconnected');
        this.emit('disconnected');
      } else {
        this.#failure ??= { code: 'MQTT_UNREACHABLE', message: 'the connection closed before the broker answered' };
        this.#setState(this.#failure.code === 'MQTT_UNAUTHORIZED' ? 'unauthorized' : 'disconnected');
      }
      this.#scheduleRetry();
    });
  }

  #fail(failure: MqttFailure): void {
    const first = this.#failure?.code !== failure.code;
    this.#failure = failure;
    if (failure.code === 'MQTT_UNAUTHORIZED') {
      if (this.#state !== 'unauthorized') {
        this.#logger.error({ url: this.url, reason: failure.message }, 'mqtt broker refused our credentials');
      }
      this.#setState('unauthorized');
    } else if (this.connected) {
      // The connection is dropping: the close that follows logs it.
    } else if (first) {
      this.#logger.warn({ url: this.url, code: failure.code, reason: failure.message }, 'mqtt broker unavailable');
    } else {
      this.#logger.debug({ url: this.url, reason: failure.message }, 'mqtt broker still unavailable');
    }
  }

  #scheduleRetry(): void {
    if (this.closed || this.#retry) return;
    const { reconnectMinMs: min, reconnectMaxMs: max } = this.#options;
    const delay = this.#state === 'unauthorized' ? max : Math.min(max, min * 2 ** Math.min(this.#attempts, 30));
    this.#attempts++;
    this.#retry = setTimeout(() => this.#attempt(), delay);
    this.#retry.unref();
  }

  #classify(err: Error & { code?: unknown }): MqttFailure {
    const message = this.#scrub(err.message);
    if (typeof err.code === 'number') {
      return UNAUTHORIZED_CODES.has(err.code)
        ? { code: 'MQTT_UNAUTHORIZED', message }
        : { code: 'MQTT_REFUSED', message };
    }
    return { code: 'MQTT_UNREACHABLE', message };
  }

  /** Error texts may quote the URL: never with its password. */
  #scrub(text: string): string {
    const { url, password } = this.#options;
    let out = text.split(url).join(this.url);
    if (password) out = out.split(password).join('***');
    return out;
  }

  #setState(state: MqttState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#since = Date.now();
  }

  #teardown(): void {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  async #endWithin(timeoutMs: number): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#setState('closed');
    if (!client) return;
    client.on('error', () => undefined);
    if (!client.connected) {
      await new Promise<void>((resolve) => client.end(true, () => resolve()));
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.end(true, () => resolve());
      }, timeoutMs);
      timer.unref();
      client.end(false, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
