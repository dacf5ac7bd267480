/**
 * Home Assistant MQTT discovery (docs/events.md, "Home Assistant"): one device per stream, with sensors for the
 * faces present, the dominant emotion, the mean valence and the stream's state, and a binary sensor "face present".
 * Single-component discovery (`<discoveryPrefix>/<component>/<object_id>/config`, object_id = unique_id, as Home
 * Assistant's docs advise), which every Home Assistant version with MQTT discovery reads. An empty retained payload
 * on the same topics removes the entities (and the device, once it has none left).
 */

import { STREAM_STATES } from '../../core/events.js';
import { EMOTION_LABELS } from '../../core/labels.js';
import { AVAILABLE, haIdPart, type MqttTopics, UNAVAILABLE } from './mqttTopics.js';

export interface DiscoveryOptions {
  topics: MqttTopics;
  discoveryPrefix: string;
}

/** What the sink knows about a stream when it announces it. */
export interface StreamDescription {
  id: string;
  /** The stream's name (the device's name in Home Assistant); the id when unknown. */
  name: string;
  /** `file`, `rtsp` or `webrtc`; shown as the device's model. */
  kind?: string;
}

export type HaComponent = 'sensor' | 'binary_sensor';

interface EntitySpec {
  key: string;
  component: HaComponent;
  /** The entity follows the stream: unavailable unless the stream is `live`. */
  followsStream: boolean;
  config(topics: MqttTopics, streamId: string): Record<string, unknown>;
}

/** The dominant-emotion sensor's state when no face is present (enum sensors take only listed values). */
export const NO_FACE = 'none';

const ENTITIES: readonly EntitySpec[] = [
  {
    key: 'faces',
    component: 'sensor',
    followsStream: true,
    config: (t, id) => ({
      name: 'Faces',
      state_topic: t.summary(id),
      value_template: '{{ value_json.faces }}',
      state_class: 'measurement',
      icon: 'mdi:account-group',
    }),
  },
  {
    key: 'face_present',
    component: 'binary_sensor',
    followsStream: true,
    config: (t, id) => ({
      name: 'Face present',
      state_topic: t.summary(id),
      value_template: "{{ 'ON' if value_json.faces > 0 else 'OFF' }}",
      payload_on: 'ON',
      payload_off: 'OFF',
      device_class: 'occupancy',
    }),
  },
  {
    key: 'dominant_emotion',
    component: 'sensor',
    followsStream: true,
    config: (t, id) => ({
      name: 'Dominant emotion',
      state_topic: t.summary(id),
      value_template: `{{ value_json.dominant or '${NO_FACE}' }}`,
      device_class: 'enum',
      options: [...EMOTION_LABELS, NO_FACE],
      icon: 'mdi:emoticon-outline',
    }),
  },
  {
    key: 'valence',
    component: 'sensor',
    followsStream: true,
    config: (t, id) => ({
      name: 'Valence',
      state_topic: t.summary(id),
      // null (no face) renders as 'None', which Home Assistant shows as unknown.
      value_template: '{{ value_json.valence }}',
      state_class: 'measurement',
      suggested_display_precision: 2,
      icon: 'mdi:emoticon-happy-outline',
    }),
  },
  {
    key: 'state',
    component: 'sensor',
    followsStream: false,
    config: (t, id) => ({
      name: 'Stream state',
      state_topic: t.state(id),
      value_template: '{{ value_json.state }}',
      device_class: 'enum',
      options: [...STREAM_STATES],
      entity_category: 'diagnostic',
      icon: 'mdi:cctv',
    }),
  },
];

const MODEL: Record<string, string> = { file: 'video file', rtsp: 'RTSP camera', webrtc: 'WebRTC webcam' };

/** The id that ties one stream's entities to one device, unique per server (topic prefix) and stream. */
export function deviceId(topics: MqttTopics, streamId: string): string {
  return `emostream_${haIdPart(topics.prefix)}_${haIdPart(streamId)}`;
}

/** The discovery config topics of one stream (to publish, and to clear with an empty payload on removal). */
export function discoveryTopics(options: DiscoveryOptions, streamId: string): string[] {
  const device = deviceId(options.topics, streamId);
  return ENTITIES.map((e) => `${options.discoveryPrefix}/${e.component}/${device}_${e.key}/config`);
}

/** The discovery messages of one stream: [topic, JSON payload], to be published retained. */
export function discoveryMessages(options: DiscoveryOptions, stream: StreamDescription): [string, string][] {
  const { topics } = options;
  const device = deviceId(topics, stream.id);
  const topicsOf = discoveryTopics(options, stream.id);
  return ENTITIES.map((entity, i) => {
    const availability: Record<string, string>[] = [
      { topic: topics.available, payload_available: AVAILABLE, payload_not_available: UNAVAILABLE },
    ];
    if (entity.followsStream) {
      availability.push({
        topic: topics.state(stream.id),
        value_template: `{{ '${AVAILABLE}' if value_json.state == 'live' else '${UNAVAILABLE}' }}`,
        payload_available: AVAILABLE,
        payload_not_available: UNAVAILABLE,
      });
    }
    const payload = {
      ...entity.config(topics, stream.id),
      unique_id: `${device}_${entity.key}`,
      availability,
      availability_mode: 'all',
      device: {
        identifiers: [device],
        name: stream.name,
        manufacturer: 'emostream',
        model: MODEL[stream.kind ?? ''] ?? 'stream',
      },
      origin: { name: 'emostream' },
    };
    return [topicsOf[i] as string, JSON.stringify(payload)];
  });
}
