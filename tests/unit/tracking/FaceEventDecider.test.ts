import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../../src/core/events.js';
import { FaceEventDecider } from '../../../src/tracking/FaceEventDecider.js';

const FRAME = { seq: 0, w: 640, h: 480 };
const happy = Float32Array.from([0, 0, 0, 1, 0, 0, 0]);
const face = (x: number) => ({ x, y: 100, w: 80, h: 80, score: 0.9 });

/** Two faces, far apart, seen on a few detection frames 200 ms apart; returns the events of the last one. */
function run(faces: FaceEventDecider, frames: number, between?: (ts: number, ids: string[]) => void): BusEvent[] {
  let events: BusEvent[] = [];
  for (let k = 0; k < frames; k++) {
    const ts = 1000 + 200 * k;
    const active = faces.step(ts, [face(50), face(400)]);
    between?.(
      ts,
      active.map((a) => a.trackId),
    );
    events = faces.observe(ts, { ...FRAME, seq: k }, [happy, happy]);
  }
  return events;
}

describe('FaceEventDecider mask scores', () => {
  it('carries mask scores computed apart from the emotions into the next events, smoothed', () => {
    const faces = new FaceEventDecider('s1');
    let ids: string[] = [];
    const before = run(faces, 3, (_, active) => {
      ids = active;
    });
    const updates = before.filter((e) => e.type === 'face.update' || e.type === 'face.new');
    expect(updates).toHaveLength(2);
    for (const e of updates) expect((e as { mask: unknown }).mask).toBeNull();
    expect(faces.lastMaskTs(ids[0] as string)).toBeUndefined();

    faces.observeMasks(1400, ids, Float32Array.from([0.9, 0.1]));
    faces.observeMasks(1400, ['s1-no-such-track'], Float32Array.from([0.9]));
    expect(faces.lastMaskTs(ids[0] as string)).toBe(1400);
    const after = faces.observe(1400, FRAME, [happy, happy]);
    const masks = after
      .filter((e) => e.type === 'face.update')
      .map((e) => (e as { trackId: string; mask: unknown }).mask);
    expect(masks).toEqual([
      { present: true, score: 0.9 },
      { present: false, score: 0.1 },
    ]);

    // a later score moves the smoothed one part of the way (time constant), not all of it
    const active = faces.step(1600, [face(50), face(400)]);
    faces.observeMasks(
      1600,
      active.map((a) => a.trackId),
      Float32Array.from([0.1, 0.1]),
    );
    const later = faces.observe(1600, FRAME, [happy, happy]).filter((e) => e.type === 'face.update');
    const score = (later[0] as { mask: { score: number } }).mask.score;
    expect(score).toBeLessThan(0.9);
    expect(score).toBeGreaterThan(0.5);
  });
});

describe('FaceEventDecider.needsDetection', () => {
  it('asks for a detection at once after a first miss, then leaves a face the detector keeps missing to the cadence', () => {
    const faces = new FaceEventDecider('s1');
    run(faces, 3); // two confirmed tracks
    expect(faces.needsDetection).toBe(false);
    let ts = 1000 + 200 * 3;
    faces.step(ts, [face(50)]); // the face at 400 is missed once
    expect(faces.needsDetection).toBe(true);
    ts += 200;
    faces.step(ts, [face(50)]); // missed again: still lost, but no more detections every frame for it
    expect(faces.needsDetection).toBe(false);
    ts += 200;
    faces.step(ts, null); // predicted frames do not change it
    expect(faces.needsDetection).toBe(false);
    ts += 200;
    faces.step(ts, []); // the face at 50 missed for the first time (and no track active any more): at once
    expect(faces.needsDetection).toBe(true);
  });
});
