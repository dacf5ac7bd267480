/** Issue 15, findings 1, 4 and 7: camera URLs are checked once, normalised for ffmpeg, and never quoted back. */
import { describe, expect, it } from 'vitest';
import { MAX_CAMERA_URL_LENGTH, parseCameraUrl } from '../../../src/core/cameraUrl.js';
import { errorCode, errorMessage } from '../../../src/core/errors.js';

describe('parseCameraUrl', () => {
  it('parseCameraUrl refuses a 1 MB URL at once, without repeating it', { timeout: 20_000 }, () => {
    const huge = `rtsp://cam/${'a'.repeat(1024 * 1024)}`;
    let err: unknown;
    try {
      parseCameraUrl(huge);
    } catch (e) {
      err = e;
    }
    expect(errorCode(err)).toBe('BAD_URL');
    expect(errorMessage(err).length).toBeLessThan(200);
  });
  it('shows secret query values as *** and lists them as secrets', () => {
    const parsed = parseCameraUrl('rtsp://10.0.0.1/live?channel=1&token=s3cr3t-T0KEN&subtype=0&Password=hunter2');
    expect(parsed.hasSecrets).toBe(true);
    expect(parsed.display).toBe('rtsp://10.0.0.1/live?channel=1&token=***&subtype=0&Password=***');
    for (const secret of ['s3cr3t-T0KEN', 'hunter2']) expect(parsed.secrets).toContain(secret);
  });

  it('parseCameraUrl normalises what ffmpeg gets and shows no credential', () => {
    const parsed = parseCameraUrl('RTSP://admin:p@ss:w%2Frd@Cam.local:554/Stream1?tcp');
    expect(parsed.scheme).toBe('rtsp');
    expect(parsed.href).toBe('rtsp://admin:p%40ss%3Aw%2Frd@Cam.local:554/Stream1?tcp');
    expect(parsed.display).toBe('rtsp://***@Cam.local:554/Stream1?tcp');
    for (const form of ['p@ss:w/rd', 'p%40ss%3Aw%2Frd', 'p@ss:w%2Frd']) expect(parsed.secrets).toContain(form);
    expect(parseCameraUrl('rtsps://cam/x').hasSecrets).toBe(false);
  });

  it('parseCameraUrl refuses what it cannot read unambiguously, and never quotes the URL', () => {
    const cases = [
      'rtsp://admin:p/ss@cam/x', // unencoded '/' in the password: the rest would be read as a path
      'rtsp://admin:1/ss@cam/x', // ... even when what precedes it looks like a port
      'rtsp://admin:pa ss@cam/x',
      'rtsp://cam/x\nDELETE',
      'http://admin:secretpw@cam/x',
      'rtsp:///nohost',
      `rtsp://cam/${'x'.repeat(MAX_CAMERA_URL_LENGTH)}`,
    ];
    for (const url of cases) {
      let err: unknown;
      try {
        parseCameraUrl(url);
      } catch (e) {
        err = e;
      }
      expect(errorCode(err), url).toBe('BAD_URL');
      const message = errorMessage(err);
      for (const secret of ['p/ss', '1/ss', 'pa ss', 'secretpw', 'nohost', 'DELETE']) {
        expect(message, url).not.toContain(secret);
      }
    }
  });
});
