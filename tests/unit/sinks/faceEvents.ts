import type { FaceEndEvent, FaceEvent, StreamStateEvent } from '../../../src/core/events.js';
import { EMOTION_LABELS, type EmotionLabel } from '../../../src/core/labels.js';

/** A valid face event of `type` for track `n` of `streamId`, showing `label` (scores lean 0.7 towards it). */
export function faceEvent(
  type: 'face.new' | 'face.update' | 'face.end',
  streamId: string,
  n: number,
  ts: number,
  label: EmotionLabel = 'neutral',
  valence = 0.1,
): FaceEvent {
  const scores = Object.fromEntries(EMOTION_LABELS.map((l) => [l, l === label ? 0.7 : 0.05])) as Record<
    EmotionLabel,
    number
  >;
  const common = {
    streamId,
    trackId: `${streamId}/${n}`,
    ts,
    frameSeq: Math.round(ts / 40),
    frame: { w: 640, h: 480 },
    box: { x: 10, y: 20, w: 50, h: 60 },
    detScore: 0.9,
    emotion: { label, scores },
    valence,
    arousal: 0.05,
    mask: null,
  };
  if (type !== 'face.end') return { type, ...common } as FaceEvent;
  const end: FaceEndEvent = { type, ...common, durationMs: 1000, dominant: label, timeShare: scores };
  return end;
}

export function stateEvent(
  streamId: string,
  state: StreamStateEvent['state'],
  reason = 'test',
  ts = 1,
): StreamStateEvent {
  return { type: 'stream.state', streamId, ts, state, reason };
}
