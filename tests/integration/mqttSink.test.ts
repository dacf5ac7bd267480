import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/core/config.js';
import { EventBus } from '../../src/core/EventBus.js';
import { BusEventSchema } from '../../src/core/events.js';
import { MqttSink } from '../../src/sinks/mqtt/MqttSink.js';
import { type Broker, ensureMosquitto, recorder, retained, startBroker, startRelay } from '../fixtures/mosquitto.js';
import { freePort } from '../fixtures/rtspServer.js';
import { waitFor } from '../helpers/serverHarness.js';
import { faceEvent, stateEvent } from '../unit/sinks/faceEvents.js';

/**
 * The MQTT sink against a real Mosquitto, fed by a real EventBus with synthetic (schema-valid) events: the
 * mechanisms of docs/events.md "MQTT" that do not need video (bounds, drops, reconnects, last will).
 */

let broker: Broker;
const open: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  ensureMosquitto();
  broker = await startBroker(await freePort());
});
afterAll(async () => {
  for (const o of open.reverse()) await o.close().catch(() => undefined);
  await broker?.stop();
});

const json = (payload: string | undefined) => JSON.parse(payload ?? 'null') as Record<string, unknown>;

function capture() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { logger, lines };
}

function sink(overlay: Record<string, unknown>, bus = new EventBus()) {
  const { logger, lines } = capture();
  const config = configSchema.parse({
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 400, summaryIntervalMs: 100, ...overlay },
  }).mqtt;
  if (!config) throw new Error('no mqtt config');
  const names: Record<string, { name: string; kind: string }> = { cam: { name: 'front door', kind: 'rtsp' } };
  const s = new MqttSink({ config, bus, describeStream: (id) => names[id], logger });
  open.push(s);
  return { sink: s, bus, logs: lines, topics: s.topics };
}

describe('MQTT sink against a real broker', () => {
  it('publishes availability, stream state, face events and a summary; clears everything of a removed stream', async () => {
    const rec = await recorder(broker.url, ['t1/#', 'homeassistant/#']);
    open.push(rec);
    const { sink: s, bus } = sink({ topicPrefix: 't1', faceUpdates: true, faceUpdateIntervalMs: 1000 });
    await waitFor('connected', () => s.stats.state === 'connected', 10_000);
    bus.publish(stateEvent('cam', 'starting', 'added', 1000));
    bus.publish(stateEvent('cam', 'live', 'first frame', 1001));
    bus.publish(faceEvent('face.new', 'cam', 1, 2000, 'angry', -0.6));
    for (let ts = 2000; ts < 4000; ts += 100) bus.publish(faceEvent('face.update', 'cam', 1, ts, 'angry', -0.6));
    await waitFor('summary with a face', () => rec.on('t1/cam/summary').find((m) => JSON.parse(m.payload).faces === 1));
    expect(rec.last('t1/available')?.payload).toBe('online');
    expect(JSON.parse(rec.last('t1/cam/state')?.payload ?? '{}')).toMatchObject({ state: 'live', streamId: 'cam' });
    const news = rec.on('t1/cam/face/new');
    expect(news).toHaveLength(1);
    expect(BusEventSchema.parse(JSON.parse(news[0]?.payload ?? ''))).toMatchObject({ trackId: 'cam/1' });
    // face.update opt-in, at most one per track per second of event time: 2000, 3000
    await waitFor('two updates', () => rec.on('t1/cam/face/update').length >= 2);
    expect(rec.on('t1/cam/face/update').map((m) => JSON.parse(m.payload).ts)).toEqual([2000, 3000]);
    const summary = JSON.parse(rec.last('t1/cam/summary')?.payload ?? '{}');
    expect(summary).toMatchObject({ streamId: 'cam', faces: 1, dominant: 'angry', valence: -0.6 });
    // What a newcomer (Home Assistant starting) finds retained: availability, state, summary, five entities.
    const kept = await retained(broker.url, ['t1/#', 'homeassistant/#']);
    expect([...kept.keys()].sort()).toEqual([
      'homeassistant/binary_sensor/emostream_t1_cam_face_present/config',
      'homeassistant/sensor/emostream_t1_cam_dominant_emotion/config',
      'homeassistant/sensor/emostream_t1_cam_faces/config',
      'homeassistant/sensor/emostream_t1_cam_state/config',
      'homeassistant/sensor/emostream_t1_cam_valence/config',
      't1/available',
      't1/cam/state',
      't1/cam/summary',
    ]);
    expect(JSON.parse(kept.get('homeassistant/sensor/emostream_t1_cam_faces/config') ?? '{}').device.name).toBe(
      'front door',
    );

    // Home Assistant (re)starts and says so: discovery and state go out again (not availability: unchanged).
    const configsBefore = rec.on('homeassistant/sensor/emostream_t1_cam_faces/config').length;
    const availableBefore = rec.on('t1/available').length;
    const summariesBefore = rec.on('t1/cam/summary').length;
    await rec.client.publishAsync('homeassistant/status', 'online');
    await waitFor(
      'discovery again',
      () => rec.on('homeassistant/sensor/emostream_t1_cam_faces/config').length > configsBefore,
    );
    await waitFor('summary again', () => rec.on('t1/cam/summary').length > summariesBefore);
    expect(rec.on('t1/available')).toHaveLength(availableBefore);

    const change = { ...faceEvent('face.update', 'cam', 1, 4050, 'sad'), type: 'face.emotion' as const };
    bus.publish({ ...change, from: 'angry', to: 'sad' });
    await waitFor('face.emotion', () => rec.on('t1/cam/face/emotion').length === 1);
    expect(json(rec.on('t1/cam/face/emotion')[0]?.payload)).toMatchObject({ from: 'angry', to: 'sad' });

    bus.publish(faceEvent('face.end', 'cam', 1, 4100, 'angry'));
    bus.publish(stateEvent('cam', 'closed', 'removed', 4200));
    await waitFor('discovery cleared', () =>
      rec.on('homeassistant/sensor/emostream_t1_cam_faces/config').find((m) => m.payload === ''),
    );
    expect(rec.on('t1/cam/face/end')).toHaveLength(1);
    await waitFor('state cleared', () => rec.on('t1/cam/state').find((m) => m.payload === ''));
    const left = await retained(broker.url, ['t1/#', 'homeassistant/#']);
    expect([...left.keys()]).toEqual(['t1/available']); // nothing of the removed stream is retained
    await s.close();
    await waitFor('offline', () => rec.last('t1/available')?.payload === 'offline');
    expect(s.stats.state).toBe('closed');
  });

  it('broker down: a burst stays at the outbox bound with counted drops; after the restart the survivors and the state arrive', async () => {
    const b = await startBroker(await freePort());
    open.push({ close: () => b.stop() });
    // The sink reaches the broker through a relay, so that after the restart it waits until our subscriber is in.
    const relay = await startRelay(await freePort(), b.port);
    open.push(relay);
    const { sink: s, bus } = (() => {
      const { logger } = capture();
      const config = configSchema.parse({
        mqtt: { url: relay.url, topicPrefix: 't2', queueLimit: 100, faceUpdates: true, faceUpdateIntervalMs: 100 },
      }).mqtt;
      if (!config) throw new Error('no mqtt config');
      const bus = new EventBus();
      const made = new MqttSink({
        config: { ...config, reconnectMinMs: 100, reconnectMaxMs: 400 },
        bus,
        describeStream: () => ({ name: 'lobby', kind: 'file' }),
        logger,
      });
      open.push(made);
      return { sink: made, bus };
    })();
    await waitFor('connected', () => s.stats.state === 'connected', 10_000);
    bus.publish(stateEvent('cam', 'live', 'first frame', 1));
    // availability, state, summary and the five discovery configs
    await waitFor('state published', () => s.stats.pendingState === 0 && s.stats.published >= 8);

    await b.kill();
    relay.cut();
    await waitFor('disconnected', () => s.stats.state === 'disconnected', 10_000);
    // 20,000 events in one synchronous burst: 10 tracks begin, 19,980 updates, 10 tracks end.
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    let most = 0;
    for (let n = 0; n < 10; n++) bus.publish(faceEvent('face.new', 'cam', n, 10_000 + n));
    for (let i = 0; i < 19_980; i++) {
      bus.publish(faceEvent('face.update', 'cam', i % 10, 10_000 + i * 100));
      most = Math.max(most, s.stats.queued);
    }
    for (let n = 0; n < 10; n++) bus.publish(faceEvent('face.end', 'cam', n, 3_000_000 + n));
    const ms = performance.now() - started;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(
      `burst of 20,000 events with the broker down: ${ms.toFixed(0)} ms, outbox at most ${most}, ` +
        `heap +${(heapGrowth / 1e6).toFixed(1)} MB, dropped ${JSON.stringify(s.stats.dropped)}`,
    );
    expect(most).toBe(100);
    expect(s.stats.queued).toBe(100);
    expect(s.stats.dropped.outbox_full).toBe(20_000 - 100);

    await b.restart();
    const rec = await recorder(b.url, ['t2/#']);
    open.push(rec);
    relay.restore();
    await waitFor('reconnected', () => s.stats.state === 'connected' && s.stats.connects === 2, 10_000);
    await waitFor('the outbox drained', () => s.stats.queued === 0 && s.stats.pendingState === 0);
    await waitFor('the 100 survivors', () => rec.messages.filter((m) => m.topic.includes('/face/')).length >= 100);
    const faces = rec.messages.filter((m) => m.topic.includes('/face/')).map((m) => JSON.parse(m.payload));
    expect(faces).toHaveLength(100);
    // The oldest updates went first: every new and end survived, with the newest 80 updates between them.
    expect(faces.filter((e) => e.type === 'face.new')).toHaveLength(10);
    expect(faces.filter((e) => e.type === 'face.end')).toHaveLength(10);
    const updates = faces.filter((e) => e.type === 'face.update').map((e) => e.ts);
    expect(updates).toEqual(Array.from({ length: 80 }, (_, k) => 10_000 + (19_900 + k) * 100));
    // The restarted broker had lost everything retained: the sink published it again.
    const kept = await retained(b.url, ['t2/#', 'homeassistant/#']);
    expect(kept.get('t2/available')).toBe('online');
    expect(JSON.parse(kept.get('t2/cam/state') ?? '{}')).toMatchObject({ state: 'live' });
    expect(JSON.parse(kept.get('t2/cam/summary') ?? '{}')).toMatchObject({ faces: 0 });
    expect([...kept.keys()].filter((k) => k.startsWith('homeassistant/'))).toHaveLength(5);
  });

  it('a connection that drops without a word: subscribers see the last will (offline), then online again', async () => {
    const relay = await startRelay(await freePort(), broker.port);
    open.push(relay);
    const rec = await recorder(broker.url, ['t3/available']);
    open.push(rec);
    const { logger } = capture();
    const config = configSchema.parse({ mqtt: { url: relay.url, topicPrefix: 't3' } }).mqtt;
    if (!config) throw new Error('no mqtt config');
    const s = new MqttSink({
      config: { ...config, reconnectMinMs: 300, reconnectMaxMs: 300 },
      bus: new EventBus(),
      describeStream: () => undefined,
      logger,
    });
    open.push(s);
    await waitFor('online', () => rec.last('t3/available')?.payload === 'online', 10_000);
    relay.cut();
    await waitFor('the last will', () => rec.last('t3/available')?.payload === 'offline', 10_000);
    expect(['disconnected', 'connecting']).toContain(s.stats.state);
    relay.restore();
    await waitFor('online again', () => rec.last('t3/available')?.payload === 'online', 10_000);
    expect(rec.on('t3/available').map((m) => m.payload)).toEqual(['online', 'offline', 'online']);
    expect(s.stats.connects).toBe(2);
  });

  it('the summary goes out at a bounded rate however fast the faces change', async () => {
    const rec = await recorder(broker.url, ['t5/cam/summary']);
    open.push(rec);
    const { sink: s, bus } = sink({ topicPrefix: 't5', summaryIntervalMs: 200 });
    await waitFor('connected', () => s.stats.state === 'connected', 10_000);
    bus.publish(faceEvent('face.new', 'cam', 1, 1, 'happy', 0));
    const start = Date.now();
    let published = 0;
    for (let ts = 2; Date.now() - start < 1000; ts++) {
      // every update changes the mean valence: each one would be a new summary
      bus.publish(faceEvent('face.update', 'cam', 1, ts, 'happy', (ts % 100) / 100));
      published++;
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsed = Date.now() - start;
    await new Promise((r) => setTimeout(r, 400));
    const summaries = rec.on('t5/cam/summary').length;
    expect(published).toBeGreaterThan(100);
    // one per interval, plus the first one and the one after the loop
    expect(summaries).toBeLessThanOrEqual(Math.ceil(elapsed / 200) + 3);
    expect(summaries).toBeGreaterThanOrEqual(3);
  });

  it('retries with a growing delay, from reconnectMinMs up to reconnectMaxMs', async () => {
    // A "broker" that accepts and hangs up at once: every attempt fails right away, so the gaps are the backoff.
    const accepts: number[] = [];
    const port = await freePort();
    const server = createServer((socket) => {
      accepts.push(performance.now());
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    open.push({ close: () => new Promise((r) => server.close(() => r(undefined))) });
    const { logger } = capture();
    const config = configSchema.parse({ mqtt: { url: `mqtt://127.0.0.1:${port}`, topicPrefix: 't6' } }).mqtt;
    if (!config) throw new Error('no mqtt config');
    const s = new MqttSink({
      config: { ...config, reconnectMinMs: 100, reconnectMaxMs: 400 },
      bus: new EventBus(),
      describeStream: () => undefined,
      logger,
    });
    open.push(s);
    await waitFor('six attempts', () => accepts.length >= 6, 10_000);
    const gaps = accepts.slice(1).map((t, i) => t - (accepts[i] as number));
    // Timers never fire early: each gap is at least its delay (100, 200, 400, 400, ...), whatever the load.
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
    for (const gap of gaps.slice(2)) expect(gap).toBeGreaterThanOrEqual(395);
    expect(s.stats).toMatchObject({ state: 'disconnected', error: { code: 'MQTT_UNREACHABLE' } });
  });
});
