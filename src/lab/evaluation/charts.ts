import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';

const FONT = 'DejaVu Sans, sans-serif';

/** White → deep blue, perceptually monotone enough for a heatmap; t in [0, 1]. */
function blue(t: number): string {
  const c = Math.max(0, Math.min(1, t));
  const r = Math.round(247 - c * (247 - 8));
  const g = Math.round(251 - c * (251 - 48));
  const b = Math.round(255 - c * (255 - 107));
  return `rgb(${r},${g},${b})`;
}

/**
 * A confusion-matrix heatmap (PNG): rows are true labels, columns predictions, cell colour the row-normalised
 * share, cell text the share and the count, with a colour scale bar and a title.
 */
export function confusionMatrixPng(opts: {
  title: string;
  rows: readonly string[];
  cols: readonly string[];
  counts: readonly (readonly number[])[];
  rowNormalised: readonly (readonly number[])[];
}): Buffer {
  const cell = 78;
  const left = 120;
  const top = 90;
  const width = left + cell * opts.cols.length + 110;
  const height = top + cell * opts.rows.length + 70;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#111111';
  ctx.font = `bold 18px ${FONT}`;
  ctx.textAlign = 'left';
  ctx.fillText(opts.title, 16, 30);
  ctx.font = `14px ${FONT}`;
  ctx.textAlign = 'center';
  ctx.fillText('predicted', left + (cell * opts.cols.length) / 2, top - 40);
  opts.cols.forEach((c, j) => {
    ctx.fillText(c, left + j * cell + cell / 2, top - 12);
  });
  ctx.save();
  ctx.translate(22, top + (cell * opts.rows.length) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('true label', 0, 0);
  ctx.restore();
  ctx.textAlign = 'right';
  opts.rows.forEach((r, i) => {
    ctx.fillText(r, left - 10, top + i * cell + cell / 2 + 5);
  });
  opts.rows.forEach((_, i) => {
    opts.cols.forEach((_, j) => {
      const share = opts.rowNormalised[i]?.[j] ?? 0;
      const count = opts.counts[i]?.[j] ?? 0;
      ctx.fillStyle = blue(share);
      ctx.fillRect(left + j * cell, top + i * cell, cell - 2, cell - 2);
      ctx.fillStyle = share > 0.5 ? '#ffffff' : '#111111';
      ctx.textAlign = 'center';
      ctx.font = `bold 15px ${FONT}`;
      ctx.fillText(share.toFixed(2), left + j * cell + cell / 2, top + i * cell + cell / 2);
      ctx.font = `12px ${FONT}`;
      ctx.fillText(String(count), left + j * cell + cell / 2, top + i * cell + cell / 2 + 18);
    });
  });
  colourBar(ctx, left + cell * opts.cols.length + 30, top, cell * opts.rows.length);
  return canvas.toBuffer('image/png');
}

function colourBar(ctx: SKRSContext2D, x: number, y: number, h: number): void {
  for (let k = 0; k < h; k++) {
    ctx.fillStyle = blue(1 - k / h);
    ctx.fillRect(x, y + k, 22, 1);
  }
  ctx.strokeStyle = '#444444';
  ctx.strokeRect(x, y, 22, h);
  ctx.fillStyle = '#111111';
  ctx.font = `12px ${FONT}`;
  ctx.textAlign = 'left';
  for (const v of [0, 0.25, 0.5, 0.75, 1]) ctx.fillText(v.toFixed(2), x + 28, y + (1 - v) * h + 4);
}

const LINE_COLOURS = ['#1e88e5', '#e53935', '#43a047', '#8e24aa', '#fb8c00'];

/** Precision/recall curves, one line per series, with axes, grid and a legend. */
export function precisionRecallPng(
  title: string,
  series: { name: string; points: { recall: number; precision: number }[] }[],
): Buffer {
  const width = 640;
  const height = 520;
  const pad = { left: 70, right: 30, top: 60, bottom: 60 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#111111';
  ctx.font = `bold 17px ${FONT}`;
  ctx.fillText(title, pad.left, 32);
  ctx.font = `12px ${FONT}`;
  ctx.strokeStyle = '#dddddd';
  for (let k = 0; k <= 10; k++) {
    const gx = pad.left + (k / 10) * w;
    const gy = pad.top + h - (k / 10) * h;
    ctx.beginPath();
    ctx.moveTo(gx, pad.top);
    ctx.lineTo(gx, pad.top + h);
    ctx.moveTo(pad.left, gy);
    ctx.lineTo(pad.left + w, gy);
    ctx.stroke();
    if (k % 2 === 0) {
      ctx.textAlign = 'center';
      ctx.fillText((k / 10).toFixed(1), gx, pad.top + h + 18);
      ctx.textAlign = 'right';
      ctx.fillText((k / 10).toFixed(1), pad.left - 8, gy + 4);
    }
  }
  ctx.textAlign = 'center';
  ctx.font = `14px ${FONT}`;
  ctx.fillText('recall', pad.left + w / 2, height - 15);
  ctx.save();
  ctx.translate(20, pad.top + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('precision', 0, 0);
  ctx.restore();
  series.forEach((s, k) => {
    const colour = LINE_COLOURS[k % LINE_COLOURS.length] as string;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    s.points.forEach((p, i) => {
      const x = pad.left + p.recall * w;
      const y = pad.top + h - p.precision * h;
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = colour;
    ctx.fillRect(pad.left + w - 200, pad.top + h - 30 - k * 22, 18, 4);
    ctx.fillStyle = '#111111';
    ctx.textAlign = 'left';
    ctx.font = `13px ${FONT}`;
    ctx.fillText(s.name, pad.left + w - 175, pad.top + h - 24 - k * 22);
  });
  return canvas.toBuffer('image/png');
}
