import type { EventsMessage } from '../../src/core/events.js';
import type { ApiClient } from './ApiClient.js';
import { byId } from './dom.js';
import { describeMessage, EventLog, streamOf } from './EventLog.js';
import { EventsConnection } from './EventsConnection.js';
import { isEmotionLabel, LABEL_COLORS } from './labels.js';

const CAPACITY = 500;
const SHOWN = 150;

/**
 * The event log: every event of every stream (one `/events` subscription), newest first, filterable by stream and
 * type, at most 500 kept and 150 shown. Rendering is batched to one update per animation frame. Items carry
 * `data-type` and `data-stream`; the section carries `data-events` (the connection state).
 */
export class EventLogPanel {
  readonly #section = byId('log', HTMLElement);
  readonly #list = byId('log-list', HTMLOListElement);
  readonly #stream = byId('log-stream', HTMLSelectElement);
  readonly #type = byId('log-type', HTMLSelectElement);
  readonly #pause = byId('log-pause', HTMLButtonElement);
  readonly #clear = byId('log-clear', HTMLButtonElement);
  readonly #status = byId('log-status', HTMLElement);
  readonly #log = new EventLog(CAPACITY);
  readonly #events: EventsConnection;
  #scheduled = false;
  #paused = false;

  constructor(api: ApiClient) {
    this.#events = new EventsConnection(
      () => api.socketUrl('/events', 'subscribe'),
      (m) => this.#add(m),
      (state, detail) => {
        this.#section.dataset.events = state;
        this.#status.textContent =
          state === 'open' ? 'Connected.' : state === 'connecting' ? 'Connecting…' : `Disconnected (${detail ?? ''}).`;
        this.#status.classList.toggle('error', state === 'closed');
      },
    );
    this.#stream.addEventListener('change', () => this.#schedule());
    this.#type.addEventListener('change', () => this.#schedule());
    this.#pause.addEventListener('click', () => {
      this.#paused = !this.#paused;
      this.#pause.setAttribute('aria-pressed', String(this.#paused));
      this.#pause.textContent = this.#paused ? 'Resume' : 'Pause';
      this.#schedule();
    });
    this.#clear.addEventListener('click', () => {
      this.#log.clear();
      this.#schedule();
    });
  }

  /** Reconnects (e.g. after the token changed). */
  reconnect(): void {
    this.#events.reconnect();
  }

  #add(message: EventsMessage): void {
    this.#log.add(message, Date.now());
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const run = () => {
      this.#scheduled = false;
      this.#render();
    };
    // rAF does not run in background tabs; fall back to a timer there.
    if (document.visibilityState === 'visible') requestAnimationFrame(run);
    else setTimeout(run, 250);
  }

  #render(): void {
    syncOptions(this.#stream, this.#log.streams());
    syncOptions(this.#type, this.#log.types());
    if (this.#paused) return;
    const entries = this.#log.entries({ streamId: this.#stream.value, type: this.#type.value }, SHOWN);
    const items = entries.map((entry) => {
      const li = document.createElement('li');
      li.dataset.type = entry.message.type;
      const stream = streamOf(entry.message);
      if (stream) li.dataset.stream = stream;
      const time = document.createElement('time');
      time.dateTime = new Date(entry.receivedAt).toISOString();
      time.textContent = new Date(entry.receivedAt).toLocaleTimeString();
      const type = document.createElement('span');
      type.className = 'type';
      type.textContent = entry.message.type;
      const text = document.createElement('span');
      text.className = 'text';
      text.textContent = describeMessage(entry.message);
      const label = 'emotion' in entry.message ? entry.message.emotion.label : undefined;
      if (isEmotionLabel(label)) li.style.setProperty('--label', LABEL_COLORS[label]);
      li.append(time, type, text);
      return li;
    });
    this.#list.replaceChildren(...items);
    this.#list.dataset.count = String(items.length);
  }
}

/** Keeps a <select>'s options (after its first "all" option) equal to `values`, preserving the selection. */
function syncOptions(select: HTMLSelectElement, values: readonly string[]): void {
  const current = Array.from(select.options)
    .slice(1)
    .map((o) => o.value);
  if (current.length === values.length && current.every((v, i) => v === values[i])) return;
  const selected = select.value;
  while (select.options.length > 1) select.remove(1);
  for (const value of values) select.add(new Option(value, value));
  select.value = values.includes(selected) ? selected : '';
}
