import type { StreamState } from '../../src/core/events.js';

/** One row of `GET /api/streams` (docs/interfaces.md). */
export interface StreamInfo {
  id: string;
  name: string;
  kind: 'webrtc' | 'rtsp' | 'file';
  state: StreamState | string;
  fps: number;
  faces: number;
  url?: string;
  /** In a cluster: the node that analyses it (absent while no node does: state `unassigned`). */
  node?: string;
}

/** An error from the server (`{"error":{"code","message"}}`) or from the network, with a stable code. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server's access roles: publishing a webcam, reading streams and events, managing cameras. */
export type Role = 'publish' | 'subscribe' | 'admin';
export const ROLES: readonly Role[] = ['publish', 'subscribe', 'admin'];

/** `''` is the token used for every role that has no token of its own. */
type TokenSlot = Role | '';
const storageKey = (slot: TokenSlot) => (slot ? `emostream.token.${slot}` : 'emostream.token');

/**
 * REST and WebSocket addresses of the server that served this page, with access tokens: an
 * `Authorization: Bearer` header on REST calls, a `token` query parameter on WebSocket URLs (browsers cannot set
 * headers there). One token serves every role unless a role has its own (servers may configure one token per role).
 * Tokens are kept in localStorage (in memory only when storage is disabled); with none set, nothing is sent.
 */
export class ApiClient {
  readonly #memory = new Map<TokenSlot, string>();

  constructor(
    readonly origin: string,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined,
  ) {
    for (const slot of ['', ...ROLES] as TokenSlot[]) {
      try {
        const saved = storage?.getItem(storageKey(slot));
        if (saved) this.#memory.set(slot, saved);
      } catch {
        // storage disabled
      }
    }
  }

  /** The token for every role (unless a role has its own). */
  get token(): string {
    return this.#memory.get('') ?? '';
  }

  set token(value: string) {
    this.setToken('', value);
  }

  /** A role's own token ('' when it uses the common one). */
  ownToken(role: Role): string {
    return this.#memory.get(role) ?? '';
  }

  /** Sets the common token (`slot` '') or a role's own; '' clears it. */
  setToken(slot: TokenSlot, value: string): void {
    if (value) this.#memory.set(slot, value);
    else this.#memory.delete(slot);
    try {
      if (value) this.storage?.setItem(storageKey(slot), value);
      else this.storage?.removeItem(storageKey(slot));
    } catch {
      // storage disabled: the token lasts for this page only
    }
  }

  /** The token sent for `role`: its own, else the common one, else ''. */
  tokenFor(role: Role): string {
    return this.ownToken(role) || this.token;
  }

  /** `ws(s)://host/path?params[&token=...]` with the token of `role`. */
  socketUrl(path: string, role: Role, params: Record<string, string> = {}): string {
    const url = new URL(path, this.origin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const token = this.tokenFor(role);
    if (token) url.searchParams.set('token', token);
    return url.toString();
  }

  listStreams(signal?: AbortSignal): Promise<StreamInfo[]> {
    return this.#json<StreamInfo[]>('GET', '/api/streams', 'subscribe', undefined, signal);
  }

  addCamera(name: string, url: string): Promise<StreamInfo> {
    return this.#json<StreamInfo>('POST', '/api/streams', 'admin', { name, url });
  }

  async removeStream(id: string): Promise<void> {
    await this.#request('DELETE', `/api/streams/${encodeURIComponent(id)}`, 'admin');
  }

  /** The latest annotated frame of a stream, as a Blob (fetched, so the token header can be sent). */
  async snapshot(id: string, signal?: AbortSignal): Promise<Blob> {
    const path = `/api/streams/${encodeURIComponent(id)}/snapshot.jpg?t=${Date.now()}`;
    const res = await this.#request('GET', path, 'subscribe', { signal });
    return res.blob();
  }

  async #json<T>(method: string, path: string, role: Role, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.#request(method, path, role, { body, signal });
    return (await res.json()) as T;
  }

  async #request(
    method: string,
    path: string,
    role: Role,
    opts: { body?: unknown; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.tokenFor(role);
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.origin), {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
        cache: 'no-store',
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError('NETWORK', `cannot reach the server (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }
}

/** Reads `{"error":{"code","message"}}`; falls back to the HTTP status when the body is something else. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.code === 'string') {
      return new ApiError(body.error.code, String(body.error.message ?? ''), res.status);
    }
  } catch {
    // not JSON
  }
  return new ApiError(`HTTP_${res.status}`, text.slice(0, 200) || res.statusText || 'request failed', res.status);
}
