import type { ApiClient } from './ApiClient.js';
import { byId } from './dom.js';
import { EventsConnection } from './EventsConnection.js';
import { FaceList } from './FaceList.js';
import { FaceStore } from './FaceStore.js';
import { OverlayRenderer } from './OverlayRenderer.js';
import { Publisher, type PublishState } from './Publisher.js';

/**
 * The Publish panel: one click starts the webcam and publishes it; the live video gets an overlay of the faces the
 * server finds in it, from `/events?stream=<ours>`. The section exposes its state for tests and styling:
 * `data-state`, `data-stream-id`, `data-faces` (number of faces on screen), `data-latest-ts` (capture time of the
 * newest face event, ms since the epoch).
 */
export class PublishPanel {
  readonly #section = byId('publish', HTMLElement);
  readonly #video = byId('publish-video', HTMLVideoElement);
  readonly #start = byId('publish-start', HTMLButtonElement);
  readonly #stop = byId('publish-stop', HTMLButtonElement);
  readonly #name = byId('publish-name', HTMLInputElement);
  readonly #status = byId('publish-status', HTMLElement);
  readonly #overlay = new OverlayRenderer(byId('publish-overlay', HTMLCanvasElement));
  readonly #faceList = new FaceList(byId('publish-faces', HTMLElement), 'No faces yet.');
  readonly #faces = new FaceStore(3000);
  readonly #publisher: Publisher;
  #events: EventsConnection | undefined;
  #dirty = true;
  #lastCount = -1;
  #geometry = '';

  constructor(
    private readonly api: ApiClient,
    private readonly onPublished: (streamId: string) => void,
  ) {
    this.#publisher = new Publisher(() => api.socketUrl('/signal', 'publish'), {
      onState: (s, d) => this.#onState(s, d),
    });
    this.#start.addEventListener('click', () => void this.#begin());
    this.#stop.addEventListener('click', () => this.#publisher.stop());
    this.#section.dataset.faces = '0';
    this.#video.addEventListener('loadedmetadata', () => {
      const { videoWidth: w, videoHeight: h } = this.#video;
      if (w > 0 && h > 0) this.#video.parentElement?.style.setProperty('aspect-ratio', `${w} / ${h}`);
    });
    const loop = () => {
      this.#render();
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
    // rAF pauses in background tabs; keep pruning stale faces there too.
    setInterval(() => this.#render(), 500);
  }

  async #begin(): Promise<void> {
    try {
      const id = await this.#publisher.start(this.#name.value.trim() || 'webcam');
      const media = this.#publisher.media;
      if (media) {
        this.#video.srcObject = media;
        await this.#video.play().catch(() => {}); // muted autoplay; a refusal only delays the picture
      }
      this.#subscribe(id);
      this.onPublished(id);
    } catch {
      // the state callback has shown the reason
    }
  }

  #subscribe(streamId: string): void {
    this.#events?.close();
    this.#faces.clear();
    this.#events = new EventsConnection(
      () => this.api.socketUrl('/events', 'subscribe', { stream: streamId }),
      (m) => {
        if (this.#faces.apply(m, performance.now())) this.#dirty = true;
        // Capture time of the newest face event: how far the analysis lags the live picture (tests, diagnostics).
        if ('trackId' in m) this.#section.dataset.latestTs = String(m.ts);
      },
      (state, detail) => {
        this.#section.dataset.events = state;
        if (state === 'closed' && detail && this.#publisher.state === 'live') {
          this.#status.textContent = `Live as ${streamId}; events connection lost (${detail}), retrying…`;
        }
      },
    );
  }

  #onState(state: PublishState, detail?: string): void {
    this.#section.dataset.state = state;
    this.#start.disabled = state === 'starting' || state === 'live';
    this.#stop.disabled = !(state === 'starting' || state === 'live');
    this.#name.disabled = this.#start.disabled;
    this.#status.classList.toggle('error', state === 'error');
    switch (state) {
      case 'starting':
        this.#status.textContent = `Starting: ${detail ?? ''}…`;
        break;
      case 'live':
        this.#section.dataset.streamId = detail ?? '';
        this.#status.textContent = `Live as stream ${detail}. Faces found in your video are outlined below.`;
        break;
      case 'error':
        this.#status.textContent = `Could not publish: ${detail ?? 'unknown error'}`;
        break;
      default:
        this.#status.textContent = 'Stopped.';
    }
    if (state !== 'live' && state !== 'starting') {
      this.#events?.close();
      this.#events = undefined;
      this.#faces.clear();
      this.#video.srcObject = null;
      delete this.#section.dataset.streamId;
      this.#dirty = true;
    }
  }

  #render(): void {
    if (this.#faces.prune(performance.now()) > 0) this.#dirty = true;
    // Redraw only when the faces or the geometry changed (this runs every animation frame).
    const v = this.#video;
    const geometry = `${v.clientWidth}x${v.clientHeight}/${v.videoWidth}x${v.videoHeight}/${globalThis.devicePixelRatio}`;
    if (!this.#dirty && geometry === this.#geometry) return;
    this.#geometry = geometry;
    const faces = this.#faces.faces().map((f) => f.event);
    this.#overlay.draw(faces, v.videoWidth, v.videoHeight);
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#faceList.update(faces);
    if (faces.length !== this.#lastCount) {
      this.#lastCount = faces.length;
      this.#section.dataset.faces = String(faces.length);
    }
  }
}
