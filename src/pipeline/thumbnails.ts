import type { Box, RgbImage } from '../core/types.js';

/**
 * Small grey copies of frames and face regions, for deciding cheaply whether anything changed: each cell is the mean
 * grey level of a 4x4 grid of samples inside it (48 reads per cell at most), so a 640x480 frame costs about 20k reads.
 */
export function greyThumbnail(image: RgbImage, region: Box, cols: number, rows: number): Uint8Array {
  const { data, width, height } = image;
  const out = new Uint8Array(cols * rows);
  const cw = region.w / cols;
  const ch = region.h / rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let sy = 0; sy < 4; sy++) {
        const y = clamp(Math.floor(region.y + (r + (sy + 0.5) / 4) * ch), 0, height - 1);
        for (let sx = 0; sx < 4; sx++) {
          const x = clamp(Math.floor(region.x + (c + (sx + 0.5) / 4) * cw), 0, width - 1);
          const p = (y * width + x) * 3;
          // ITU-R BT.601 luma in integers
          sum += (77 * (data[p] as number) + 150 * (data[p + 1] as number) + 29 * (data[p + 2] as number)) >> 8;
        }
      }
      out[r * cols + c] = sum >> 4;
    }
  }
  return out;
}

/** The share of cells whose grey level moved by more than `threshold` between two thumbnails of one size. */
export function changedShare(a: Uint8Array, b: Uint8Array, threshold: number): number {
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs((a[i] as number) - (b[i] as number)) > threshold) changed++;
  return changed / a.length;
}

/** The mean absolute difference of two thumbnails of one size, in grey levels. */
export function meanDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : Math.min(v, hi);
}
