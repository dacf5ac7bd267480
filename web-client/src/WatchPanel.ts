import type { ApiClient, StreamInfo } from './ApiClient.js';
import { byId } from './dom.js';
import { EventsConnection } from './EventsConnection.js';
import { FaceList } from './FaceList.js';
import { FaceStore } from './FaceStore.js';
import { describe } from './StreamsPanel.js';
import { TimelineBuffer } from './TimelineBuffer.js';
import { TimelineChart } from './TimelineChart.js';

const SNAPSHOT_EVERY_MS = 1000;
const TIMELINE_WINDOW_MS = 3 * 60_000;

/**
 * Watching one stream: its latest annotated snapshot (refetched about once a second, one request at a time), live
 * emotion bars per face and a timeline of valence per track coloured by the dominant emotion, from
 * `/events?stream=<id>`. The section carries `data-stream-id` and `data-snapshots` (snapshots shown so far).
 */
export class WatchPanel {
  readonly #section = byId('watch', HTMLElement);
  readonly #title = byId('watch-title', HTMLElement);
  readonly #img = byId('watch-snapshot', HTMLImageElement);
  readonly #snapStatus = byId('watch-snapshot-status', HTMLElement);
  readonly #close = byId('watch-close', HTMLButtonElement);
  readonly #timelineCanvas = byId('watch-timeline', HTMLCanvasElement);
  readonly #faceList = new FaceList(byId('watch-faces', HTMLElement));
  readonly #chart = new TimelineChart(this.#timelineCanvas);
  readonly #faces = new FaceStore(3000);
  readonly #timeline = new TimelineBuffer({ windowMs: TIMELINE_WINDOW_MS });
  #stream: StreamInfo | undefined;
  #events: EventsConnection | undefined;
  #snapTimer: ReturnType<typeof setTimeout> | undefined;
  #snapAbort: AbortController | undefined;
  #objectUrl: string | undefined;
  #snapshots = 0;

  constructor(private readonly api: ApiClient) {
    this.#close.addEventListener('click', () => this.close());
    setInterval(() => this.#tick(), 250);
    this.close();
  }

  get streamId(): string | undefined {
    return this.#stream?.id;
  }

  open(stream: StreamInfo): void {
    this.close();
    this.#stream = stream;
    this.#section.dataset.streamId = stream.id;
    this.#section.hidden = false;
    this.#title.textContent = `${stream.name} (${stream.kind === 'webrtc' ? 'webcam' : stream.kind})`;
    this.#close.disabled = false;
    this.#events = new EventsConnection(
      () => this.api.socketUrl('/events', 'subscribe', { stream: stream.id }),
      (m) => {
        const now = performance.now();
        this.#faces.apply(m, now);
        this.#timeline.add(m, Date.now());
      },
    );
    void this.#loadSnapshot();
    this.#section.scrollIntoView?.({ block: 'nearest' });
  }

  /** Subscribes again (e.g. after the token changed). */
  reconnect(): void {
    if (this.#stream) this.open(this.#stream);
  }

  close(): void {
    this.#events?.close();
    this.#events = undefined;
    clearTimeout(this.#snapTimer);
    this.#snapAbort?.abort();
    if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
    this.#objectUrl = undefined;
    this.#img.removeAttribute('src');
    this.#stream = undefined;
    this.#faces.clear();
    this.#timeline.clear();
    this.#snapshots = 0;
    this.#section.dataset.snapshots = '0';
    delete this.#section.dataset.streamId;
    this.#title.textContent = 'nothing selected';
    this.#snapStatus.textContent = 'Pick a stream in the list to watch it.';
    this.#close.disabled = true;
    this.#tick();
  }

  async #loadSnapshot(): Promise<void> {
    const stream = this.#stream;
    if (!stream) return;
    const ctl = new AbortController();
    this.#snapAbort = ctl;
    try {
      const blob = await this.api.snapshot(stream.id, ctl.signal);
      if (this.#stream !== stream) return;
      const url = URL.createObjectURL(blob);
      await new Promise<void>((resolve, reject) => {
        this.#img.onload = () => resolve();
        this.#img.onerror = () => reject(new Error('the snapshot is not a readable image'));
        this.#img.src = url;
      });
      if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
      this.#objectUrl = url;
      const { naturalWidth: w, naturalHeight: h } = this.#img;
      if (w > 0 && h > 0) this.#img.parentElement?.style.setProperty('aspect-ratio', `${w} / ${h}`);
      this.#img.alt = `Latest analyzed frame of ${stream.name}, with face boxes and labels`;
      this.#section.dataset.snapshots = String(++this.#snapshots);
      this.#snapStatus.textContent = `Snapshot ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (ctl.signal.aborted || this.#stream !== stream) return;
      this.#snapStatus.textContent = `No snapshot: ${describe(err)}`;
    }
    if (this.#stream === stream) this.#snapTimer = setTimeout(() => void this.#loadSnapshot(), SNAPSHOT_EVERY_MS);
  }

  #tick(): void {
    this.#faces.prune(performance.now());
    this.#faceList.update(this.#faces.faces().map((f) => f.event));
    const now = this.#timeline.now(Date.now());
    if (now !== undefined) this.#timeline.prune(now);
    const tracks = this.#timeline.tracks();
    this.#chart.draw(tracks, now, TIMELINE_WINDOW_MS);
    this.#timelineCanvas.setAttribute(
      'aria-label',
      tracks.length === 0
        ? 'Valence timeline: no faces yet'
        : `Valence timeline of ${tracks.length} track${tracks.length === 1 ? '' : 's'}: ${tracks
            .map((t) => {
              const last = t.points.at(-1);
              return last ? `track ${t.trackId} now ${last.label}, valence ${last.valence.toFixed(2)}` : '';
            })
            .join('; ')}`,
    );
  }
}
