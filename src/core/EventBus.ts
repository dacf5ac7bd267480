/**
 * The one event bus (docs/architecture.md): the pipeline publishes, every sink (WebSocket subscribers, later MQTT and
 * files) receives what its filter selects. Pure and synchronous: no I/O, no timers. A sink that throws never breaks
 * the publisher or the other sinks; its error is counted and handed to `onSinkError`.
 *
 * Optional duties at this single choke point:
 * - `validate`: every published event is checked against the protocol schema (a pipeline bug fails loudly, at
 *   the publisher, with `EVENT_INVALID`, instead of reaching clients);
 * - `maxUpdatesPerSecond`: `face.update`s are rate-limited per track (see UpdateRateLimiter); `face.new`,
 *   `face.emotion`, `face.end` and `stream.state` always pass.
 */
import { CloseOnce } from './CloseOnce.js';
import { AppError } from './errors.js';
import { type BusEvent, BusEventSchema, type BusEventType } from './events.js';
import { UpdateRateLimiter } from './UpdateRateLimiter.js';

export type EventSink = (event: BusEvent) => void;

/** Which events a sink wants; an absent or empty set means "all". */
export interface EventFilter {
  streams?: Iterable<string>;
  types?: Iterable<BusEventType>;
  /** Only the events of this node's streams, not those another node of the cluster published here (src/cluster). */
  localOnly?: boolean;
}

export interface EventBusOptions {
  /** Check each event against the schema on publish (default true). */
  validate?: boolean;
  /** Max `face.update` events per second per track (default: unlimited). */
  maxUpdatesPerSecond?: number;
  /** Told about every sink that throws (the bus itself never logs). */
  onSinkError?: (err: unknown, event: BusEvent) => void;
}

export interface Subscription {
  readonly closed: boolean;
  unsubscribe(): void;
}

export interface EventBusStats {
  sinks: number;
  published: number;
  delivered: number;
  sinkErrors: number;
  /** `face.update`s held back by the per-track rate limit. */
  rateLimited: number;
  /** Events refused because they failed the schema (a bug upstream; the event is lost), by type. */
  rejected: Record<string, number>;
  /** Publishes after close (shutting down; the event is lost). */
  afterClose: number;
  /** Of `published`: events of other nodes of the cluster, handed over by src/cluster. */
  remote: number;
}

interface SinkEntry {
  sink: EventSink;
  streams: ReadonlySet<string> | undefined;
  types: ReadonlySet<BusEventType> | undefined;
  localOnly: boolean;
  active: boolean;
}

/** An event that fails the protocol schema. */
export class InvalidEventError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EVENT_INVALID', message, options);
  }
}

export class EventBus {
  /** Replaced, never mutated, so a publish in progress iterates a stable snapshot. */
  #sinks: readonly SinkEntry[] = [];
  readonly #validate: boolean;
  readonly #limiter: UpdateRateLimiter | undefined;
  readonly #onSinkError: ((err: unknown, event: BusEvent) => void) | undefined;
  readonly #lifecycle = new CloseOnce('event bus', () => this.#teardown());
  #published = 0;
  #delivered = 0;
  #sinkErrors = 0;
  #afterClose = 0;
  #remote = 0;
  readonly #rejected: Record<string, number> = {};

  constructor(options: EventBusOptions = {}) {
    this.#validate = options.validate ?? true;
    this.#onSinkError = options.onSinkError;
    const rate = options.maxUpdatesPerSecond;
    this.#limiter =
      rate !== undefined && Number.isFinite(rate) ? new UpdateRateLimiter({ maxPerSecond: rate }) : undefined;
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  get stats(): EventBusStats {
    return {
      sinks: this.#sinks.length,
      published: this.#published,
      delivered: this.#delivered,
      sinkErrors: this.#sinkErrors,
      rateLimited: this.#limiter?.stats.limited ?? 0,
      rejected: { ...this.#rejected },
      afterClose: this.#afterClose,
      remote: this.#remote,
    };
  }

  /** Adds a sink; it receives the events its filter selects until `unsubscribe()` (or the bus closes). */
  subscribe(sink: EventSink, filter: EventFilter = {}): Subscription {
    this.#lifecycle.assertOpen();
    const entry: SinkEntry = {
      sink,
      streams: toSet(filter.streams),
      types: toSet(filter.types),
      localOnly: filter.localOnly === true,
      active: true,
    };
    this.#sinks = [...this.#sinks, entry];
    return {
      get closed() {
        return !entry.active;
      },
      unsubscribe: () => {
        if (!entry.active) return;
        entry.active = false;
        this.#sinks = this.#sinks.filter((e) => e !== entry);
      },
    };
  }

  /**
   * Hands `event` to every sink whose filter selects it. Returns how many sinks received it (0 when the
   * rate limit held a `face.update` back). Throws `InvalidEventError` for an invalid event when validating,
   * `InvalidStateError` after close; never throws because of a sink. A `remote` event (another node's, already
   * rate-limited there) skips the rate limit and the sinks that asked for `localOnly`.
   */
  publish(event: BusEvent, origin: 'local' | 'remote' = 'local'): number {
    const remote = origin === 'remote';
    if (this.closed) this.#afterClose++;
    this.#lifecycle.assertOpen();
    if (this.#validate) {
      const result = BusEventSchema.safeParse(event);
      if (!result.success) {
        const type = typeof event?.type === 'string' && event.type.length <= 32 ? event.type : 'untyped';
        this.#rejected[type] = (this.#rejected[type] ?? 0) + 1;
        const issue = result.error.issues[0];
        const where = issue?.path.join('.') || '(event)';
        throw new InvalidEventError(`invalid ${describe(event)} event: ${where}: ${issue?.message ?? 'invalid'}`, {
          cause: result.error,
        });
      }
    }
    if (this.#limiter && !remote) {
      if (event.type === 'face.update' && !this.#limiter.allow(event.trackId, event.ts)) return 0;
      if (event.type === 'face.end') this.#limiter.forget(event.trackId);
    }
    this.#published++;
    if (remote) this.#remote++;
    let delivered = 0;
    for (const entry of this.#sinks) {
      if (!entry.active) continue; // unsubscribed by an earlier sink during this publish
      if (remote && entry.localOnly) continue;
      if (entry.types && !entry.types.has(event.type)) continue;
      if (entry.streams && !entry.streams.has(event.streamId)) continue;
      try {
        entry.sink(event);
        delivered++;
      } catch (err) {
        this.#sinkErrors++;
        try {
          this.#onSinkError?.(err, event);
        } catch {
          // An error reporter that throws must not break publishing either.
        }
      }
    }
    this.#delivered += delivered;
    return delivered;
  }

  /** Detaches every sink; later `publish`/`subscribe` throw `InvalidStateError`. Idempotent. */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  #teardown(): void {
    for (const entry of this.#sinks) entry.active = false;
    this.#sinks = [];
  }
}

function toSet<T>(values: Iterable<T> | undefined): ReadonlySet<T> | undefined {
  if (values === undefined) return undefined;
  const set = new Set(values);
  return set.size > 0 ? set : undefined;
}

function describe(event: unknown): string {
  const type = (event as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? JSON.stringify(type) : 'untyped';
}
