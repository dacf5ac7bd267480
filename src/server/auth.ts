import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../core/config.js';
import { AppError, ConfigError } from '../core/errors.js';

export type Role = 'publish' | 'subscribe' | 'admin';

const TOKEN_KEY: Record<Role, keyof Config['auth']> = {
  publish: 'publishToken',
  subscribe: 'subscribeToken',
  admin: 'adminToken',
};

/** Loopback hosts, where a server with no tokens is allowed. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refused requests: `AUTH_REQUIRED` (401) when no token was given, `AUTH_FORBIDDEN` (403) when a wrong one was. */
export class AuthError extends AppError {
  constructor(code: 'AUTH_REQUIRED' | 'AUTH_FORBIDDEN', role: Role) {
    super(code, `${role} needs a valid token`);
  }
}

/**
 * Token checks for the three roles. On loopback with no tokens configured nobody needs one; bound to any other
 * interface, all three must be configured (the server refuses to start otherwise). Tokens come from
 * `Authorization: Bearer`, `X-Emostream-Token`, or a `token` query parameter (browsers' WebSockets cannot set
 * headers), and are compared in constant time.
 */
export class Auth {
  readonly #digests: Partial<Record<Role, Buffer>> = {};
  readonly refused: Record<Role, number> = { publish: 0, subscribe: 0, admin: 0 };

  constructor(config: Readonly<Config>) {
    for (const role of Object.keys(TOKEN_KEY) as Role[]) {
      const token = config.auth[TOKEN_KEY[role]];
      if (token) this.#digests[role] = digest(token);
    }
    if (!isLoopback(config.server.host)) {
      const missing = (Object.keys(TOKEN_KEY) as Role[]).filter((r) => !this.#digests[r]).map((r) => TOKEN_KEY[r]);
      if (missing.length > 0) {
        throw new ConfigError(
          `listening on ${config.server.host} needs tokens: set auth.${missing.join(', auth.')} (or EMOSTREAM_*_TOKEN)`,
          { code: 'AUTH_TOKENS_REQUIRED' },
        );
      }
    }
  }

  /** Whether a role needs a token at all. */
  required(role: Role): boolean {
    return this.#digests[role] !== undefined;
  }

  /** Whether the request may act as `role` (no token needed, or the right one given); nothing is counted. */
  permits(role: Role, req: IncomingMessage): boolean {
    const expected = this.#digests[role];
    if (!expected) return true;
    const given = tokenOf(req);
    return given !== undefined && timingSafeEqual(digest(given), expected);
  }

  /** Throws `AuthError` (and counts it) unless the request carries the role's token. */
  check(role: Role, req: IncomingMessage): void {
    const expected = this.#digests[role];
    if (!expected) return;
    const given = tokenOf(req);
    if (given === undefined) {
      this.refused[role]++;
      throw new AuthError('AUTH_REQUIRED', role);
    }
    if (!timingSafeEqual(digest(given), expected)) {
      this.refused[role]++;
      throw new AuthError('AUTH_FORBIDDEN', role);
    }
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const custom = req.headers['x-emostream-token'];
  if (typeof custom === 'string' && custom) return custom;
  try {
    return new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
  } catch {
    return undefined; // not a valid target: the route says so
  }
}
