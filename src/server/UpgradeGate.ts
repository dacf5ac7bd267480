import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../core/config.js';
import { AppError, errorCode, errorMessage, httpStatus } from '../core/errors.js';
import type { Auth, Role } from './auth.js';
import type { HostCheck } from './HostCheck.js';

/** Takes an upgrade the gate let through; it must answer it or close it, whatever it finds. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** How long a refused upgrade's socket may stay open for its answer to be read before it is destroyed. */
const REFUSED_LINGER_MS = 2000;

/**
 * The one routing decision for WebSocket upgrades (issue 15, finding 3): the gate alone reads the path (normalised
 * the way URL parsing does: `/./events` and `/x/../events` are `/events`), checks Host, Origin and the role's
 * token, and hands the upgrade to the endpoint registered for that path, which takes it unconditionally. Every
 * upgrade is therefore either handed over or answered here with an HTTP error (JSON body) and closed; none is
 * left without an answer (sockets left so piled up in CLOSE-WAIT until the process ran out of descriptors).
 */
export class UpgradeGate {
  readonly #routes = new Map<string, { role: Role; handler: UpgradeHandler }>();
  readonly #auth: Auth;
  readonly #hosts: HostCheck;
  readonly #allowedOrigins: readonly string[];
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#handle(req, socket, head);
  #server: Server | undefined;

  constructor(auth: Auth, hosts: HostCheck, config: Readonly<Config>) {
    this.#auth = auth;
    this.#hosts = hosts;
    this.#allowedOrigins = config.server.allowedOrigins;
  }

  /** Routes upgrades for `path` (after the checks) to `handler`. */
  route(path: string, role: Role, handler: UpgradeHandler): void {
    this.#routes.set(path, { role, handler });
  }

  attach(server: Server): void {
    this.#server = server;
    server.on('upgrade', this.#onUpgrade);
  }

  /** Stops taking upgrades; any that still arrive are refused (503) and closed. */
  detach(): void {
    this.#routes.clear();
    this.#server?.off('upgrade', this.#onUpgrade);
    this.#server?.on('upgrade', (_req, socket: Duplex) => refuse(socket, 503, 'INVALID_STATE', 'shutting down'));
  }

  #handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // http removes its own error listener from an upgraded socket: without one, a peer's reset would be thrown.
    socket.on('error', () => socket.destroy());
    try {
      this.#hosts.check(req);
      const route = this.#routes.get(upgradePath(req));
      if (!route) throw new AppError('NOT_FOUND', 'no WebSocket endpoint at this path');
      checkWebSocketHandshake(req);
      if (!this.#originAllowed(req)) throw new AppError('ORIGIN_FORBIDDEN', 'this origin is not allowed');
      this.#auth.check(route.role, req);
      route.handler(req, socket, head);
    } catch (err) {
      const code = errorCode(err);
      refuse(socket, httpStatus(code), code, code === 'INTERNAL' ? 'the upgrade failed' : errorMessage(err));
    }
  }

  /** Browsers send Origin; it must be this server's own, or listed. Non-browser clients send none. */
  #originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin || this.#allowedOrigins.includes('*') || this.#allowedOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }
}

/**
 * The handshake fields RFC 6455 requires, checked here so that a malformed upgrade gets our typed error rather than
 * ws's plain-text 400 (GET, `Upgrade: websocket`, version 13, a 16-byte base64 key).
 */
function checkWebSocketHandshake(req: IncomingMessage): void {
  const key = req.headers['sec-websocket-key'];
  const ok =
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    req.headers['sec-websocket-version'] === '13' &&
    typeof key === 'string' &&
    /^[A-Za-z0-9+/]{22}==$/.test(key);
  if (!ok) throw new AppError('BAD_ARGUMENT', 'not a WebSocket handshake (GET, Upgrade: websocket, version 13, a key)');
}

/** The path an upgrade asks for, normalised as URL parsing does (dot segments resolved); never throws. */
export function upgradePath(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://x').pathname;
  } catch {
    return '';
  }
}

/** Answers an upgrade with an HTTP error and a JSON body, then closes the socket (destroyed if the peer lingers). */
export function refuse(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}
