/**
 * The event protocol of `/events` (docs/interfaces.md): zod schemas, a discriminated union on `type`, and the
 * TypeScript types inferred from them. Shared by the pipeline (which builds events), the event bus, the WebSocket
 * server and the web client (type-only import). Documented for users in docs/events.md.
 */
import { z } from 'zod';
import { EMOTION_LABELS, type EmotionLabel } from './labels.js';

/** How far a probability vector may be from summing to 1 (float rounding, smoothing). */
export const SCORE_SUM_TOLERANCE = 1e-3;

/** Types of the events published on the bus (the `dropped` notice is per subscriber, not a bus event). */
export const BUS_EVENT_TYPES = ['face.new', 'face.update', 'face.emotion', 'face.end', 'stream.state'] as const;
export type BusEventType = (typeof BUS_EVENT_TYPES)[number];

/** States a stream reports in `stream.state`. */
export const STREAM_STATES = ['starting', 'live', 'stalled', 'reconnecting', 'ended', 'closed'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

export const EmotionLabelSchema = z.enum(EMOTION_LABELS);

const probability = z.number().min(0).max(1);

function sumScores(scores: Record<EmotionLabel, number>): number {
  let sum = 0;
  for (const label of EMOTION_LABELS) sum += scores[label];
  return sum;
}

/** A record of all seven labels; the parsed output has them in the project's label order. */
const scoreRecordShape = Object.fromEntries(EMOTION_LABELS.map((label) => [label, probability])) as {
  [K in EmotionLabel]: typeof probability;
};

/** Seven probabilities, one per label, summing to 1. */
export const EmotionScoresSchema = z
  .strictObject(scoreRecordShape)
  .refine((s) => Math.abs(sumScores(s) - 1) <= SCORE_SUM_TOLERANCE, {
    message: `scores must sum to 1 (±${SCORE_SUM_TOLERANCE})`,
  });

export const BoxSchema = z.strictObject({
  x: z.number(),
  y: z.number(),
  w: z.number().nonnegative(),
  h: z.number().nonnegative(),
});

export const FrameSizeSchema = z.strictObject({
  w: z.number().int().positive(),
  h: z.number().int().positive(),
});

export const MaskSchema = z.strictObject({ present: z.boolean(), score: probability }).nullable();

const streamId = z.string().min(1).max(128);
const ts = z.number().nonnegative();
const unit = z.number().min(-1).max(1);

/** The fields every face event carries (docs/interfaces.md). */
const faceFields = {
  streamId,
  trackId: z.string().min(1).max(200),
  ts,
  frameSeq: z.number().int().nonnegative(),
  frame: FrameSizeSchema,
  box: BoxSchema,
  detScore: probability,
  emotion: z.strictObject({
    label: EmotionLabelSchema,
    scores: EmotionScoresSchema,
  }),
  valence: unit,
  arousal: unit,
  mask: MaskSchema,
};

/** A track id is `${streamId}/${n}`: it must belong to the event's stream. */
function trackOfStream(e: { streamId: string; trackId: string }): boolean {
  return e.trackId.startsWith(`${e.streamId}/`) && e.trackId.length > e.streamId.length + 1;
}
const trackMessage = {
  message: 'trackId must be "<streamId>/<n>"',
  path: ['trackId'],
};

export const FaceNewEventSchema = z
  .strictObject({ type: z.literal('face.new'), ...faceFields })
  .refine(trackOfStream, trackMessage);

export const FaceUpdateEventSchema = z
  .strictObject({ type: z.literal('face.update'), ...faceFields })
  .refine(trackOfStream, trackMessage);

export const FaceEmotionEventSchema = z
  .strictObject({
    type: z.literal('face.emotion'),
    ...faceFields,
    from: EmotionLabelSchema,
    to: EmotionLabelSchema,
  })
  .refine(trackOfStream, trackMessage)
  .refine((e) => e.from !== e.to, {
    message: 'from and to must differ',
    path: ['to'],
  });

/** Time share per label over the track's life: seven values in [0, 1] that sum to 1 (all 0 for a 0 ms track). */
export const TimeShareSchema = z.strictObject(scoreRecordShape);

export const FaceEndEventSchema = z
  .strictObject({
    type: z.literal('face.end'),
    ...faceFields,
    durationMs: z.number().nonnegative(),
    dominant: EmotionLabelSchema,
    timeShare: TimeShareSchema,
  })
  .refine(trackOfStream, trackMessage)
  .refine(
    (e) => {
      const sum = sumScores(e.timeShare);
      return Math.abs(sum - 1) <= SCORE_SUM_TOLERANCE || (e.durationMs === 0 && sum === 0);
    },
    { message: 'timeShare must sum to 1', path: ['timeShare'] },
  );

/** Longest `stream.state` reason; longer ones are clipped by `clipReason` (the schema refuses them). */
export const MAX_REASON_LENGTH = 500;

/** A reason that fits `stream.state` (issue 15, finding 7: a longer one was refused, so nobody saw the state). */
export function clipReason(reason: string): string {
  return reason.length <= MAX_REASON_LENGTH ? reason : `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

export const StreamStateEventSchema = z.strictObject({
  type: z.literal('stream.state'),
  streamId,
  ts,
  state: z.enum(STREAM_STATES),
  reason: z.string().max(MAX_REASON_LENGTH),
});

/** Every event the pipeline publishes on the bus. */
export const BusEventSchema = z.discriminatedUnion('type', [
  FaceNewEventSchema,
  FaceUpdateEventSchema,
  FaceEmotionEventSchema,
  FaceEndEventSchema,
  StreamStateEventSchema,
]);

/** Sent to one subscriber after it caught up: how many of its events were dropped since the last notice. */
export const DroppedNoticeSchema = z.strictObject({
  type: z.literal('dropped'),
  count: z.number().int().positive(),
});

/** Sent to a subscriber before the server closes it for a reason it can fix (bad filter, too many subscribers). */
export const EventsErrorMessageSchema = z.strictObject({
  type: z.literal('error'),
  code: z.string().min(1),
  message: z.string(),
});

/** Everything a `/events` subscriber can receive. */
export const EventsMessageSchema = z.discriminatedUnion('type', [
  ...BusEventSchema.options,
  DroppedNoticeSchema,
  EventsErrorMessageSchema,
]);

export type FaceNewEvent = z.infer<typeof FaceNewEventSchema>;
export type FaceUpdateEvent = z.infer<typeof FaceUpdateEventSchema>;
export type FaceEmotionEvent = z.infer<typeof FaceEmotionEventSchema>;
export type FaceEndEvent = z.infer<typeof FaceEndEventSchema>;
export type StreamStateEvent = z.infer<typeof StreamStateEventSchema>;
export type FaceEvent = FaceNewEvent | FaceUpdateEvent | FaceEmotionEvent | FaceEndEvent;
export type BusEvent = z.infer<typeof BusEventSchema>;
export type DroppedNotice = z.infer<typeof DroppedNoticeSchema>;
export type EventsErrorMessage = z.infer<typeof EventsErrorMessageSchema>;
export type EventsMessage = z.infer<typeof EventsMessageSchema>;

export function isBusEventType(value: string): value is BusEventType {
  return (BUS_EVENT_TYPES as readonly string[]).includes(value);
}

/** Wire texts of published events: built once per event, whatever the number of sinks and subscribers. */
const encoded = new WeakMap<object, string>();

/**
 * Serialises an event for the wire: one JSON text, with `scores` and `timeShare` in the project's label order
 * whatever order the producer built them in (copied only when they are not in order already). Events are not
 * changed after they are published, so the text is kept with the event and every sink reuses it.
 */
export function encodeEvent(event: BusEvent | DroppedNotice | EventsErrorMessage): string {
  let text = encoded.get(event);
  if (text === undefined) {
    text = serialise(event);
    encoded.set(event, text);
  }
  return text;
}

/**
 * Keeps `text` as the wire text of `event`, which was parsed from it: an event another node encoded (src/cluster)
 * is sent on as received, not serialised again. Only for text made by `encodeEvent` and checked against the schema.
 */
export function rememberEncoding(event: BusEvent, text: string): void {
  encoded.set(event, text);
}

function serialise(event: BusEvent | DroppedNotice | EventsErrorMessage): string {
  if (!('emotion' in event)) return JSON.stringify(event);
  const scoresOk = inLabelOrder(event.emotion.scores);
  const shareOk = event.type !== 'face.end' || inLabelOrder(event.timeShare);
  if (scoresOk && shareOk) return JSON.stringify(event);
  const copy: Record<string, unknown> = { ...event };
  if (!scoresOk) copy.emotion = { ...event.emotion, scores: inOrder(event.emotion.scores) };
  if (event.type === 'face.end' && !shareOk) copy.timeShare = inOrder(event.timeShare);
  return JSON.stringify(copy);
}

function inLabelOrder(record: object): boolean {
  let i = 0;
  for (const key in record) {
    if (key !== EMOTION_LABELS[i++]) return false;
  }
  return i === EMOTION_LABELS.length;
}

function inOrder(record: Record<EmotionLabel, number>): Record<EmotionLabel, number> {
  const ordered = {} as Record<EmotionLabel, number>;
  for (const label of EMOTION_LABELS) ordered[label] = record[label];
  return ordered;
}
