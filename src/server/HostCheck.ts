import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { isLoopback } from './auth.js';

/**
 * The DNS-rebinding guard (issue 15, finding 5). A web page can point a name it controls at 127.0.0.1 and then talk
 * to a no-token server on loopback as if it were its own origin; the browser then sends that name in `Host`. So a
 * request is served only when its `Host` names this server:
 * - an IP literal (v4, or v6 in brackets) or `localhost` / `*.localhost`: a page cannot make a browser send one of
 *   these for its own name;
 * - a name in `server.allowedHosts` (exact, or a suffix written with a leading dot: `.lan`);
 * - when listening on an interface other than loopback (tokens are required there): also `server.host` when it is
 *   a name, and this machine's host name.
 * An HTTP/1.0 request without `Host` passes (old tools; browsers always send one). Ports are ignored.
 */
export class HostCheck {
  readonly #names: ReadonlySet<string>;
  readonly #suffixes: readonly string[];
  /** Requests refused, for /metrics. */
  refused = 0;

  constructor(config: Readonly<Config>) {
    const names = new Set<string>();
    const suffixes: string[] = [];
    for (const entry of config.server.allowedHosts) {
      const name = entry.trim().toLowerCase().replace(/\.$/, '');
      if (name.startsWith('.')) suffixes.push(name);
      else if (name) names.add(name);
    }
    if (!isLoopback(config.server.host)) {
      names.add(config.server.host.toLowerCase());
      names.add(hostname().toLowerCase());
    }
    this.#names = names;
    this.#suffixes = suffixes;
  }

  allows(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined || hostHeader === '') return true;
    const host = hostOf(hostHeader);
    if (host === undefined) return false;
    if (isIpLiteral(host) || host === 'localhost' || host.endsWith('.localhost')) return true;
    return this.#names.has(host) || this.#suffixes.some((suffix) => host.endsWith(suffix));
  }

  /**
   * Throws `HOST_FORBIDDEN` (and counts it) unless the request's Host names this server; `BAD_ARGUMENT` for an
   * HTTP/1.1 request without one (the server answers that itself, typed, instead of Node's bare 400).
   */
  check(req: IncomingMessage): void {
    if (req.headers.host === undefined && req.httpVersion !== '1.0') {
      throw new AppError('BAD_ARGUMENT', 'an HTTP/1.1 request needs a Host header');
    }
    if (this.allows(req.headers.host)) return;
    this.refused++;
    throw new AppError(
      'HOST_FORBIDDEN',
      'the Host header does not name this server (add the name to server.allowedHosts to serve it)',
    );
  }
}

/** The host of a Host header, lower-case, without port or trailing dot; undefined when malformed. */
export function hostOf(header: string): string | undefined {
  const value = header.trim().toLowerCase();
  if (value.length > 255) return undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    const rest = value.slice(end + 1);
    if (rest && !/^:\d{1,5}$/.test(rest)) return undefined;
    return value.slice(0, end + 1);
  }
  const colon = value.lastIndexOf(':');
  const host = colon >= 0 ? value.slice(0, colon) : value;
  if (colon >= 0 && !/^\d{1,5}$/.test(value.slice(colon + 1))) return undefined;
  if (!/^[a-z0-9.-]+$/.test(host)) return undefined;
  return host.replace(/\.$/, '');
}

function isIpLiteral(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return /^[0-9a-f:.]+$/.test(host.slice(1, -1));
  const parts = host.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
