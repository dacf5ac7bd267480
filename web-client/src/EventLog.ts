import type { EventsMessage } from '../../src/core/events.js';

export interface LogEntry {
  /** Increasing number, unique within the log. */
  readonly seq: number;
  /** Local time it arrived (ms since the epoch). */
  readonly receivedAt: number;
  readonly message: EventsMessage;
}

export interface LogFilter {
  /** Only this stream ('' or undefined: all). */
  streamId?: string;
  /** Only this message type ('' or undefined: all). */
  type?: string;
}

/** A bounded log of received messages, newest first, filterable by stream and type. */
export class EventLog {
  readonly #entries: LogEntry[] = [];
  readonly #streams = new Set<string>();
  readonly #types = new Set<string>();
  #seq = 0;

  constructor(readonly capacity = 500) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  add(message: EventsMessage, receivedAt: number): LogEntry {
    const entry: LogEntry = { seq: ++this.#seq, receivedAt, message };
    this.#entries.push(entry);
    if (this.#entries.length > this.capacity) this.#entries.splice(0, this.#entries.length - this.capacity);
    const stream = streamOf(message);
    if (stream !== undefined) this.#streams.add(stream);
    this.#types.add(message.type);
    return entry;
  }

  /** Matching entries, newest first, at most `limit`. */
  entries(filter: LogFilter = {}, limit = Number.POSITIVE_INFINITY): LogEntry[] {
    const out: LogEntry[] = [];
    for (let i = this.#entries.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = this.#entries[i];
      if (entry && matches(entry.message, filter)) out.push(entry);
    }
    return out;
  }

  /** Stream ids and types seen so far (for the filter menus), sorted. */
  streams(): string[] {
    return [...this.#streams].sort();
  }

  types(): string[] {
    return [...this.#types].sort();
  }

  get size(): number {
    return this.#entries.length;
  }

  clear(): void {
    this.#entries.length = 0;
  }
}

export function streamOf(message: EventsMessage): string | undefined {
  return 'streamId' in message ? message.streamId : undefined;
}

export function matches(message: EventsMessage, filter: LogFilter): boolean {
  if (filter.type && message.type !== filter.type) return false;
  if (filter.streamId && streamOf(message) !== filter.streamId) return false;
  return true;
}

const pct = (p: number) => `${Math.round(p * 100)}%`;

/** One line of text describing a message, for the log. */
export function describeMessage(message: EventsMessage): string {
  switch (message.type) {
    case 'face.new':
    case 'face.update':
      return `${message.trackId} ${message.emotion.label} ${pct(message.emotion.scores[message.emotion.label])} valence ${message.valence.toFixed(2)}`;
    case 'face.emotion':
      return `${message.trackId} ${message.from} → ${message.to}`;
    case 'face.end':
      return `${message.trackId} gone after ${(message.durationMs / 1000).toFixed(1)} s, mostly ${message.dominant} (${pct(message.timeShare[message.dominant])})`;
    case 'stream.state':
      return `${message.streamId} ${message.state}${message.reason ? `: ${message.reason}` : ''}`;
    case 'dropped':
      return `${message.count} updates dropped (this page reads too slowly)`;
    case 'error':
      return `${message.code}: ${message.message}`;
  }
}
