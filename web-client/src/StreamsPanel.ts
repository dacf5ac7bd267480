import { type ApiClient, ApiError, type StreamInfo } from './ApiClient.js';
import { byId } from './dom.js';

const POLL_MS = 2000;
const CONFIRM_MS = 4000;

interface Row {
  tr: HTMLTableRowElement;
  cells: { name: HTMLElement; kind: HTMLElement; state: HTMLElement; fps: HTMLElement; faces: HTMLElement };
  remove: HTMLButtonElement;
}

/**
 * The stream list (polled every 2 s) with Watch and Remove per stream, and the form that adds an RTSP camera.
 * Rows are keyed by stream id and updated in place; each carries `data-stream-id`, `data-name`, `data-kind` and
 * `data-state`. Server errors are shown in an alert region, never swallowed.
 */
export class StreamsPanel {
  readonly #body = byId('streams-body', HTMLTableSectionElement);
  readonly #status = byId('streams-status', HTMLElement);
  readonly #form = byId('camera-form', HTMLFormElement);
  readonly #camName = byId('camera-name', HTMLInputElement);
  readonly #camUrl = byId('camera-url', HTMLInputElement);
  readonly #camAdd = byId('camera-add', HTMLButtonElement);
  readonly #camError = byId('camera-error', HTMLElement);
  readonly #rows = new Map<string, Row>();
  readonly #latestInfo = new Map<string, StreamInfo>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: AbortController | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly onWatch: (stream: StreamInfo) => void,
    private readonly onGone: (ids: ReadonlySet<string>) => void,
  ) {
    this.#form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.#addCamera();
    });
    void this.refresh();
  }

  /** Fetches the list now (and re-arms the 2 s poll). */
  async refresh(): Promise<void> {
    clearTimeout(this.#timer);
    this.#inFlight?.abort();
    const ctl = new AbortController();
    this.#inFlight = ctl;
    try {
      const streams = await this.api.listStreams(ctl.signal);
      this.#render(streams);
      this.#status.textContent = `${streams.length} stream${streams.length === 1 ? '' : 's'}, updated ${new Date().toLocaleTimeString()}.`;
      this.#status.classList.remove('error');
    } catch (err) {
      if (ctl.signal.aborted) return;
      this.#status.textContent = `Cannot list streams: ${describe(err)}`;
      this.#status.classList.add('error');
    } finally {
      if (this.#inFlight === ctl) {
        this.#inFlight = undefined;
        this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
      }
    }
  }

  async #addCamera(): Promise<void> {
    const name = this.#camName.value.trim();
    const url = this.#camUrl.value.trim();
    this.#camError.textContent = '';
    if (!name || !url) {
      this.#camError.textContent = 'Give the camera a name and an rtsp:// URL.';
      return;
    }
    this.#camAdd.disabled = true;
    try {
      await this.api.addCamera(name, url);
      this.#camName.value = '';
      this.#camUrl.value = '';
      this.#status.textContent = `Added camera ${name}.`;
      await this.refresh();
    } catch (err) {
      this.#camError.textContent = `Could not add the camera: ${describe(err)}`;
    } finally {
      this.#camAdd.disabled = false;
    }
  }

  async #remove(stream: StreamInfo, button: HTMLButtonElement): Promise<void> {
    if (button.dataset.confirm !== '1') {
      button.dataset.confirm = '1';
      button.textContent = 'Confirm remove';
      setTimeout(() => {
        delete button.dataset.confirm;
        button.textContent = 'Remove';
      }, CONFIRM_MS);
      return;
    }
    button.disabled = true;
    this.#camError.textContent = '';
    try {
      await this.api.removeStream(stream.id);
      this.#status.textContent = `Removed ${stream.name}.`;
      await this.refresh();
    } catch (err) {
      this.#camError.textContent = `Could not remove ${stream.name}: ${describe(err)}`;
      button.disabled = false;
    }
  }

  #render(streams: readonly StreamInfo[]): void {
    const ids = new Set(streams.map((s) => s.id));
    const gone = new Set<string>();
    for (const [id, row] of this.#rows) {
      if (!ids.has(id)) {
        row.tr.remove();
        this.#rows.delete(id);
        this.#latestInfo.delete(id);
        gone.add(id);
      }
    }
    for (const stream of streams) {
      let row = this.#rows.get(stream.id);
      if (!row) {
        row = this.#createRow(stream);
        this.#rows.set(stream.id, row);
      }
      this.#fillRow(row, stream);
      this.#body.appendChild(row.tr);
    }
    const empty = this.#body.querySelector('tr.empty');
    if (streams.length === 0 && !empty) {
      const tr = this.#body.insertRow();
      tr.className = 'empty';
      const td = tr.insertCell();
      td.colSpan = 6;
      td.textContent = 'No streams. Publish your webcam or add a camera.';
    } else if (streams.length > 0) {
      empty?.remove();
    }
    if (gone.size > 0) this.onGone(gone);
  }

  #createRow(stream: StreamInfo): Row {
    const tr = document.createElement('tr');
    tr.dataset.streamId = stream.id;
    const name = document.createElement('th');
    name.scope = 'row';
    const td = () => document.createElement('td');
    const [kind, state, fps, faces] = [td(), td(), td(), td()];
    fps.className = 'num';
    faces.className = 'num';
    const actions = document.createElement('td');
    actions.className = 'actions';
    const watch = document.createElement('button');
    watch.type = 'button';
    watch.textContent = 'Watch';
    watch.setAttribute('aria-label', `Watch ${stream.name}`);
    watch.addEventListener('click', () => this.onWatch(this.#latest(stream.id) ?? stream));
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'danger';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${stream.name}`);
    remove.addEventListener('click', () => void this.#remove(this.#latest(stream.id) ?? stream, remove));
    actions.append(watch, remove);
    tr.append(name, kind, state, fps, faces, actions);
    return { tr, cells: { name, kind, state, fps, faces }, remove };
  }

  #latest(id: string): StreamInfo | undefined {
    return this.#latestInfo.get(id);
  }

  #fillRow(row: Row, s: StreamInfo): void {
    this.#latestInfo.set(s.id, s);
    const { tr, cells } = row;
    tr.dataset.name = s.name;
    tr.dataset.kind = s.kind;
    tr.dataset.state = s.state;
    set(cells.name, s.name);
    cells.name.title = s.url ?? s.id;
    set(cells.kind, s.kind === 'webrtc' ? 'webcam' : s.kind);
    // In a cluster the state says where the stream runs (docs/scaling.md).
    set(cells.state, s.node ? `${s.state} on ${s.node}` : s.state);
    if (s.node) tr.dataset.node = s.node;
    cells.state.className = `state state-${s.state}`;
    set(cells.fps, Number.isFinite(s.fps) ? s.fps.toFixed(1) : '–');
    set(cells.faces, String(s.faces));
  }
}

function set(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function describe(err: unknown): string {
  if (err instanceof ApiError) return `${err.message || 'failed'} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
