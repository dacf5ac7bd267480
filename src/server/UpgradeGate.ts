import { EventEmitter } from 'node:events';
import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../core/config.js';
import { AppError, errorCode, errorMessage, httpStatus } from '../core/errors.js';
import type { Auth, Role } from './auth.js';

/**
 * Stands between the HTTP server's `upgrade` event and the WebSocket endpoints: checks the path, the Origin and
 * the role's token, and hands an accepted upgrade to the endpoint through a per-path emitter (which the endpoints
 * attach to as if it were the server). A refused upgrade gets an HTTP error with a JSON body and a closed socket.
 */
export class UpgradeGate {
  readonly #routes = new Map<string, { role: Role; emitter: EventEmitter }>();
  readonly #auth: Auth;
  readonly #allowedOrigins: readonly string[];
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#handle(req, socket, head);
  #server: Server | undefined;

  constructor(auth: Auth, config: Readonly<Config>) {
    this.#auth = auth;
    this.#allowedOrigins = config.server.allowedOrigins;
  }

  /** The emitter an endpoint should `attach()` to for `path`. */
  route(path: string, role: Role): Server {
    const emitter = new EventEmitter();
    this.#routes.set(path, { role, emitter });
    return emitter as unknown as Server;
  }

  attach(server: Server): void {
    this.#server = server;
    server.on('upgrade', this.#onUpgrade);
  }

  detach(): void {
    this.#server?.off('upgrade', this.#onUpgrade);
  }

  #handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = this.#routes.get(path);
    try {
      if (!route) throw new AppError('NOT_FOUND', `no WebSocket endpoint at ${path}`);
      if (!this.#originAllowed(req)) {
        throw new AppError('ORIGIN_FORBIDDEN', `origin ${req.headers.origin} is not allowed`);
      }
      this.#auth.check(route.role, req);
      route.emitter.emit('upgrade', req, socket, head);
    } catch (err) {
      const status = httpStatus(errorCode(err));
      const body = JSON.stringify({ error: { code: errorCode(err), message: errorMessage(err) } });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
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
