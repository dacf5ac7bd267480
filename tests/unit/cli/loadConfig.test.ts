import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/cli/loadConfig.js';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'emostream-config-')), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('gives the documented defaults with no file', () => {
    const config = loadConfig(undefined, {}, {});
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.models).toMatchObject({ detector: 'blazeface', emotion: 'emotion-cnn', backend: 'auto' });
    expect(config.analysis.fps).toBe(5);
    expect(config.cameras).toEqual([]);
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('reads the docs/interfaces.md example, with flags overriding the file', () => {
    const path = file(`server: { host: 127.0.0.1, port: 8080 }
models: { detector: blazeface, emotion: human }
analysis: { fps: 5 }
cameras:
  - name: lobby
    url: rtsp://user:pass@10.0.0.12:554/stream1
`);
    const config = loadConfig(path, { port: 9999 }, {});
    expect(config.server.port).toBe(9999);
    expect(config.cameras).toEqual([{ name: 'lobby', url: 'rtsp://user:pass@10.0.0.12:554/stream1' }]);
  });

  it('names the file and the path of an unknown key', () => {
    const path = file('models:\n  detectr: tiny\n');
    expect(() => loadConfig(path, {}, {})).toThrow(`${path}: unknown key models.detectr`);
    expect(() => loadConfig(file('bogus: 1\n'), {}, {})).toThrow(/unknown key bogus/);
  });

  it('names the path of a bad value and refuses bad YAML with CONFIG_INVALID', () => {
    expect(() => loadConfig(file('analysis: { fps: -1 }\n'), {}, {})).toThrow(/analysis\.fps/);
    expect(() => loadConfig(file('server: [\n'), {}, {})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => loadConfig('/nonexistent.yaml', {}, {})).toThrow(
      expect.objectContaining({ code: 'CONFIG_UNREADABLE' }),
    );
  });

  it('takes secrets from the environment', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config syntax under test
    const path = file('cameras:\n  - { name: door, url: "rtsp://admin:${DOOR_PASS}@127.0.0.1/live" }\n');
    const config = loadConfig(path, {}, { DOOR_PASS: 's3cret', EMOSTREAM_ADMIN_TOKEN: 'a-very-long-admin-token' });
    expect(config.cameras[0]?.url).toBe('rtsp://admin:s3cret@127.0.0.1/live');
    expect(config.auth.adminToken).toBe('a-very-long-admin-token');
    expect(() => loadConfig(path, {}, {})).toThrow(/DOOR_PASS is not set/);
  });

  it('mqtt: off unless configured; the password from EMOSTREAM_MQTT_PASSWORD; defaults as documented', () => {
    const env = { EMOSTREAM_MQTT_PASSWORD: 'from-the-environment' };
    expect(loadConfig(undefined, {}, env).mqtt).toBeUndefined(); // the variable alone turns nothing on
    const config = loadConfig(file('mqtt: { url: "mqtt://127.0.0.1:1883", username: emo }\n'), {}, env);
    expect(config.mqtt).toEqual({
      url: 'mqtt://127.0.0.1:1883',
      username: 'emo',
      password: 'from-the-environment',
      topicPrefix: 'emostream',
      qos: 0,
      retain: true,
      faceUpdates: false,
      faceUpdateIntervalMs: 1000,
      summaryIntervalMs: 1000,
      queueLimit: 1000,
      connectTimeoutMs: 10_000,
      keepaliveMs: 30_000,
      reconnectMinMs: 1000,
      reconnectMaxMs: 30_000,
      homeAssistant: { discovery: true, discoveryPrefix: 'homeassistant' },
    });
    expect(loadConfig(file('mqtt: { url: "mqtts://b.example", password: in-file }\n'), {}, {}).mqtt?.password).toBe(
      'in-file',
    );
  });

  it('mqtt: a malformed URL or topic prefix is CONFIG_INVALID naming the key, never echoing a password', () => {
    for (const url of ['http://u:pw-secret-1@127.0.0.1', 'mqtt://', 'not a url', 'mqtt:/no-host', 'file:///x']) {
      const path = file(`mqtt: { url: "${url}" }\n`);
      let err: unknown;
      try {
        loadConfig(path, {}, {});
      } catch (e) {
        err = e;
      }
      expect(err, url).toMatchObject({ code: 'CONFIG_INVALID' });
      expect((err as Error).message, url).toContain('mqtt.url: must be an mqtt://');
      expect((err as Error).message).not.toContain('pw-secret-1');
    }
    for (const prefix of ['a/#', 'a/+/b', '/a', 'a/', 'a//b']) {
      expect(() => loadConfig(file(`mqtt: { url: "mqtt://h", topicPrefix: "${prefix}" }\n`), {}, {}), prefix).toThrow(
        /mqtt\.topicPrefix/,
      );
    }
    expect(() => loadConfig(file('mqtt: { url: "ws://h:9001/mqtt", qos: 3 }\n'), {}, {})).toThrow(/mqtt\.qos/);
    expect(() =>
      loadConfig(file('mqtt: { url: "mqtt://h", reconnectMinMs: 5000, reconnectMaxMs: 1000 }\n'), {}, {}),
    ).toThrow(/mqtt\.reconnectMaxMs/);
    expect(() => loadConfig(file('mqtt: { url: "mqtt://h", retian: true }\n'), {}, {})).toThrow(
      /unknown key mqtt\.retian/,
    );
  });
  it('cluster: off unless configured or --cluster; credentials from the environment; defaults as documented', () => {
    const env = { EMOSTREAM_CLUSTER_TOKEN: 'token-from-env', EMOSTREAM_CLUSTER_USER: 'emo' };
    expect(loadConfig(undefined, {}, env).cluster).toBeUndefined(); // the variables alone turn nothing on
    expect(loadConfig(undefined, { cluster: 'nats://10.0.0.5:4222' }, env).cluster).toEqual({
      url: 'nats://10.0.0.5:4222',
      name: 'emostream',
      leaseMs: 15_000,
      renewMs: 5000,
      onUnreachable: 'fail',
      connectTimeoutMs: 5000,
      reconnectMinMs: 250,
      reconnectMaxMs: 10_000,
      token: 'token-from-env',
      user: 'emo',
    });
    const path = file('cluster: { url: "nats://a:4222", name: site-2, leaseMs: 6000, renewMs: 2000 }\n');
    expect(loadConfig(path, { cluster: 'tls://b:4222,tls://c:4222' }, {}).cluster).toMatchObject({
      url: 'tls://b:4222,tls://c:4222',
      name: 'site-2',
      leaseMs: 6000,
    });
  });

  it('cluster: a wrong URL, name or lease is CONFIG_INVALID naming the key', () => {
    const cases: [string, string][] = [
      ['cluster: { url: "http://127.0.0.1:4222" }', 'cluster.url: must be nats:// or tls://'],
      ['cluster: { url: "nats://" }', 'cluster.url'],
      ['cluster: { url: "nats://h", name: "a.b" }', 'cluster.name'],
      [
        'cluster: { url: "nats://h", leaseMs: 3000, renewMs: 1500 }',
        'cluster.renewMs: renewMs must be at most a third of leaseMs',
      ],
      ['cluster: { url: "nats://h", nod: x }', 'unknown key cluster.nod'],
    ];
    for (const [text, message] of cases) {
      expect(() => loadConfig(file(`${text}\n`), {}, {}), text).toThrow(message);
    }
  });
});
