/**
 * The MQTT topic layout (docs/events.md, "MQTT"), after Frigate's habits: `<prefix>/available` for the server,
 * `<prefix>/<streamId>/...` per stream. Stream ids are letters, digits and `._~:-`, so they are valid topic levels
 * as they are (no `/`, `+` or `#`).
 */
import type { BusEventType } from '../../core/events.js';

/** The face event types and the last topic level each goes to. */
export const FACE_TOPIC_KIND = {
  'face.new': 'new',
  'face.update': 'update',
  'face.emotion': 'emotion',
  'face.end': 'end',
} as const satisfies Partial<Record<BusEventType, string>>;

export type FaceEventType = keyof typeof FACE_TOPIC_KIND;

export const AVAILABLE = 'online';
export const UNAVAILABLE = 'offline';

export class MqttTopics {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** `online` / `offline`, retained; the last will says `offline`. */
  get available(): string {
    return `${this.prefix}/available`;
  }

  /** The stream's last `stream.state` event, retained. */
  state(streamId: string): string {
    return `${this.prefix}/${streamId}/state`;
  }

  /** Faces present, dominant emotion, mean valence and arousal; retained; at a bounded rate. */
  summary(streamId: string): string {
    return `${this.prefix}/${streamId}/summary`;
  }

  /** One face event (the `/events` JSON), not retained. */
  face(streamId: string, type: FaceEventType): string {
    return `${this.prefix}/${streamId}/face/${FACE_TOPIC_KIND[type]}`;
  }
}

/**
 * A Home Assistant id part: only `[a-zA-Z0-9_-]` is allowed in discovery topics. Other characters become `_`, and
 * a short hash of the original keeps two ids that differ only there apart (`a.b` and `a:b`).
 */
export function haIdPart(value: string): string {
  const safe = value.replace(/[^a-zA-Z0-9_-]/g, '_');
  return safe === value ? value : `${safe}_${fnv1a(value).toString(16).padStart(8, '0')}`;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
