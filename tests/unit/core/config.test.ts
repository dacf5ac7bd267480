/** Issue 15: what the config refuses (tokens of spaces, one token for several roles, huge camera URLs). */
import { describe, expect, it } from 'vitest';
import { MAX_CAMERA_URL_LENGTH } from '../../../src/core/cameraUrl.js';
import { configSchema } from '../../../src/core/config.js';

const issues = (input: unknown) => {
  const result = configSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('config: auth tokens (finding 7)', () => {
  const good = {
    publishToken: 'publish-0123456789',
    subscribeToken: 'subscribe-0123456789',
    adminToken: 'admin-0123456789ab',
  };

  it('takes three distinct tokens of 16 or more visible characters', () => {
    expect(issues({ auth: good })).toEqual([]);
  });

  it('refuses a token of spaces, or with a space in it', () => {
    expect(issues({ auth: { ...good, adminToken: ' '.repeat(20) } })).toEqual([
      expect.stringMatching(/^auth\.adminToken: a token is at least 16 visible/),
    ]);
    expect(issues({ auth: { ...good, publishToken: 'abcdefgh ijklmnopq' } })).toHaveLength(1);
    expect(issues({ auth: { ...good, publishToken: 'short' } })).toHaveLength(1);
  });

  it('refuses one token for two or three roles', () => {
    const same = 'one-token-for-everything';
    expect(issues({ auth: { publishToken: same, subscribeToken: same, adminToken: same } })).toEqual([
      'auth.subscribeToken: must differ from auth.publishToken',
      'auth.adminToken: must differ from auth.publishToken',
    ]);
    expect(issues({ auth: { ...good, adminToken: good.subscribeToken } })).toEqual([
      'auth.adminToken: must differ from auth.subscribeToken',
    ]);
  });
});

describe('config: cameras (finding 1)', () => {
  it(`refuses a camera URL over ${MAX_CAMERA_URL_LENGTH} characters`, () => {
    const url = `rtsp://cam/${'a'.repeat(MAX_CAMERA_URL_LENGTH)}`;
    expect(issues({ cameras: [{ name: 'big', url }] })).toEqual([expect.stringMatching(/^cameras\.0\.url: /)]);
    expect(issues({ cameras: [{ name: 'ok', url: 'rtsp://cam/stream' }] })).toEqual([]);
  });
});
