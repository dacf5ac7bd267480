import type { FaceEvent } from '../../src/core/events.js';
import { LABEL_COLORS, LABELS } from './labels.js';

interface Item {
  li: HTMLLIElement;
  title: HTMLElement;
  meters: HTMLMeterElement[];
  values: HTMLElement[];
}

/**
 * The live faces as an accessible list: per face its track, smoothed label and the seven scores as labelled
 * <meter>s. Items are keyed by track and updated in place, so focus and screen-reader position survive updates.
 * Each <li> carries `data-track` and `data-label`; the list carries `data-count`.
 */
export class FaceList {
  readonly #items = new Map<string, Item>();

  constructor(
    private readonly list: HTMLElement,
    private readonly emptyText = 'No faces right now.',
  ) {
    this.update([]);
  }

  update(faces: readonly FaceEvent[]): void {
    const seen = new Set<string>();
    for (const face of faces) {
      seen.add(face.trackId);
      let item = this.#items.get(face.trackId);
      if (!item) {
        item = this.#create(face.trackId);
        this.#items.set(face.trackId, item);
      }
      this.#fill(item, face);
      this.list.appendChild(item.li); // keeps the given order
    }
    for (const [id, item] of this.#items) {
      if (!seen.has(id)) {
        item.li.remove();
        this.#items.delete(id);
      }
    }
    this.list.dataset.count = String(faces.length);
    let empty = this.list.querySelector<HTMLElement>(':scope > .empty');
    if (faces.length === 0 && !empty) {
      empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = this.emptyText;
      this.list.appendChild(empty);
    } else if (faces.length > 0) {
      empty?.remove();
    }
  }

  #create(trackId: string): Item {
    const li = document.createElement('li');
    li.className = 'face';
    li.dataset.track = trackId;
    const title = document.createElement('p');
    title.className = 'face-title';
    const grid = document.createElement('div');
    grid.className = 'scores';
    const meters: HTMLMeterElement[] = [];
    const values: HTMLElement[] = [];
    for (const label of LABELS) {
      const id = `${this.list.id || 'faces'}-${trackId.replace(/[^A-Za-z0-9_-]/g, '_')}-${label}`;
      const name = document.createElement('label');
      name.htmlFor = id;
      name.textContent = label;
      const meter = document.createElement('meter');
      meter.id = id;
      meter.min = 0;
      meter.max = 1;
      meter.style.setProperty('--bar', LABEL_COLORS[label]);
      const value = document.createElement('span');
      value.className = 'value';
      grid.append(name, meter, value);
      meters.push(meter);
      values.push(value);
    }
    li.append(title, grid);
    return { li, title, meters, values };
  }

  #fill(item: Item, face: FaceEvent): void {
    const { label, scores } = face.emotion;
    item.li.dataset.label = label;
    item.li.style.setProperty('--label', LABEL_COLORS[label]);
    const shortId = face.trackId.slice(face.trackId.lastIndexOf('/') + 1);
    item.title.textContent = `Face #${shortId}: ${label} (valence ${face.valence.toFixed(2)}, arousal ${face.arousal.toFixed(2)})`;
    LABELS.forEach((l, i) => {
      const meter = item.meters[i];
      const value = item.values[i];
      if (meter) meter.value = scores[l];
      if (value) value.textContent = `${Math.round(scores[l] * 100)}%`;
    });
  }
}
