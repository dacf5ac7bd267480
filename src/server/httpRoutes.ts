import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Config } from '../core/config.js';
import { AppError, errorCode, errorMessage, httpStatus, InputError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { FaceAnalysis } from '../core/types.js';
import type { Auth, Role } from './auth.js';
import type { ConcurrencyLimit } from './ConcurrencyLimit.js';
import type { HostCheck } from './HostCheck.js';
import type { Metrics } from './Metrics.js';
import type { StreamManager } from './StreamManager.js';

export interface RouteDeps {
  config: Readonly<Config>;
  auth: Auth;
  /** The DNS-rebinding guard: every request's Host must name this server. */
  hosts: HostCheck;
  streams: StreamManager;
  metrics: Metrics;
  /** Decodes and analyzes one uploaded image; `width`, `height` and the boxes are in the image's own pixels. */
  analyzeImage(bytes: Uint8Array): Promise<{ width: number; height: number; faces: FaceAnalysis[] }>;
  /** Uploads analyzed at once (and waiting); each holds its body, a decoded image and a trip through the models. */
  analyzeLimit: ConcurrencyLimit;
  /**
   * `status` is `ok`, or `degraded` when streams cannot be analyzed (no inference worker): answered with 503. The
   * details (engine, workers, streams, tensors, memory) only when `detailed`.
   */
  health(detailed: boolean): Promise<{ status: 'ok' | 'degraded' } & Record<string, unknown>>;
  /** Folder of the built web client (index.html and its assets). */
  webClientDir: string;
  logger: Logger;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
};

/** The HTTP side of docs/interfaces.md: web client, REST API, health and metrics. Errors are `{error:{code,message}}`. */
export function createRequestHandler(deps: RouteDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await route(deps, req, res);
    } catch (err) {
      const status = httpStatus(errorCode(err));
      // The path only: the query may carry a token (`?token=`), and a URL quoted in full may be megabytes long.
      if (status >= 500) deps.logger.error({ err, method: req.method, path: pathOf(req) }, 'request failed');
      if (!res.headersSent) sendJson(res, status, { error: { code: errorCode(err), message: errorMessage(err) } });
      else res.destroy();
    }
  };
}

async function route(deps: RouteDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  deps.hosts.check(req);
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://x');
  } catch {
    throw new InputError('BAD_ARGUMENT', 'the request target is not a valid path');
  }
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const guard = (role: Role) => deps.auth.check(role, req);

  // With tokens configured (always, off loopback): /healthz tells anyone only whether the server is healthy (for
  // probes and load balancers), the details need the subscribe token; /metrics needs it (docs/reliability.md).
  if (path === '/healthz' && method === 'GET') {
    const health = await deps.health(deps.auth.permits('subscribe', req));
    return sendJson(res, health.status === 'ok' ? 200 : 503, health);
  }
  if (path === '/metrics' && method === 'GET') {
    guard('subscribe');
    res.writeHead(200, { 'Content-Type': deps.metrics.contentType });
    res.end(await deps.metrics.text());
    return;
  }
  if (path === '/api/streams') {
    if (method === 'GET') {
      guard('subscribe');
      return sendJson(res, 200, deps.streams.list());
    }
    if (method === 'POST') {
      guard('admin');
      const body = parseJson(await readBody(req, deps.config.server.maxBodyBytes, ['application/json']));
      const { name, url: cameraUrl } = (body ?? {}) as { name?: unknown; url?: unknown };
      if (typeof name !== 'string' || typeof cameraUrl !== 'string') {
        throw new InputError('BAD_ARGUMENT', 'body must be {"name": string, "url": string}');
      }
      const info = await deps.streams.addCamera({ name, url: cameraUrl }, { persist: true });
      return sendJson(res, 201, info);
    }
    throw new AppError('METHOD_NOT_ALLOWED', `${method} ${path}`);
  }
  const streamMatch = /^\/api\/streams\/([\w.-]+)(\/snapshot\.jpg)?$/.exec(path);
  if (streamMatch) {
    const id = streamMatch[1] as string;
    if (streamMatch[2] && method === 'GET') {
      guard('subscribe');
      const jpeg = await deps.streams.snapshot(id);
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-store', 'Content-Length': jpeg.length });
      res.end(jpeg);
      return;
    }
    if (!streamMatch[2] && method === 'DELETE') {
      guard('admin');
      await deps.streams.remove(id);
      res.writeHead(204);
      res.end();
      return;
    }
    if (!streamMatch[2] && method === 'GET') {
      guard('subscribe');
      return sendJson(res, 200, deps.streams.info(id));
    }
    throw new AppError('METHOD_NOT_ALLOWED', `${method} ${path}`);
  }
  if (path === '/api/analyze') {
    if (method !== 'POST') throw new AppError('METHOD_NOT_ALLOWED', `${method} ${path}`);
    guard('publish');
    const result = await deps.analyzeLimit.run(async () => {
      const bytes = await readBody(req, deps.config.server.maxBodyBytes, ['image/jpeg', 'image/png', 'image/webp']);
      return deps.analyzeImage(bytes);
    });
    return sendJson(res, 200, result);
  }
  if (method === 'GET' || method === 'HEAD') return serveStatic(deps.webClientDir, path, res);
  throw new AppError('NOT_FOUND', `no route for ${method} ${path}`);
}

/** The request's path without its query, for logs: never throws, at most 200 characters. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)).slice(0, 200);
}

/** A path segment's %-escapes decoded; a malformed one is the client's error (400), not ours. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new InputError('BAD_ARGUMENT', 'the path has a malformed %-escape');
  }
}

function serveStatic(dir: string, path: string, res: ServerResponse): void {
  const root = resolve(dir);
  const file = normalize(join(root, path === '/' ? 'index.html' : decodePath(path)));
  if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
    throw new AppError('NOT_FOUND', `no such page: ${path}`);
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'X-Content-Type-Options': 'nosniff',
  });
  createReadStream(file).pipe(res);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a request body up to `limit` bytes; a larger one is refused with BODY_TOO_LARGE without buffering it. */
async function readBody(req: IncomingMessage, limit: number, types: string[]): Promise<Uint8Array> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (!types.includes(type)) {
    throw new InputError('UNSUPPORTED_MEDIA_TYPE', `content-type must be one of ${types.join(', ')} (got "${type}")`);
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new InputError('BODY_TOO_LARGE', `body of ${declared} bytes exceeds ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new InputError('BODY_TOO_LARGE', `body exceeds ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new InputError('BAD_JSON', 'body is not valid JSON');
  }
}
