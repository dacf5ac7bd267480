import { describe, expect, it } from 'vitest';
import { containRect, scaleBox } from '../../../web-client/src/boxScaling.js';

describe('containRect (object-fit: contain)', () => {
  it('letterboxes a 4:3 picture in a wide element: full height, centred horizontally', () => {
    const r = containRect(640, 480, 800, 400);
    expect([r.y, r.h]).toEqual([0, 400]);
    expect(r.w).toBeCloseTo(533.333, 3);
    expect(r.x).toBeCloseTo(133.333, 3);
  });

  it('pillarboxes a 16:9 picture in a 4:3 element: full width, centred vertically', () => {
    const r = containRect(1280, 720, 640, 480);
    expect(r.x).toBe(0);
    expect(r.w).toBe(640);
    expect(r.h).toBeCloseTo(360, 9);
    expect(r.y).toBeCloseTo(60, 9);
  });

  it('fills the element when the picture size is not known yet (videoWidth 0)', () => {
    expect(containRect(0, 0, 300, 200)).toEqual({ x: 0, y: 0, w: 300, h: 200 });
  });
});

describe('scaleBox', () => {
  it('maps a box from frame pixels onto the shown picture', () => {
    const shown = containRect(640, 480, 320, 240); // half size, no bars
    expect(scaleBox({ x: 210, y: 88, w: 96, h: 112 }, { w: 640, h: 480 }, shown)).toEqual({
      x: 105,
      y: 44,
      w: 48,
      h: 56,
    });
  });

  it('adds the letterbox offset', () => {
    const shown = containRect(640, 480, 1000, 480); // 640x480 at x=180
    expect(scaleBox({ x: 0, y: 0, w: 64, h: 48 }, { w: 640, h: 480 }, shown)).toEqual({ x: 180, y: 0, w: 64, h: 48 });
  });

  it('scales x and y independently when the analyzed frame has another aspect than the video', () => {
    // Server frames 640x360 from a 640x480 camera shown at 640x480: y stretches by 480/360.
    const shown = containRect(640, 480, 640, 480);
    const b = scaleBox({ x: 320, y: 180, w: 64, h: 36 }, { w: 640, h: 360 }, shown);
    expect(b).toEqual({ x: 320, y: 240, w: 64, h: 48 });
  });

  it('clips a box that sticks out of the frame to the picture', () => {
    const shown = { x: 10, y: 20, w: 640, h: 480 };
    const b = scaleBox({ x: -20, y: 450, w: 60, h: 60 }, { w: 640, h: 480 }, shown);
    expect(b).toEqual({ x: 10, y: 470, w: 40, h: 30 });
  });
});
