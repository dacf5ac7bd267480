import { describe, expect, it } from 'vitest';
import type { FaceBox } from '../../../src/core/types.js';
import { FaceTracker } from '../../../src/tracking/FaceTracker.js';

const face = (x: number, y: number, score = 0.9, size = 80): FaceBox => ({ x, y, w: size, h: size, score });

/**
 * Runs a scenario at `fps`: `at(tMs)` gives the detections at that time. Returns per-step results, with the ids of
 * the active tracks ordered left to right at that moment (tracks are live objects: read them when they happen).
 */
function run(fps: number, durationMs: number, at: (t: number) => FaceBox[], tracker = new FaceTracker('s')) {
  const steps = [];
  for (let t = 0; t <= durationMs; t += 1000 / fps) {
    const step = tracker.update(t, at(t));
    const leftToRight = [...step.active].sort((a, b) => a.box.x - b.box.x).map((track) => track.id);
    const confirmedCount = step.active.filter((track) => track.status === 'confirmed').length;
    steps.push({ t, ...step, leftToRight, confirmedCount });
  }
  return { steps, tracker };
}

describe('FaceTracker', () => {
  it('two faces crossing keep their ids (constant velocity carries them through the overlap)', () => {
    for (const fps of [5, 30]) {
      // A moves right, B moves left, same row; they overlap fully around t = 2 s.
      const at = (t: number) => [face(50 + 0.2 * t, 200), face(850 - 0.2 * t, 200)];
      const { steps } = run(fps, 4000, at);
      const first = steps.find((s) => s.confirmedCount === 2);
      const last = steps.at(-1);
      // Before the crossing A (s/1) is left of B (s/2); after it, right of it: the ids swap places, not owners.
      expect(first?.leftToRight).toEqual(['s/1', 's/2']);
      expect(last?.leftToRight).toEqual(['s/2', 's/1']);
      expect(new Set(steps.flatMap((s) => s.active.map((t) => t.id))).size).toBe(2);
      expect(steps.flatMap((s) => s.ended)).toHaveLength(0);
    }
  });

  it('a face occluded for less than maxLostMs keeps its id; one gone for longer ends exactly once', () => {
    for (const fps of [5, 30]) {
      const occluded = (t: number) => (t > 1000 && t < 1800 ? [] : [face(100 + 0.05 * t, 100)]);
      const a = run(fps, 3000, occluded);
      expect(new Set(a.steps.flatMap((s) => s.active.map((t) => t.id)))).toEqual(new Set(['s/1']));
      expect(a.steps.flatMap((s) => s.ended)).toHaveLength(0);

      const leaves = (t: number) => (t < 1000 ? [face(100, 100)] : []);
      const b = run(fps, 4000, leaves);
      const ended = b.steps.flatMap((s) => s.ended.map((t) => ({ id: t.id, at: s.t })));
      expect(ended.map((e) => e.id)).toEqual(['s/1']);
      const endTime = ended[0]?.at ?? 0;
      expect(endTime).toBeGreaterThan(1000 + b.tracker.options.maxLostMs - 1000 / fps);
      expect(endTime).toBeLessThanOrEqual(1000 + b.tracker.options.maxLostMs + 1000 / fps);
    }
  });

  it('a one-frame false positive never becomes a confirmed track', () => {
    const at = (t: number) => (Math.abs(t - 1000) < 1 ? [face(100, 100), face(400, 300)] : [face(100, 100)]);
    const { steps } = run(5, 3000, at);
    const confirmed = new Set(steps.flatMap((s) => s.confirmed.map((t) => t.id)));
    expect(confirmed).toEqual(new Set(['s/1']));
  });

  it('low-score detections keep a confirmed track alive but never start one', () => {
    const dim = (t: number) => [face(100, 100, t < 600 ? 0.9 : 0.4), face(500, 100, 0.4)];
    const { steps } = run(5, 3000, dim);
    expect(new Set(steps.flatMap((s) => s.confirmed.map((t) => t.id)))).toEqual(new Set(['s/1']));
    expect(steps.flatMap((s) => s.ended)).toHaveLength(0);
    expect(steps.at(-1)?.active.map((t) => t.id)).toEqual(['s/1']);
  });

  it('predict() moves tracks without counting misses, so skipped detections lose nothing', () => {
    const tracker = new FaceTracker('s');
    for (let t = 0; t <= 400; t += 200) tracker.update(t, [face(100 + 0.1 * t, 100)]);
    let step = tracker.predict(600);
    for (let t = 800; t <= 4000; t += 200) step = tracker.predict(t);
    expect(step.active.map((t) => t.id)).toEqual(['s/1']);
    expect(step.active[0]?.box.x).toBeGreaterThan(100 + 0.1 * 400); // it kept moving
    const next = tracker.update(4200, [face(100 + 0.1 * 4200, 100)]);
    expect(next.active.map((t) => t.id)).toEqual(['s/1']);
  });

  it('ids are stable strings of the stream, counting from 1', () => {
    const tracker = new FaceTracker('cam-1');
    tracker.update(0, [face(0, 0), face(300, 0)]);
    expect(
      tracker
        .update(200, [face(0, 0), face(300, 0)])
        .confirmed.map((t) => t.id)
        .sort(),
    ).toEqual(['cam-1/1', 'cam-1/2']);
  });
});
