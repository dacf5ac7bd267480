import type { EmotionLabel } from '../../src/core/labels.js';
import { LABEL_COLORS } from './labels.js';
import type { TimelineTrack } from './TimelineBuffer.js';

/** A gap longer than this between two points of a track breaks its line (the face was not seen). */
const GAP_MS = 5000;

/**
 * Draws valence (-1..1, vertical) over the last `windowMs` of capture time (horizontal, now at the right) for each
 * track: a line per track, each segment coloured by the track's dominant (smoothed) emotion at that time, the track id
 * at its newest point. Grid lines at valence -1, 0, 1 and every minute.
 */
export class TimelineChart {
  readonly #ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.#ctx = ctx;
  }

  draw(tracks: readonly TimelineTrack[], serverNow: number | undefined, windowMs: number): void {
    const ctx = this.#ctx;
    const cssW = this.canvas.clientWidth;
    const cssH = this.canvas.clientHeight;
    const dpr = globalThis.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(cssW * dpr) || this.canvas.height !== Math.round(cssH * dpr)) {
      this.canvas.width = Math.round(cssW * dpr);
      this.canvas.height = Math.round(cssH * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const left = 34;
    const right = cssW - 8;
    const top = 8;
    const bottom = cssH - 18;
    const y = (v: number) => top + ((1 - v) / 2) * (bottom - top);

    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#3a3f4b';
    ctx.fillStyle = '#b8bcc8';
    for (const v of [1, 0, -1]) {
      ctx.beginPath();
      ctx.moveTo(left, y(v));
      ctx.lineTo(right, y(v));
      ctx.stroke();
      ctx.fillText(v > 0 ? '+1' : String(v), 4, y(v) + 4);
    }
    if (serverNow === undefined) {
      ctx.fillText('no faces yet', left + 8, y(0) - 6);
      return;
    }
    const x = (ts: number) => right - ((serverNow - ts) / windowMs) * (right - left);
    for (let m = 0; m * 60_000 <= windowMs; m++) {
      const gx = x(serverNow - m * 60_000);
      ctx.beginPath();
      ctx.moveTo(gx, top);
      ctx.lineTo(gx, bottom);
      ctx.stroke();
      ctx.fillText(m === 0 ? 'now' : `-${m} min`, Math.max(left, gx - 30), cssH - 4);
    }

    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top - 2, right - left, bottom - top + 4);
    ctx.clip();
    ctx.lineWidth = 2.5;
    ctx.lineCap = 'round';
    for (const track of tracks) {
      let prev: { ts: number; valence: number; label: EmotionLabel } | undefined;
      for (const p of track.points) {
        ctx.strokeStyle = LABEL_COLORS[p.label];
        ctx.fillStyle = LABEL_COLORS[p.label];
        if (prev && p.ts - prev.ts <= GAP_MS) {
          ctx.beginPath();
          ctx.moveTo(x(prev.ts), y(prev.valence));
          ctx.lineTo(x(p.ts), y(p.valence));
          ctx.stroke();
        } else {
          ctx.fillRect(x(p.ts) - 1.5, y(p.valence) - 1.5, 3, 3);
        }
        prev = p;
      }
      // Name the tracks still live, at their newest point (ended ones would only clutter the right edge).
      if (prev && !track.ended) {
        ctx.fillStyle = '#e8e8ee';
        const id = track.trackId.slice(track.trackId.lastIndexOf('/') + 1);
        ctx.fillText(`#${id}`, Math.min(x(prev.ts) + 4, right - 24), y(prev.valence) - 5);
      }
    }
    ctx.restore();
  }
}
