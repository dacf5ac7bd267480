/** Geometry of the overlays: where a video's picture lands in its element, and where a face box lands on it. */

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * The rectangle a picture of `srcW`x`srcH` occupies inside an element of `boxW`x`boxH` with `object-fit: contain`
 * (the default for <video>): scaled to fit, centred, letterboxed. An unknown picture size fills the element.
 */
export function containRect(srcW: number, srcH: number, boxW: number, boxH: number): Rect {
  if (!(srcW > 0 && srcH > 0 && boxW > 0 && boxH > 0))
    return { x: 0, y: 0, w: Math.max(0, boxW), h: Math.max(0, boxH) };
  const scale = Math.min(boxW / srcW, boxH / srcH);
  const w = srcW * scale;
  const h = srcH * scale;
  return { x: (boxW - w) / 2, y: (boxH - h) / 2, w, h };
}

/**
 * Maps a box given in the pixel space of the analyzed frame (`frame`, as sent with every event) onto the displayed
 * picture (`shown`, e.g. from containRect). The server scales every source to a fixed frame size, which may not keep
 * the camera's aspect ratio, so x and y scale independently. The result is clipped to the picture.
 */
export function scaleBox(box: Rect, frame: { w: number; h: number }, shown: Rect): Rect {
  const sx = shown.w / frame.w;
  const sy = shown.h / frame.h;
  const x0 = clamp(shown.x + box.x * sx, shown.x, shown.x + shown.w);
  const y0 = clamp(shown.y + box.y * sy, shown.y, shown.y + shown.h);
  const x1 = clamp(shown.x + (box.x + box.w) * sx, shown.x, shown.x + shown.w);
  const y1 = clamp(shown.y + (box.y + box.h) * sy, shown.y, shown.y + shown.h);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
