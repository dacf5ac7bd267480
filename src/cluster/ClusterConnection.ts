import { readFileSync } from 'node:fs';
import { type ConnectionOptions, connect, credsAuthenticator, Events, type NatsConnection } from 'nats';
import { CloseOnce } from '../core/CloseOnce.js';
import type { ClusterConfig } from '../core/config.js';
import { AppError, type ErrorCode, errorMessage } from '../core/errors.js';
import { type Logger, redactUrl } from '../core/logger.js';
import { TypedEmitter } from '../core/TypedEmitter.js';

/**
 * `connecting`: no connection yet (a degraded start keeps trying); `connected`; `reconnecting`: the broker went
 * away, retrying with backoff; `closed`.
 */
export type ClusterState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ClusterConnectionStats {
  state: ClusterState;
  /** The broker URL(s) without credentials. */
  url: string;
  /** When the state last changed, ms since the epoch. */
  since: number;
  /** The last failure, until the next connect. */
  error?: { code: ErrorCode; message: string };
  connects: number;
  disconnects: number;
  /** Sent and received on this connection since start (NATS messages and payload bytes). */
  messages: { in: number; out: number };
  bytes: { in: number; out: number };
}

export interface ClusterConnectionEvents {
  connected: () => void;
  disconnected: () => void;
}

/**
 * The node's one connection to the NATS broker: nats.js's own reconnect with our backoff (doubling from
 * `reconnectMinMs` to `reconnectMaxMs`), pings every `renewMs` so that a silent broker is noticed within a few
 * renewals, and no echo (a node never receives what it published itself).
 */
export class ClusterConnection extends TypedEmitter<ClusterConnectionEvents> {
  readonly url: string;
  readonly #config: ClusterConfig;
  readonly #logger: Logger;
  readonly #lifecycle = new CloseOnce('cluster connection', () => this.#teardown());
  #nc: NatsConnection | undefined;
  #state: ClusterState = 'connecting';
  #since = Date.now();
  #error: { code: ErrorCode; message: string } | undefined;
  #connects = 0;
  #disconnects = 0;
  #delay: number;

  private constructor(config: ClusterConfig, logger: Logger) {
    super();
    this.#config = config;
    this.url = config.url
      .split(',')
      .map((u) => redactUrl(u.trim()))
      .join(',');
    this.#logger = logger;
    this.#delay = config.reconnectMinMs;
  }

  /**
   * Connects. Unreachable, refused or not a NATS server: throws `CLUSTER_UNREACHABLE` / `CLUSTER_UNAUTHORIZED` naming
   * the URL, unless `onUnreachable` is `degraded`: then it returns at once and keeps trying in the background.
   */
  static async open(config: ClusterConfig, node: string, logger: Logger): Promise<ClusterConnection> {
    const connection = new ClusterConnection(config, logger);
    const options = connection.#options(node);
    if (config.onUnreachable === 'fail') {
      connection.#adopt(await connection.#connectOnce(options));
      return connection;
    }
    connect({ ...options, waitOnFirstConnect: true }).then(
      (nc) => (connection.closed ? void nc.close() : connection.#adopt(nc)),
      (err) => connection.#noteError(err),
    );
    return connection;
  }

  get nc(): NatsConnection | undefined {
    return this.#state === 'connected' ? this.#nc : undefined;
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get stats(): ClusterConnectionStats {
    const s = this.#nc?.stats() ?? { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
    return {
      state: this.#state,
      url: this.url,
      since: this.#since,
      ...(this.#error ? { error: this.#error } : {}),
      connects: this.#connects,
      disconnects: this.#disconnects,
      messages: { in: s.inMsgs, out: s.outMsgs },
      bytes: { in: s.inBytes, out: s.outBytes },
    };
  }

  /** A failure of an operation on the broker, as ours (so that callers and `/healthz` see a catalogue code). */
  failure(err: unknown): AppError {
    return this.#failure(err);
  }

  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #options(node: string): ConnectionOptions {
    const c = this.#config;
    const options: ConnectionOptions = {
      servers: c.url.split(',').map((u) => u.trim()),
      name: `emostream-${node}`,
      noEcho: true,
      timeout: c.connectTimeoutMs,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => {
        const delay = this.#delay;
        this.#delay = Math.min(this.#delay * 2, c.reconnectMaxMs);
        return delay;
      },
      pingInterval: c.renewMs,
      maxPingOut: 2,
    };
    if (c.token) options.token = c.token;
    if (c.user) options.user = c.user;
    if (c.password) options.pass = c.password;
    if (c.credsFile) {
      let creds: Uint8Array;
      try {
        creds = readFileSync(c.credsFile);
      } catch (cause) {
        throw new AppError('CONFIG_INVALID', `cluster.credsFile ${c.credsFile}: cannot be read`, { cause });
      }
      options.authenticator = credsAuthenticator(creds);
    }
    return options;
  }

  /**
   * The first connection, bounded by `connectTimeoutMs` whatever the peer does (nats.js waits for ever on some peers
   * that are not NATS servers: an HTTP server answers its CONNECT with a 400).
   */
  async #connectOnce(options: ConnectionOptions): Promise<NatsConnection> {
    let timer: NodeJS.Timeout | undefined;
    const attempt = connect(options);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), options.timeout);
    });
    try {
      return await Promise.race([attempt, late]);
    } catch (err) {
      attempt.then((nc) => nc.close()).catch(() => undefined);
      throw this.#failure(err);
    } finally {
      clearTimeout(timer);
    }
  }

  #adopt(nc: NatsConnection): void {
    this.#nc = nc;
    this.#connected();
    void this.#watch(nc);
    nc.closed().then(() => this.#setState('closed'));
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) {
        this.#disconnects++;
        this.#setState('reconnecting');
        this.#logger.warn({ url: this.url }, 'cluster broker lost; reconnecting');
        this.emit('disconnected');
      } else if (status.type === Events.Reconnect) {
        this.#connected();
      } else if (status.type === Events.Error) {
        this.#noteError(status.data);
      }
    }
  }

  #connected(): void {
    this.#connects++;
    this.#delay = this.#config.reconnectMinMs;
    this.#error = undefined;
    this.#setState('connected');
    this.#logger.info({ url: this.url, connects: this.#connects }, 'cluster broker connected');
    this.emit('connected');
  }

  #setState(state: ClusterState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.#since = Date.now();
  }

  #noteError(err: unknown): void {
    const failure = this.#failure(err);
    this.#error = { code: failure.code, message: failure.message };
    this.#logger.warn({ err: failure.message, code: failure.code }, 'cluster broker error');
  }

  #failure(err: unknown): AppError {
    if (err instanceof AppError) return err;
    const natsCode = String((err as { code?: unknown })?.code ?? '');
    // 503 while opening the buckets: no JetStream answers its API.
    const code: ErrorCode = /AUTHORIZATION|AUTHENTICATION|BAD_CREDS|ACCOUNT_EXPIRED/.test(natsCode)
      ? 'CLUSTER_UNAUTHORIZED'
      : natsCode === '503' || /jetstream not enabled/i.test(errorMessage(err))
        ? 'CLUSTER_NO_JETSTREAM'
        : 'CLUSTER_UNREACHABLE';
    // The URL without credentials; nats.js's messages name no password.
    return new AppError(code, `cluster.url ${this.url}: ${describe(natsCode, err)}`, { cause: err });
  }

  async #teardown(): Promise<void> {
    const nc = this.#nc;
    this.#setState('closed');
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}

function describe(natsCode: string, err: unknown): string {
  if (natsCode === 'CONNECTION_REFUSED') return 'connection refused (no NATS server listens there)';
  if (natsCode === 'CONNECTION_TIMEOUT' || natsCode === 'TIMEOUT') return 'no answer in time (is it a NATS server?)';
  if (/AUTHORIZATION|AUTHENTICATION|BAD_CREDS/.test(natsCode)) return 'the broker refused our credentials';
  if (natsCode === '503') return 'the broker runs without JetStream (start nats-server with -js)';
  return errorMessage(err);
}
