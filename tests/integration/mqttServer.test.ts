import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/loadConfig.js';
import { BusEventSchema } from '../../src/core/events.js';
import { EMOTION_LABELS } from '../../src/core/labels.js';
import { Server } from '../../src/server/Server.js';
import type { MqttSinkStats } from '../../src/sinks/mqtt/MqttSink.js';
import { type Broker, ensureMosquitto, recorder, retained, startBroker, startRelay } from '../fixtures/mosquitto.js';
import { freePort } from '../fixtures/rtspServer.js';
import { discoveryProblems } from '../helpers/homeAssistantSchema.js';
import { startServer, subscribe, waitFor } from '../helpers/serverHarness.js';
import { SHARED_DATA } from '../helpers/sharedData.js';

/** `emostream serve` with the MQTT sink, a real Mosquitto and a shared video with faces (docs/events.md, "MQTT"). */

const VIDEO = 'fr_short_hamilton_clip.mp4';
const open: { close(): Promise<unknown> }[] = [];

beforeAll(() => ensureMosquitto());
afterAll(async () => {
  for (const o of open.reverse()) await o.close().catch(() => undefined);
});

async function broker(opts: { users?: Record<string, string> } = {}): Promise<Broker> {
  const b = await startBroker(await freePort(), opts);
  open.push({ close: () => b.stop() });
  return b;
}

async function server(mqtt: Record<string, unknown>, overlay: Record<string, unknown> = {}) {
  const s = await startServer({
    files: { allowDir: `${SHARED_DATA}/video` },
    analysis: { fps: 5 },
    mqtt: { reconnectMinMs: 100, reconnectMaxMs: 500, ...mqtt },
    ...overlay,
  });
  open.push(s.server);
  const health = async () => ((await (await fetch(`${s.url}/healthz`)).json()) as { mqtt: MqttSinkStats }).mqtt;
  const metrics = async () => (await fetch(`${s.url}/metrics`)).text();
  const addStream = async () => {
    const res = await fetch(`${s.url}/api/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'hamilton', url: VIDEO }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  return { ...s, health, metrics, addStream };
}

/** `waitFor` for asynchronous checks (health, retained state). */
async function until<T>(what: string, fn: () => Promise<T | undefined | false | 0>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const json = (payload: string | undefined) => JSON.parse(payload ?? 'null') as Record<string, unknown>;

describe('emostream serve with MQTT', () => {
  it('a stream with faces gives the documented topics and payloads, valid retained discovery, and a clean removal', async () => {
    const b = await broker();
    const rec = await recorder(b.url, ['emo/#', 'homeassistant/#']);
    open.push(rec);
    const s = await server({ url: b.url, topicPrefix: 'emo', faceUpdates: true, summaryIntervalMs: 500 });
    const ws = subscribe(s.url, '?types=face.new,face.emotion,face.end');
    await ws.opened;
    await waitFor('online', () => rec.last('emo/available')?.payload === 'online');
    const id = await s.addStream();

    await waitFor('live', () => json(rec.last(`emo/${id}/state`)?.payload)?.state === 'live');
    const summary = await waitFor('a summary with a face', () =>
      rec
        .on(`emo/${id}/summary`)
        .map((m) => json(m.payload))
        .find((x) => (x.faces as number) > 0),
    );
    expect(summary).toMatchObject({ streamId: id, dominant: expect.any(String), valence: expect.any(Number) });
    expect(EMOTION_LABELS).toContain(summary.dominant);
    expect(Object.keys(summary.labels as object)).toEqual([...EMOTION_LABELS]);
    await waitFor('a face.update', () => rec.on(`emo/${id}/face/update`).length > 0);

    // Face events: the /events JSON, on <prefix>/<stream>/face/<kind>; the same events as the WebSocket's.
    const faceMessages = rec.messages.filter((m) => m.topic.startsWith(`emo/${id}/face/`));
    for (const m of faceMessages) {
      const event = BusEventSchema.parse(JSON.parse(m.payload));
      expect(m.topic).toBe(`emo/${id}/face/${event.type.slice('face.'.length)}`);
      expect(m.retain).toBe(false);
    }
    const firstNew = json(rec.on(`emo/${id}/face/new`)[0]?.payload);
    const sameOnWs = await waitFor('the same face.new on /events', () =>
      ws.messages.find((e) => e.type === 'face.new' && e.trackId === firstNew.trackId),
    );
    expect(firstNew).toEqual(sameOnWs);

    // What Home Assistant finds when it (re)starts: all retained, valid per its schema, one device.
    const kept = await retained(b.url, ['emo/#', 'homeassistant/#']);
    const configs = [...kept].filter(([t]) => t.startsWith('homeassistant/'));
    expect(configs.map(([t]) => t.split('/')[1]).sort()).toEqual([
      'binary_sensor',
      'sensor',
      'sensor',
      'sensor',
      'sensor',
    ]);
    for (const [topic, payload] of configs) {
      const config = json(payload);
      expect(discoveryProblems(topic, config), topic).toEqual([]);
      expect(config.device).toMatchObject({ name: 'hamilton', model: 'video file' });
      expect(kept.has(config.state_topic as string), `${topic} reads a retained topic`).toBe(true);
      // the field its template reads is in that topic's payload
      const field = /value_json\.(\w+)/.exec(config.value_template as string)?.[1] as string;
      expect(json(kept.get(config.state_topic as string)), topic).toHaveProperty(field);
    }
    expect(new Set(configs.map(([, p]) => JSON.stringify(json(p).device))).size).toBe(1);
    expect(kept.get('emo/available')).toBe('online');

    const health = await s.health();
    expect(health).toMatchObject({ state: 'connected', url: b.url, connects: 1, queued: 0 });
    expect(health.dropped).toEqual({ outbox_full: 0, shutdown: 0 });
    const metrics = await s.metrics();
    expect(metrics).toContain('emostream_mqtt_connected 1');
    expect(metrics).toContain('emostream_mqtt_state{state="connected"} 1');
    expect(metrics).toMatch(/emostream_mqtt_published_total [1-9]/);
    expect(metrics).toContain('emostream_mqtt_dropped_total{cause="outbox_full"} 0');

    // Removed: its tracks end, its entities and retained topics go.
    expect((await fetch(`${s.url}/api/streams/${id}`, { method: 'DELETE' })).status).toBe(204);
    await waitFor('face.end', () => rec.on(`emo/${id}/face/end`).length > 0);
    await waitFor('entities removed', () => configs.every(([t]) => rec.last(t)?.payload === ''));
    expect([...(await retained(b.url, ['emo/#', 'homeassistant/#'])).keys()]).toEqual(['emo/available']);

    ws.ws.close();
    await s.server.close();
    expect(rec.last('emo/available')?.payload).toBe('offline');
  });

  it('the connection cut, then the broker killed and restarted: last will, reconnects, state republished, bounded meanwhile, never stalls', async () => {
    const b = await broker();
    const relay = await startRelay(await freePort(), b.port);
    open.push(relay);
    const observer = await recorder(b.url, ['emo2/available']);
    open.push(observer);
    const s = await server({
      url: relay.url,
      topicPrefix: 'emo2',
      faceUpdates: true,
      faceUpdateIntervalMs: 100,
      queueLimit: 10,
    });
    const id = await s.addStream();
    const ws = subscribe(s.url, '?types=face.update');
    await ws.opened;
    await until(
      'a face',
      async () => json((await retained(b.url, [`emo2/${id}/summary`])).get(`emo2/${id}/summary`))?.faces,
    );

    // 1. The network drops: the broker publishes our last will; we come back online.
    relay.cut();
    await waitFor('offline (last will)', () => observer.last('emo2/available')?.payload === 'offline');
    relay.restore();
    await waitFor('online again', () => observer.last('emo2/available')?.payload === 'online');
    expect(observer.on('emo2/available').map((m) => m.payload)).toEqual(['online', 'offline', 'online']);

    // 2. The broker dies. The server goes on: events still reach /events, the outbox stays at its bound.
    const killedAt = Date.now();
    await b.kill();
    await until('disconnected', async () => (await s.health()).state === 'disconnected');
    const wsBefore = ws.messages.length;
    let most = 0;
    let slowestHealthMs = 0;
    const health = async () => {
      const t = performance.now();
      const h = await s.health();
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - t);
      most = Math.max(most, h.queued);
      return h;
    };
    await until('the outbox full and dropping', async () => (await health()).dropped.outbox_full > 20);
    for (let i = 0; i < 10; i++) {
      await health();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(most).toBe(10);
    expect(ws.messages.length).toBeGreaterThan(wsBefore); // the pipeline and /events did not wait for the broker
    const down = await s.health();
    expect(down.error).toMatchObject({ code: 'MQTT_UNREACHABLE' });
    console.log(
      `broker down ${((Date.now() - killedAt) / 1000).toFixed(1)} s: outbox at most ${most} (limit 10), ` +
        `dropped ${JSON.stringify(down.dropped)}, /events got ${ws.messages.length - wsBefore} updates meanwhile, ` +
        `slowest /healthz ${slowestHealthMs.toFixed(0)} ms`,
    );
    expect(await s.metrics()).toMatch(/emostream_mqtt_connected 0[\s\S]*emostream_mqtt_outbox_queued 10/);

    // 3. The broker is back (empty: no persistence): we reconnect and republish everything retained.
    await b.restart();
    const rec = await recorder(b.url, [`emo2/${id}/face/#`]);
    open.push(rec);
    await until('connected', async () => (await s.health()).state === 'connected', 15_000);
    expect((await s.health()).connects).toBe(3);
    const kept = await until('retained state republished', async () => {
      const k = await retained(b.url, ['emo2/#', 'homeassistant/#']);
      return k.size === 8 ? k : undefined;
    });
    expect(kept.get('emo2/available')).toBe('online');
    expect(json(kept.get(`emo2/${id}/state`))).toMatchObject({ state: 'live' });
    expect(json(kept.get(`emo2/${id}/summary`))).toHaveProperty('faces');
    await waitFor('face events again', () => rec.messages.length > 0);
    const dropped = (await s.health()).dropped;
    expect(await s.metrics()).toContain(`emostream_mqtt_dropped_total{cause="outbox_full"} ${dropped.outbox_full}`);
    ws.ws.close();
  });

  it('an unreachable broker is a degraded start, then wrong credentials are "unauthorized"; the password shows nowhere', async () => {
    const port = await freePort();
    const password = 'wrong-password-4567';
    const s = await server({ url: `mqtt://127.0.0.1:${port}`, topicPrefix: 'emo3', username: 'emostream', password });
    // Started without the broker: serving, streams work, the sink says why it is not connected.
    expect((await fetch(`${s.url}/api/streams`)).status).toBe(200);
    const first = await s.health();
    expect(['connecting', 'disconnected']).toContain(first.state);
    await until('disconnected', async () => (await s.health()).state === 'disconnected');
    expect((await s.health()).error).toMatchObject({ code: 'MQTT_UNREACHABLE' });

    // A broker appears on that port, but our password is wrong: unauthorized, retried slowly.
    const authBroker = await startBroker(port, { users: { emostream: 'right-password-8910' } });
    open.push({ close: () => authBroker.stop() });
    await until('unauthorized', async () => (await s.health()).state === 'unauthorized', 10_000);
    const health = await s.health();
    expect(health.error).toMatchObject({ code: 'MQTT_UNAUTHORIZED' });
    const everything = [JSON.stringify(health), await s.metrics(), s.logs.join('')].join('\n');
    expect(everything).not.toContain(password);
    expect(await s.metrics()).toContain('emostream_mqtt_state{state="unauthorized"} 1');
    const refusals = s.logs.filter((l) => l.includes('mqtt broker refused our credentials'));
    expect(refusals).toHaveLength(1); // logged once, not at every retry
    expect(JSON.parse(refusals[0] as string)).toMatchObject({ level: 50 });
    // The broker going away again is "disconnected", not still "unauthorized".
    await authBroker.kill();
    await until('disconnected again', async () => (await s.health()).state === 'disconnected', 10_000);
    expect((await s.health()).error).toMatchObject({ code: 'MQTT_UNREACHABLE' });
    await authBroker.restart();

    // The right password, from the environment (EMOSTREAM_MQTT_PASSWORD), through the real config loader.
    const dir = mkdtempSync(join(tmpdir(), 'emostream-mqtt-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `server: { port: 0, stateFile: ${join(dir, 'cameras.json')} }\nmodels: { workers: 1 }\n` +
        `mqtt: { url: "mqtt://127.0.0.1:${port}", username: emostream, topicPrefix: emo4 }\n`,
    );
    const config = loadConfig(file, {}, { EMOSTREAM_MQTT_PASSWORD: 'right-password-8910' });
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    const ok = await Server.start(config, logger);
    open.push(ok);
    await until('connected', async () => {
      const h = (await (await fetch(`${ok.url}/healthz`)).json()) as { mqtt: { state: string } };
      return h.mqtt.state === 'connected';
    });
    expect(logs.join('')).not.toContain('right-password-8910');
  });

  it('a malformed broker URL stops `emostream serve` at start with CONFIG_INVALID naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emostream-mqtt-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'mqtt: { url: "http://user:hunter2-secret@127.0.0.1:1883" }\n');
    const run = spawnSync(process.execPath, [resolve('dist/cli/main.js'), 'serve', '--config', file], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('mqtt.url: must be an mqtt://, mqtts://, ws:// or wss:// URL with a host');
    expect(run.stderr).toContain('[CONFIG_INVALID]');
    expect(run.stderr).not.toContain('hunter2-secret');
  });
});
