import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import { configSchema } from '../../src/core/config.js';
import { Server } from '../../src/server/Server.js';

/** Starts a real server in-process on a free loopback port with a config overlay; logs are captured. */
export async function startServer(overlay: Record<string, unknown> = {}) {
  const logs: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'emostream-server-'));
  const base = { server: { host: '127.0.0.1', port: 0, stateFile: join(dir, 'cameras.json') }, models: { workers: 1 } };
  const config = configSchema.parse(merge(base, overlay));
  const server = await Server.start(config, logger);
  return { server, url: server.url, logs, stateFile: config.server.stateFile, config };
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object'
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** A `/events` subscriber that records every message. */
export function subscribe(url: string, query = '', headers: Record<string, string> = {}) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/events${query}`, { headers });
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return { ws, messages, opened };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
