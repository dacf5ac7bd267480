import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EMOTION_LABELS } from '../../../src/core/labels.js';
import type { FaceBox } from '../../../src/core/types.js';
import { EmotionSmoother, type SmootherOptions } from '../../../src/tracking/EmotionSmoother.js';
import { FaceTracker } from '../../../src/tracking/FaceTracker.js';

interface RecordedFrame {
  ts: number;
  faces: { box: { x: number; y: number; w: number; h: number }; detScore: number; probs: number[] }[];
}

/** The real models' output on a real video (scripts/record-emotion-sequence.mjs). */
export function loadRecording(): { fps: number; frames: RecordedFrame[] } {
  const path = fileURLToPath(new URL('../../fixtures/emotion-sequence.json', import.meta.url));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`missing ${path}: run \`node scripts/record-emotion-sequence.mjs > ${path}\``);
  }
  return JSON.parse(text);
}

const argmax = (p: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
  return best;
};

/**
 * Replays the recording through the tracker and a smoother per track. Per track: the raw argmax labels and the
 * smoothed labels, frame by frame, so label flips can be counted both ways.
 */
export function replay(smoothing: Partial<SmootherOptions> = {}) {
  const { frames } = loadRecording();
  const tracker = new FaceTracker('video');
  const smoothers = new Map<string, EmotionSmoother>();
  const labels = new Map<string, { raw: number[]; smoothed: string[] }>();
  const confirmed = new Set<string>();
  for (const frame of frames) {
    const detections: FaceBox[] = frame.faces.map((f) => ({ ...f.box, score: f.detScore }));
    const step = tracker.update(frame.ts, detections);
    for (const t of step.confirmed) confirmed.add(t.id);
    for (const track of step.active) {
      // The recorded face whose box this track matched (best IoU with the corrected box).
      const face = frame.faces.find(
        (f) => Math.abs(f.box.x - track.box.x) < f.box.w / 2 && Math.abs(f.box.y - track.box.y) < f.box.h / 2,
      );
      if (!face || track.lastSeen !== frame.ts) continue;
      let smoother = smoothers.get(track.id);
      if (!smoother) {
        smoother = new EmotionSmoother(smoothing);
        smoothers.set(track.id, smoother);
        labels.set(track.id, { raw: [], smoothed: [] });
      }
      smoother.observe(frame.ts, face.probs);
      const entry = labels.get(track.id) as { raw: number[]; smoothed: string[] };
      entry.raw.push(argmax(face.probs));
      entry.smoothed.push(smoother.label);
      const sum = smoother.probs.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-9) throw new Error(`smoothed scores sum to ${sum}`);
    }
  }
  const flips = (xs: readonly (string | number)[]) =>
    xs.reduce<number>((n, x, i) => n + (i > 0 && x !== xs[i - 1] ? 1 : 0), 0);
  let raw = 0;
  let smoothed = 0;
  for (const [id, l] of labels) {
    if (!confirmed.has(id)) continue;
    raw += flips(l.raw.map((i) => EMOTION_LABELS[i] as string));
    smoothed += flips(l.smoothed);
  }
  return { rawFlips: raw, smoothedFlips: smoothed, tracks: confirmed.size, frames: frames.length };
}
