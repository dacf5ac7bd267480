/**
 * Protocol events built from the recorded detection + emotion sequence of a real video
 * (tests/fixtures/emotion-sequence.json: blazeface + the human emotion model on fr_short_hamilton_clip.mp4), each
 * validated against the server's event schema, so the client is tested on messages the server would really send.
 * Tracks are assigned by nearest box centre to the previous frame (a stand-in for the tracker).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { valenceArousal } from '../../../src/core/affect.js';
import { type BusEvent, BusEventSchema, type FaceEvent } from '../../../src/core/events.js';
import { EMOTION_LABELS, scoresFromVector, topLabel } from '../../../src/core/labels.js';

interface Recorded {
  width: number;
  frames: {
    ts: number;
    faces: { box: { x: number; y: number; w: number; h: number }; detScore: number; probs: number[] }[];
  }[];
}

export const SEQUENCE = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../fixtures/emotion-sequence.json'), 'utf8'),
) as Recorded;

function normalise(probs: number[]): number[] {
  const sum = probs.reduce((a, b) => a + b, 0);
  return probs.map((p) => p / sum);
}

/**
 * The sequence as `face.new` / `face.update` / `face.end` events of stream `streamId`, capture times from `t0`.
 * A track ends when no face is within `maxJump` px of its last centre.
 */
export function sequenceEvents(streamId: string, t0 = 1_732_233_600_000, maxJump = 60): BusEvent[] {
  const out: BusEvent[] = [];
  const live = new Map<string, { cx: number; cy: number; first: number; last: FaceEvent }>();
  let next = 1;
  SEQUENCE.frames.forEach((frame, seq) => {
    const ts = t0 + frame.ts;
    const claimed = new Set<string>();
    for (const face of frame.faces) {
      const cx = face.box.x + face.box.w / 2;
      const cy = face.box.y + face.box.h / 2;
      let best: string | undefined;
      let bestD = maxJump;
      for (const [id, t] of live) {
        const d = Math.hypot(t.cx - cx, t.cy - cy);
        if (!claimed.has(id) && d < bestD) {
          best = id;
          bestD = d;
        }
      }
      const probs = normalise(face.probs);
      const { valence, arousal } = valenceArousal(probs);
      const isNew = best === undefined;
      const trackId = best ?? `${streamId}/${next++}`;
      claimed.add(trackId);
      const event = BusEventSchema.parse({
        type: isNew ? 'face.new' : 'face.update',
        streamId,
        trackId,
        ts,
        frameSeq: seq,
        frame: { w: 640, h: 360 },
        box: face.box,
        detScore: Math.min(1, face.detScore),
        emotion: { label: topLabel(probs), scores: scoresFromVector(probs) },
        valence,
        arousal,
        mask: null,
      }) as FaceEvent;
      out.push(event);
      live.set(trackId, { cx, cy, first: live.get(trackId)?.first ?? ts, last: event });
    }
    for (const [id, t] of live) {
      if (claimed.has(id)) continue;
      live.delete(id);
      const share = Object.fromEntries(EMOTION_LABELS.map((l) => [l, l === t.last.emotion.label ? 1 : 0]));
      out.push(
        BusEventSchema.parse({
          ...t.last,
          type: 'face.end',
          ts,
          durationMs: t.last.ts - t.first,
          dominant: t.last.emotion.label,
          timeShare: share,
        }),
      );
    }
  });
  return out;
}
