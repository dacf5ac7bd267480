import { writeFileSync } from 'node:fs';
import { createCanvas } from '@napi-rs/canvas';
import type { EpochStats } from './HeadTrainer.js';

const W = 900;
const H = 420;
const PAD = { left: 60, right: 20, top: 56, bottom: 50 };

type Ctx = ReturnType<ReturnType<typeof createCanvas>['getContext']>;

/**
 * Draws the loss (left panel) and accuracy (right panel) per epoch, training and validation, with the epoch kept
 * by early stopping marked, and writes a PNG.
 */
export function writeTrainingCurve(
  path: string,
  history: readonly EpochStats[],
  bestEpoch: number,
  title: string,
): void {
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = '#111111';
  ctx.font = 'bold 15px sans-serif';
  ctx.fillText(title, PAD.left, 22);
  const half = W / 2;
  const losses = history.flatMap((h) => [h.loss, h.valLoss]).filter(Number.isFinite);
  panel(ctx, 0, half, 'loss', history, bestEpoch, Math.max(...losses, 0.01) * 1.05, [
    ['train', '#1f77b4', (h) => h.loss],
    ['validation', '#d62728', (h) => h.valLoss],
  ]);
  panel(ctx, half, half, 'accuracy', history, bestEpoch, 1, [
    ['train', '#1f77b4', (h) => h.accuracy],
    ['validation', '#d62728', (h) => h.valAccuracy],
  ]);
  writeFileSync(path, canvas.toBuffer('image/png'));
}

function panel(
  ctx: Ctx,
  x0: number,
  width: number,
  name: string,
  history: readonly EpochStats[],
  bestEpoch: number,
  yMax: number,
  series: [string, string, (h: EpochStats) => number][],
): void {
  const left = x0 + PAD.left;
  const right = x0 + width - PAD.right;
  const top = PAD.top;
  const bottom = H - PAD.bottom;
  const epochs = Math.max(2, history.length);
  const px = (e: number) => left + ((e - 1) / (epochs - 1)) * (right - left);
  const py = (v: number) => bottom - (v / yMax) * (bottom - top);
  ctx.strokeStyle = '#dddddd';
  ctx.lineWidth = 1;
  ctx.fillStyle = '#333333';
  ctx.font = '11px sans-serif';
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    ctx.beginPath();
    ctx.moveTo(left, py(v));
    ctx.lineTo(right, py(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(2), left - 40, py(v) + 4);
  }
  const step = Math.max(1, Math.ceil(epochs / 10));
  for (let e = 1; e <= epochs; e += step) ctx.fillText(String(e), px(e) - 4, bottom + 15);
  ctx.fillText('epoch', (left + right) / 2 - 15, bottom + 32);
  ctx.font = 'bold 13px sans-serif';
  ctx.fillText(name, left, top - 8);
  ctx.strokeStyle = '#888888';
  ctx.strokeRect(left, top, right - left, bottom - top);
  if (bestEpoch > 0) {
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(px(bestEpoch), top);
    ctx.lineTo(px(bestEpoch), bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.font = '11px sans-serif';
    ctx.fillText(`kept: epoch ${bestEpoch}`, px(bestEpoch) + 4, top + 14);
  }
  series.forEach(([label, colour, value], k) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    history.forEach((h, i) => {
      const v = value(h);
      if (!Number.isFinite(v)) return;
      if (i === 0) ctx.moveTo(px(h.epoch), py(v));
      else ctx.lineTo(px(h.epoch), py(v));
    });
    ctx.stroke();
    ctx.fillStyle = colour;
    ctx.fillRect(right - 110, top + 10 + k * 16, 12, 3);
    ctx.fillStyle = '#333333';
    ctx.font = '11px sans-serif';
    ctx.fillText(label, right - 94, top + 15 + k * 16);
  });
}
