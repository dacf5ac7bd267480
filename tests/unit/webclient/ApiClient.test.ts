import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, errorFromResponse, ROLES } from '../../../web-client/src/ApiClient.js';

function memoryStorage() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

describe('ApiClient', () => {
  it('builds WebSocket URLs on the page origin, with the token only when one is set', () => {
    const api = new ApiClient('http://127.0.0.1:8080', memoryStorage());
    expect(api.socketUrl('/events', 'subscribe', { stream: 'cam-1' })).toBe('ws://127.0.0.1:8080/events?stream=cam-1');
    api.token = 's3cret/+';
    expect(api.socketUrl('/signal', 'publish')).toBe('ws://127.0.0.1:8080/signal?token=s3cret%2F%2B');
    const secure = new ApiClient('https://example.org', memoryStorage());
    expect(secure.socketUrl('/events', 'subscribe')).toBe('wss://example.org/events');
    api.token = '';
    expect(api.socketUrl('/signal', 'publish')).toBe('ws://127.0.0.1:8080/signal');
  });

  it("uses a role's own token before the common one, and keeps tokens across page loads", () => {
    const storage = memoryStorage();
    const api = new ApiClient('http://h', storage);
    api.token = 'common';
    api.setToken('admin', 'admin-only');
    expect(ROLES.map((r) => api.tokenFor(r))).toEqual(['common', 'common', 'admin-only']);
    const reloaded = new ApiClient('http://h', storage);
    expect(reloaded.socketUrl('/events', 'subscribe')).toBe('ws://h/events?token=common');
    expect(reloaded.tokenFor('admin')).toBe('admin-only');
    reloaded.setToken('admin', '');
    expect(new ApiClient('http://h', storage).tokenFor('admin')).toBe('common');
  });

  it('keeps the token in memory when storage is disabled', () => {
    const throwing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
      removeItem: () => {
        throw new Error('denied');
      },
    };
    const api = new ApiClient('http://h', throwing);
    api.token = 'x';
    expect(api.tokenFor('publish')).toBe('x');
  });
});

describe('errorFromResponse', () => {
  it('reads the server error body', async () => {
    const res = new Response(JSON.stringify({ error: { code: 'BAD_URL', message: 'only rtsp:// URLs' } }), {
      status: 400,
    });
    const err = await errorFromResponse(res);
    expect(err).toBeInstanceOf(ApiError);
    expect([err.code, err.message, err.status]).toEqual(['BAD_URL', 'only rtsp:// URLs', 400]);
  });

  it('falls back to the status when the body is not the error shape', async () => {
    const err = await errorFromResponse(new Response('upstream down', { status: 502 }));
    expect([err.code, err.message, err.status]).toEqual(['HTTP_502', 'upstream down', 502]);
  });
});
