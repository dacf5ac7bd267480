import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureNatsServer, startNats } from '../fixtures/natsServer.js';
import { freePort } from '../fixtures/rtspServer.js';
import { type NodeProcess, startNode } from '../helpers/clusterNodes.js';

/**
 * `serve --cluster` with a broker it cannot use (docs/scaling.md, "Start-up"): it stops at once with one line naming
 * the URL and a stable code, before any model loads; with `onUnreachable: degraded` it serves alone and joins later.
 */

const MAIN = resolve(__dirname, '../../dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'emostream-cluster-start-'));
const open: { stop(): Promise<unknown> }[] = [];

beforeAll(() => ensureNatsServer());
afterAll(async () => {
  for (const o of open.reverse()) await o.stop().catch(() => undefined);
});

/** Runs `serve` to its exit; stderr and the exit code. */
function serve(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((r) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      r({ code, stderr, ms: Date.now() - started });
    }),
  );
}

describe('serve --cluster with a broker it cannot use', () => {
  it('nobody listens: exits 1 at once, naming the URL [CLUSTER_UNREACHABLE]', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const run = await serve(['--cluster', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cluster.url ${url}: connection refused`);
    expect(run.stderr).toContain('[CLUSTER_UNREACHABLE]');
    expect(run.ms).toBeLessThan(15_000); // no model was loaded
  });

  it('a malformed URL is a config error naming the key [CONFIG_INVALID]', async () => {
    const run = await serve(['--cluster', 'http://127.0.0.1:4222']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cluster.url: must be nats:// or tls:// URLs with a host');
    expect(run.stderr).toContain('[CONFIG_INVALID]');
  });

  it('something that is not a NATS server (an HTTP server) [CLUSTER_UNREACHABLE]', async () => {
    const http = createServer((_req, res) => res.end('hello'));
    const port = await freePort();
    await new Promise<void>((r) => http.listen(port, '127.0.0.1', () => r()));
    open.push({ stop: () => new Promise((r) => http.close(() => r(undefined))) });
    const run = await serve(['--cluster', `nats://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cluster.url nats://127.0.0.1:${port}:`);
    expect(run.stderr).toContain('[CLUSTER_UNREACHABLE]');
  });

  it('a NATS server without JetStream [CLUSTER_NO_JETSTREAM]', async () => {
    const broker = await startNats(await freePort(), { jetstream: false });
    open.push(broker);
    const run = await serve(['--cluster', broker.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cluster.url ${broker.url}:`);
    expect(run.stderr).toContain('[CLUSTER_NO_JETSTREAM]');
  });

  it('a wrong token [CLUSTER_UNAUTHORIZED], and the token is in no output', async () => {
    const broker = await startNats(await freePort(), { token: 'right-token-0123456789' });
    open.push(broker);
    const wrong = 'wrong-token-s3cr3t-0123456789';
    const run = await serve(['--cluster', broker.url], { EMOSTREAM_CLUSTER_TOKEN: wrong });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[CLUSTER_UNAUTHORIZED]');
    expect(run.stderr).not.toContain(wrong);
  });

  it('onUnreachable: degraded serves alone, says so in /healthz, and joins when the broker comes, config cameras and all', async () => {
    const port = await freePort();
    let node: NodeProcess | undefined;
    try {
      node = await startNode('lonely', dir, {
        models: { workers: 1 },
        cluster: { url: `nats://127.0.0.1:${port}`, onUnreachable: 'degraded', renewMs: 500, leaseMs: 3000 },
        cameras: [{ name: 'from-config', url: 'rtsp://127.0.0.1:1/y' }],
      });
      expect((await node.cluster())?.state).toBe('connecting');
      const refused = await node.addCamera('later', 'rtsp://127.0.0.1:1/x');
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ error: { code: 'CLUSTER_UNAVAILABLE' } });
      const broker = await startNats(port);
      open.push(broker);
      const deadline = Date.now() + 20_000;
      while ((await node.cluster())?.state !== 'connected') {
        if (Date.now() > deadline) throw new Error('did not join');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await node.addCamera('later', 'rtsp://127.0.0.1:1/x')).status).toBe(201);
      // The config file's camera, which could not be registered at start, is registered once the broker is there.
      const names = async () => (await (node as NodeProcess).streams()).map((s) => s.name).sort();
      const until = Date.now() + 10_000;
      while (!(await names()).includes('from-config') && Date.now() < until)
        await new Promise((r) => setTimeout(r, 100));
      expect(await names()).toEqual(['from-config', 'later']);
    } finally {
      await node?.stop();
    }
  }, 120_000);
});
