import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { childProcesses } from '../fixtures/childProcesses.js';
import { freePort } from '../fixtures/rtspServer.js';

const MAIN = resolve(__dirname, '../../dist/cli/main.js');

export interface ClusterHealth {
  state: string;
  node: string;
  owned: string[];
  nodes: number;
  leases: Record<string, number>;
  events: Record<string, number>;
  messages: { in: number; out: number };
  bytes: { in: number; out: number };
}

export interface ListedStream {
  id: string;
  name: string;
  state: string;
  node?: string;
  fps: number;
}

/** One `emostream serve` node of a test cluster: a real process (`npm run build` first), killable with SIGKILL. */
export interface NodeProcess {
  name: string;
  url: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  stderr(): string;
  cluster(): Promise<ClusterHealth | undefined>;
  streams(): Promise<ListedStream[]>;
  addCamera(name: string, url: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Its ffmpeg children now. */
  ffmpegs(): number[];
  kill9(): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts a node with `config` (JSON is YAML) and waits until it answers /healthz. */
export async function startNode(name: string, dir: string, config: Record<string, unknown>): Promise<NodeProcess> {
  const port = await freePort();
  const file = join(dir, `${name}.yaml`);
  const server = { host: '127.0.0.1', port, stateFile: join(dir, `${name}-state.json`) };
  writeFileSync(file, JSON.stringify({ ...config, server }));
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'serve', '--config', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-200_000);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const get = async (path: string) => fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) });
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node ${name} exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
    if (
      await get('/healthz').then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`node ${name} did not start within 90 s: ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid as number;
  return {
    name,
    url,
    pid,
    exited,
    stderr: () => stderr,
    cluster: async () => {
      try {
        return ((await (await get('/healthz')).json()) as { cluster?: ClusterHealth }).cluster;
      } catch {
        return undefined; // dead, or not answering: it owns nothing anyone can see
      }
    },
    streams: async () => (await (await get('/api/streams')).json()) as ListedStream[],
    addCamera: async (camera, cameraUrl) => {
      const res = await fetch(`${url}/api/streams`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: camera, url: cameraUrl }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    ffmpegs: () => childProcesses('ffmpeg', pid),
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Who owns what, as every node says of itself now (a dead node owns nothing). */
export async function owners(nodes: readonly NodeProcess[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const healths = await Promise.all(nodes.map((n) => n.cluster()));
  healths.forEach((h, i) => {
    for (const id of h?.owned ?? []) out.set(id, [...(out.get(id) ?? []), (nodes[i] as NodeProcess).name]);
  });
  return out;
}

/**
 * Polls ownership every `everyMs` in the background and keeps, per camera, the longest stretch during which two
 * nodes said they analyse it (the double-ownership window), and the longest stretch with no owner (a gap).
 */
export function watchOwnership(nodes: () => readonly NodeProcess[], cameras: () => readonly string[], everyMs = 100) {
  const doubleSince = new Map<string, number>();
  let maxDoubleMs = 0;
  let doubleSamples = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const now = Date.now();
      const seen = await owners(nodes());
      samples++;
      for (const camera of cameras()) {
        const count = seen.get(camera)?.length ?? 0;
        if (count > 1) {
          doubleSamples++;
          if (!doubleSince.has(camera)) doubleSince.set(camera, now);
          maxDoubleMs = Math.max(maxDoubleMs, now - (doubleSince.get(camera) as number) + everyMs);
        } else {
          doubleSince.delete(camera);
        }
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    get report() {
      return { samples, doubleSamples, maxDoubleMs };
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
