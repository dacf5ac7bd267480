import type { EventsMessage } from '../../src/core/events.js';

/** A connection open this long counts as healthy when it drops. */
const STABLE_MS = 5000;

export type ConnectionState = 'connecting' | 'open' | 'closed';

/**
 * One `/events` subscription: parses each text message, hands it to `onMessage`, and reconnects with a growing delay
 * (0.5 s up to 10 s, back to 0.5 s after a connection that held) when the socket drops, until `close()`. The URL is built anew on each attempt, so a changed token
 * is picked up.
 */
export class EventsConnection {
  #ws: WebSocket | undefined;
  #closed = false;
  #retryMs = 500;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #state: ConnectionState = 'connecting';

  constructor(
    private readonly url: () => string,
    private readonly onMessage: (message: EventsMessage) => void,
    private readonly onState: (state: ConnectionState, detail?: string) => void = () => {},
  ) {
    this.#connect();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Drops the current socket and connects again at once (a changed URL, e.g. a new token, takes effect). */
  reconnect(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const old = this.#ws;
    this.#ws = undefined;
    old?.close(1000, 'reconnecting');
    this.#retryMs = 500;
    this.#connect();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.close(1000, 'done');
    this.#setState('closed');
  }

  #connect(): void {
    this.#setState('connecting');
    const ws = new WebSocket(this.url());
    this.#ws = ws;
    let lastError = '';
    let openedAt: number | undefined;
    ws.onopen = () => {
      openedAt = Date.now();
      this.#setState('open');
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let message: unknown;
      try {
        message = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!message || typeof (message as { type?: unknown }).type !== 'string') return;
      const typed = message as EventsMessage;
      if (typed.type === 'error') lastError = `${typed.code}: ${typed.message}`;
      this.onMessage(typed);
    };
    ws.onclose = (ev) => {
      if (this.#closed || this.#ws !== ws) return;
      const detail = lastError || (ev.reason ? `${ev.code} ${ev.reason}` : `code ${ev.code}`);
      // A connection that held (and was not refused with an error) starts the backoff afresh; one the server
      // accepts and closes at once (a bad filter, a refused token, a full server) keeps backing off.
      if (openedAt !== undefined && !lastError && Date.now() - openedAt > STABLE_MS) this.#retryMs = 500;
      this.#setState('closed', detail);
      this.#timer = setTimeout(() => this.#connect(), this.#retryMs);
      this.#retryMs = Math.min(10_000, this.#retryMs * 2);
    };
  }

  #setState(state: ConnectionState, detail?: string): void {
    this.#state = state;
    this.onState(state, detail);
  }
}
