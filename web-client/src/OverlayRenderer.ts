import type { FaceEvent } from '../../src/core/events.js';
import { containRect, type Rect, scaleBox } from './boxScaling.js';
import { LABEL_COLORS, LABELS } from './labels.js';

const BAR_W = 9;
const BAR_GAP = 2;
const BAR_H = 34;
const CHART_W = LABELS.length * (BAR_W + BAR_GAP) - BAR_GAP;

/**
 * Draws face boxes, their smoothed label and a bar chart of the seven scores on a canvas laid over a picture
 * (a <video> or an <img>). The canvas is sized to the element in device pixels; boxes come in the analyzed frame's
 * pixel space and are mapped onto the part of the element the picture fills (object-fit: contain).
 */
export class OverlayRenderer {
  readonly #ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    this.#ctx = ctx;
  }

  /** `pictureW`x`pictureH`: the intrinsic size of the picture under the canvas (videoWidth, naturalWidth). */
  draw(faces: readonly FaceEvent[], pictureW: number, pictureH: number): void {
    const ctx = this.#ctx;
    const cssW = this.canvas.clientWidth;
    const cssH = this.canvas.clientHeight;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.round(cssW * dpr);
    const h = Math.round(cssH * dpr);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const shown = containRect(pictureW, pictureH, cssW, cssH);
    for (const face of faces) this.#drawFace(face, scaleBox(face.box, face.frame, shown), shown);
  }

  #drawFace(face: FaceEvent, box: Rect, shown: Rect): void {
    const ctx = this.#ctx;
    const { label, scores } = face.emotion;
    const color = LABEL_COLORS[label];
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(0,0,0,0.6)';
    ctx.strokeRect(box.x, box.y, box.w, box.h);
    ctx.lineWidth = 2;
    ctx.strokeStyle = color;
    ctx.strokeRect(box.x, box.y, box.w, box.h);

    // The smoothed label only: it changes with hysteresis, so it need not be the top score of this instant (the bars
    // show those).
    const text = label;
    ctx.font = '600 14px system-ui, sans-serif';
    const tw = ctx.measureText(text).width + 10;
    const tx = Math.min(Math.max(box.x, shown.x), shown.x + shown.w - tw);
    const ty = box.y - 22 >= shown.y ? box.y - 22 : box.y + box.h + 2;
    ctx.fillStyle = 'rgba(0,0,0,0.72)';
    ctx.fillRect(tx, ty, tw, 20);
    ctx.fillStyle = color;
    ctx.fillText(text, tx + 5, ty + 15);

    // The seven scores as bars, to the right of the box (left if there is no room), bottom-aligned with it.
    const pad = 4;
    const panelW = CHART_W + 2 * pad;
    const panelH = BAR_H + 2 * pad + 10;
    let px = box.x + box.w + 6;
    if (px + panelW > shown.x + shown.w) px = box.x - panelW - 6;
    px = Math.max(shown.x, px);
    const py = Math.max(shown.y, Math.min(box.y + box.h - panelH, shown.y + shown.h - panelH));
    ctx.fillStyle = 'rgba(0,0,0,0.72)';
    ctx.fillRect(px, py, panelW, panelH);
    ctx.font = '9px system-ui, sans-serif';
    LABELS.forEach((l, i) => {
      const v = Math.max(0, Math.min(1, scores[l]));
      const bx = px + pad + i * (BAR_W + BAR_GAP);
      const bh = Math.max(1, v * BAR_H);
      ctx.fillStyle = LABEL_COLORS[l];
      ctx.fillRect(bx, py + pad + BAR_H - bh, BAR_W, bh);
      ctx.fillStyle = '#e8e8ee';
      ctx.fillText(l.charAt(0).toUpperCase(), bx + 1, py + pad + BAR_H + 9);
    });
  }
}
