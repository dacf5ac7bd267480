import { describe, expect, it } from 'vitest';
import { EMOTION_LABELS } from '../../../src/core/labels.js';
import { deviceId, discoveryMessages, discoveryTopics } from '../../../src/sinks/mqtt/homeAssistant.js';
import { haIdPart, MqttTopics } from '../../../src/sinks/mqtt/mqttTopics.js';
import { discoveryProblems } from '../../helpers/homeAssistantSchema.js';

const topics = new MqttTopics('emostream');
const options = { topics, discoveryPrefix: 'homeassistant' };

describe('Home Assistant discovery', () => {
  it('gives one device per stream with five entities that Home Assistant takes', () => {
    const messages = discoveryMessages(options, { id: 'cam-front-door', name: 'front door', kind: 'rtsp' });
    expect(messages.map(([t]) => t)).toEqual([
      'homeassistant/sensor/emostream_emostream_cam-front-door_faces/config',
      'homeassistant/binary_sensor/emostream_emostream_cam-front-door_face_present/config',
      'homeassistant/sensor/emostream_emostream_cam-front-door_dominant_emotion/config',
      'homeassistant/sensor/emostream_emostream_cam-front-door_valence/config',
      'homeassistant/sensor/emostream_emostream_cam-front-door_state/config',
    ]);
    expect(discoveryTopics(options, 'cam-front-door')).toEqual(messages.map(([t]) => t));
    const payloads = messages.map(([topic, json]) => {
      const payload = JSON.parse(json) as Record<string, unknown>;
      expect(discoveryProblems(topic, payload), topic).toEqual([]);
      // object_id = unique_id, as Home Assistant advises
      expect(topic.split('/')[2]).toBe(payload.unique_id);
      return payload;
    });
    const devices = payloads.map((p) => JSON.stringify(p.device));
    expect(new Set(devices).size).toBe(1);
    expect(payloads[0]?.device).toEqual({
      identifiers: ['emostream_emostream_cam-front-door'],
      name: 'front door',
      manufacturer: 'emostream',
      model: 'RTSP camera',
    });
    const dominant = payloads[2] as { options: string[]; state_topic: string };
    expect(dominant.options).toEqual([...EMOTION_LABELS, 'none']);
    expect(dominant.state_topic).toBe('emostream/cam-front-door/summary');
    // Every entity is unavailable when the server is; the face entities also when the stream is not live.
    for (const p of payloads) {
      const availability = p.availability as { topic: string }[];
      expect(availability[0]?.topic).toBe('emostream/available');
      expect(p.availability_mode).toBe('all');
    }
    const faces = payloads[0] as { availability: { topic: string }[] };
    expect(faces.availability[1]?.topic).toBe('emostream/cam-front-door/state');
    expect(payloads[4]?.availability).toHaveLength(1);
  });

  it('turns stream ids and prefixes into valid discovery ids without collisions', () => {
    expect(haIdPart('cam-a_1')).toBe('cam-a_1');
    expect(haIdPart('cam.a')).toMatch(/^cam_a_[0-9a-f]{8}$/);
    expect(haIdPart('cam.a')).not.toBe(haIdPart('cam:a'));
    expect(haIdPart('cam.a')).not.toBe(haIdPart('cam_a'));
    const nested = new MqttTopics('home/emo');
    expect(deviceId(nested, 'x~1')).toMatch(/^emostream_home_emo_[0-9a-f]{8}_x_1_[0-9a-f]{8}$/);
    for (const [topic, json] of discoveryMessages(
      { topics: nested, discoveryPrefix: 'ha' },
      { id: 'x~1', name: 'x' },
    )) {
      expect(discoveryProblems(topic, JSON.parse(json)), topic).toEqual([]);
      expect(JSON.parse(json).state_topic).toMatch(/^home\/emo\/x~1\//);
    }
  });

  it('the schema check catches what Home Assistant would reject or ignore', () => {
    const [[topic, json]] = discoveryMessages(options, { id: 's', name: 's' }) as [[string, string]];
    const good = JSON.parse(json) as Record<string, unknown>;
    expect(discoveryProblems(topic, { ...good, stat_topic: 'x' })).toContain('unknown key stat_topic');
    const { state_topic: _, ...noState } = good;
    expect(discoveryProblems(topic, noState)).toContain('state_topic is required');
    expect(discoveryProblems(topic, { ...good, device: { name: 'x' } })).toContain('device needs identifiers');
    expect(discoveryProblems('homeassistant/sensor/a.b/config', good)).toContain('id "a.b" is not [a-zA-Z0-9_-]');
  });
});
