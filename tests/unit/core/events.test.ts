import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BUS_EVENT_TYPES,
  BusEventSchema,
  EventsMessageSchema,
  encodeEvent,
  type FaceUpdateEvent,
} from '../../../src/core/events.js';
import { EMOTION_LABELS } from '../../../src/core/labels.js';

/** The example of docs/interfaces.md's `/events` section, verbatim. */
const INTERFACES_EXAMPLE = `{ "type": "face.update", "streamId": "cam-1", "trackId": "cam-1/17", "ts": 1732233600123, "frameSeq": 4211,
  "frame": { "w": 640, "h": 480 },
  "box": { "x": 210, "y": 88, "w": 96, "h": 112 }, "detScore": 0.93,
  "emotion": { "label": "happy", "scores": { "angry": 0.01, "disgust": 0.0, "fear": 0.02, "happy": 0.86,
               "sad": 0.03, "surprise": 0.02, "neutral": 0.06 } },
  "valence": 0.62, "arousal": 0.31, "mask": null }`;

function example(): FaceUpdateEvent {
  return JSON.parse(INTERFACES_EXAMPLE) as FaceUpdateEvent;
}

function issuesOf(value: unknown): string[] {
  const r = BusEventSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
}

describe('event schemas', () => {
  it('accepts the docs/interfaces.md example verbatim and keeps every field', () => {
    const parsed = BusEventSchema.parse(JSON.parse(INTERFACES_EXAMPLE));
    expect(parsed).toEqual(JSON.parse(INTERFACES_EXAMPLE));
    expect(parsed.type).toBe('face.update');
  });

  it('accepts the same fields for face.new, and face.emotion / face.end with their extra fields', () => {
    const base = example();
    expect(BusEventSchema.safeParse({ ...base, type: 'face.new' }).success).toBe(true);
    expect(
      BusEventSchema.safeParse({
        ...base,
        type: 'face.emotion',
        from: 'neutral',
        to: 'happy',
      }).success,
    ).toBe(true);
    const end = {
      ...base,
      type: 'face.end',
      durationMs: 8400,
      dominant: 'happy',
      timeShare: {
        angry: 0,
        disgust: 0,
        fear: 0,
        happy: 0.7,
        sad: 0,
        surprise: 0.05,
        neutral: 0.25,
      },
    };
    expect(BusEventSchema.safeParse(end).success).toBe(true);
    expect(
      BusEventSchema.safeParse({
        ...base,
        mask: { present: true, score: 0.91 },
      }).success,
    ).toBe(true);
  });

  it('accepts stream.state and the dropped notice', () => {
    for (const state of ['starting', 'live', 'stalled', 'reconnecting', 'ended']) {
      expect(
        BusEventSchema.safeParse({
          type: 'stream.state',
          streamId: 'cam-1',
          ts: 1,
          state,
          reason: 'x',
        }).success,
      ).toBe(true);
    }
    expect(EventsMessageSchema.safeParse({ type: 'dropped', count: 12 }).success).toBe(true);
    expect(EventsMessageSchema.safeParse({ type: 'dropped', count: 0 }).success).toBe(false);
    expect(BusEventSchema.safeParse({ type: 'dropped', count: 12 }).success).toBe(false);
  });

  it('rejects scores that miss a label, carry an extra one, or do not sum to 1', () => {
    const missing = example();
    delete (missing.emotion.scores as Partial<Record<string, number>>).neutral;
    expect(issuesOf(missing)).toContain('emotion.scores.neutral');

    const extra = example();
    (extra.emotion.scores as Record<string, number>).contempt = 0;
    expect(issuesOf(extra).length).toBeGreaterThan(0);

    const notOne = example();
    notOne.emotion.scores.happy = 0.5;
    expect(issuesOf(notOne)).toContain('emotion.scores');

    const negative = example();
    negative.emotion.scores.happy = 1.1;
    negative.emotion.scores.neutral = -0.04;
    expect(issuesOf(negative).length).toBeGreaterThan(0);
  });

  it('rejects out-of-range and malformed common fields', () => {
    const cases: Array<[string, (e: Record<string, unknown>) => void]> = [
      ['valence', (e) => (e.valence = 1.5)],
      ['arousal', (e) => (e.arousal = -1.01)],
      ['detScore', (e) => (e.detScore = 2)],
      ['frameSeq', (e) => (e.frameSeq = 1.5)],
      ['frame.w', (e) => (e.frame = { w: 0, h: 480 })],
      ['box.w', (e) => (e.box = { x: 1, y: 1, w: -3, h: 4 })],
      ['trackId', (e) => (e.trackId = 'cam-2/17')],
      ['mask', (e) => (e.mask = { present: 'yes', score: 0.5 })],
      ['emotion.label', (e) => (e.emotion = { label: 'joy', scores: example().emotion.scores })],
      ['ts', (e) => delete e.ts],
      ['streamId', (e) => (e.streamId = '')],
    ];
    for (const [path, mutate] of cases) {
      const e = example() as unknown as Record<string, unknown>;
      mutate(e);
      const issues = issuesOf(e);
      expect(
        issues.some((p) => p === path || p.startsWith(`${path}.`)),
        `${path}: ${issues.join(',')}`,
      ).toBe(true);
    }
    expect(issuesOf({ ...example(), extra: 1 }).length).toBeGreaterThan(0);
    expect(issuesOf({ ...example(), type: 'face.moved' }).length).toBeGreaterThan(0);
  });

  it('rejects a face.emotion without a change and a face.end whose time shares do not sum to 1', () => {
    expect(
      issuesOf({
        ...example(),
        type: 'face.emotion',
        from: 'happy',
        to: 'happy',
      }),
    ).toContain('to');
    expect(issuesOf({ ...example(), type: 'face.emotion', to: 'happy' })).toContain('from');
    const end = {
      ...example(),
      type: 'face.end',
      durationMs: 1000,
      dominant: 'happy',
      timeShare: {
        angry: 0,
        disgust: 0,
        fear: 0,
        happy: 0.5,
        sad: 0,
        surprise: 0,
        neutral: 0.2,
      },
    };
    expect(issuesOf(end)).toContain('timeShare');
    expect(issuesOf({ ...end, dominant: 'bored' })).toContain('dominant');
    expect(
      issuesOf({
        type: 'stream.state',
        streamId: 'cam-1',
        ts: 1,
        state: 'exploded',
        reason: '',
      }),
    ).toContain('state');
  });

  it('encodes scores in the project label order whatever order they were built in', () => {
    const e = example();
    const reversed = Object.fromEntries([...EMOTION_LABELS].reverse().map((l) => [l, e.emotion.scores[l]]));
    e.emotion.scores = reversed as typeof e.emotion.scores;
    const wire = JSON.parse(encodeEvent(e)) as FaceUpdateEvent;
    expect(Object.keys(wire.emotion.scores)).toEqual([...EMOTION_LABELS]);
    expect(wire).toEqual(example());
    const end = {
      ...example(),
      type: 'face.end' as const,
      durationMs: 10,
      dominant: 'happy' as const,
      timeShare: {
        neutral: 0.5,
        happy: 0.5,
        angry: 0,
        disgust: 0,
        fear: 0,
        sad: 0,
        surprise: 0,
      },
    };
    const endWire = JSON.parse(encodeEvent(end)) as typeof end;
    expect(Object.keys(endWire.timeShare)).toEqual([...EMOTION_LABELS]);
    expect(endWire).toEqual(end);
    expect(encodeEvent(example())).toBe(JSON.stringify(example()));
    expect(BUS_EVENT_TYPES).toEqual(['face.new', 'face.update', 'face.emotion', 'face.end', 'stream.state']);
  });

  it('every JSON example in docs/events.md is a valid message', () => {
    const doc = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    const types = new Set<string>();
    for (const block of blocks) {
      const parsed = EventsMessageSchema.safeParse(JSON.parse(block));
      expect(parsed.error?.issues ?? [], block).toEqual([]);
      if (parsed.success) types.add(parsed.data.type);
    }
    expect([...types].sort()).toEqual([...BUS_EVENT_TYPES, 'dropped', 'error'].sort());
  });
});
