import { describe, expect, it } from 'vitest';
import { cropBatch, cropRegion, cropResize, mirror } from '../../../src/inference/faceCrop.js';

/** A 4x2 image whose pixel (x, y) is (10x, 10y, 7). */
function gradient(width: number, height: number) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([10 * x, 10 * y, 7], (y * width + x) * 3);
  }
  return { data, width, height };
}

describe('face crops', () => {
  it('cuts a square around the box centre, enlarged by the margin', () => {
    expect(cropRegion({ x: 100, y: 50, w: 40, h: 60 }, 0.5)).toEqual({ x: 75, y: 35, w: 90, h: 90 });
    expect(cropRegion({ x: 0, y: 0, w: 10, h: 10 }, 0)).toEqual({ x: 0, y: 0, w: 10, h: 10 });
  });

  it('copies pixels exactly at scale 1 and repeats edges outside the image', () => {
    const img = gradient(4, 2);
    const out = new Uint8Array(2 * 2 * 3);
    cropResize(img, { x: 1, y: 0, w: 2, h: 2 }, 2, out);
    expect([...out]).toEqual([10, 0, 7, 20, 0, 7, 10, 10, 7, 20, 10, 7]);
    cropResize(img, { x: -2, y: -2, w: 2, h: 2 }, 2, out);
    expect([...out]).toEqual([0, 0, 7, 0, 0, 7, 0, 0, 7, 0, 0, 7]);
  });

  it('interpolates bilinearly when downscaling', () => {
    const img = gradient(4, 4);
    const out = new Uint8Array(3);
    cropResize(img, { x: 0, y: 0, w: 4, h: 4 }, 1, out);
    expect([...out]).toEqual([15, 15, 7]); // centre of the image: between pixels 1 and 2 on both axes
  });

  it('puts one crop per box into one contiguous batch', () => {
    const img = gradient(8, 8);
    const batch = cropBatch(
      img,
      [
        { x: 0, y: 0, w: 2, h: 2 },
        { x: 4, y: 4, w: 2, h: 2 },
      ],
      2,
      0,
    );
    expect(batch.count).toBe(2);
    expect(batch.data.length).toBe(2 * 2 * 2 * 3);
    expect([...batch.data.subarray(12, 15)]).toEqual([40, 40, 7]);
  });

  it('mirrors left-right', () => {
    const img = gradient(4, 2);
    const m = mirror(img);
    expect([...m.data.subarray(0, 3)]).toEqual([30, 0, 7]);
    expect(mirror(m).data).toEqual(img.data);
  });
});
