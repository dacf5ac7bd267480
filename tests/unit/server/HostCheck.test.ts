/** Issue 15, finding 5: the DNS-rebinding guard. */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/core/config.js';
import { HostCheck, hostOf } from '../../../src/server/HostCheck.js';

const check = (server: Record<string, unknown> = {}) =>
  new HostCheck(configSchema.parse({ server, auth: server.host ? tokens : {} }));
const tokens = {
  publishToken: 'publish-0123456789',
  subscribeToken: 'subscribe-0123456789',
  adminToken: 'admin-0123456789ab',
};

describe('HostCheck', () => {
  it('on loopback without tokens: IP literals and localhost only, plus configured names', () => {
    const hosts = check({ allowedHosts: ['emostream.lan', '.cams.example'] });
    for (const ok of [
      undefined,
      '127.0.0.1:8080',
      '127.0.0.1',
      '[::1]:8080',
      'localhost:8080',
      'LOCALHOST',
      'app.localhost:1',
      '10.0.0.5:8080',
      'emostream.lan:8080',
      'EMOSTREAM.LAN.',
      'door.cams.example',
    ]) {
      expect(hosts.allows(ok), String(ok)).toBe(true);
    }
    for (const bad of [
      'rebind.attacker.example:8080',
      'emostream.lan.attacker.example',
      'cams.example', // the suffix needs a label before it
      'localhost.attacker.example',
      '127.0.0.1.nip.io',
      '999.1.1.1',
      'a b',
      '[::1',
      'host:port',
      'x'.repeat(300),
    ]) {
      expect(hosts.allows(bad), bad).toBe(false);
    }
  });

  it('off loopback it also answers to its listening name and this machine', () => {
    expect(check({ host: 'emostream.example' }).allows('emostream.example:8080')).toBe(true);
    expect(check({}).allows('emostream.example:8080')).toBe(false);
  });

  it('hostOf strips ports and brackets only where they are well formed', () => {
    expect(hostOf('Example.COM:80')).toBe('example.com');
    expect(hostOf('[::1]:8080')).toBe('[::1]');
    expect(hostOf('[::1]x')).toBeUndefined();
    expect(hostOf('a:b')).toBeUndefined();
  });
});
