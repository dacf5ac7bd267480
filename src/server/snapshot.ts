import sharp from 'sharp';
import type { AnalyzedFrame } from '../pipeline/LiveStream.js';

const COLOURS: Record<string, string> = {
  angry: '#e53935',
  disgust: '#8e24aa',
  fear: '#5e35b1',
  happy: '#fdd835',
  sad: '#1e88e5',
  surprise: '#fb8c00',
  neutral: '#eeeeee',
};

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The analyzed frame as a JPEG with each face's box, track id and smoothed label drawn on it. */
export async function renderSnapshot({ frame, faces }: AnalyzedFrame): Promise<Buffer> {
  const stroke = Math.max(2, Math.round(frame.width / 320));
  const font = Math.max(12, Math.round(frame.width / 40));
  const shapes = faces.map((f) => {
    const colour = COLOURS[f.label] ?? '#ffffff';
    const { x, y, w, h } = f.box;
    const text = escapeXml(`${f.label} ${Math.round(f.confidence * 100)}%  #${f.trackId.split('/').pop()}`);
    const ty = y > font + 4 ? y - 4 : y + h + font;
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<text x="${x}" y="${ty}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="${colour}" ` +
      `stroke="black" stroke-width="${stroke / 3}" paint-order="stroke">${text}</text>`
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}">${shapes.join('')}</svg>`;
  // A copy: the frame's memory goes back to its source when a newer frame is analyzed, which may be before sharp reads it.
  return sharp(Buffer.from(frame.data), { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality: 80 })
    .toBuffer();
}
