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
    expect(config.models).toMatchObject({ detector: 'blazeface', emotion: 'fer-head', backend: 'auto' });
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
});
