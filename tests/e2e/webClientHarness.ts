/**
 * Helpers of tests/e2e/webClient.test.ts: the fake camera's Y4M, and the real server (`node dist/cli/main.js serve`)
 * as a child process on a free loopback port with its own config and state file.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../../src/media/ffmpegPath.js';
import { freePort } from '../fixtures/rtspServer.js';

export const ROOT = join(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');
const VIDEO = join(ROOT, '../shared/data/video/fr_short_hamilton_clip.mp4');
export const OUTPUT = join(ROOT, 'test-output');

export { CHROMIUM_FLAGS } from './webrtcHarness.js';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
}

/** The 4 s of the shared clip where the singer faces the camera (2.5-6.5 s), as the fake camera's Y4M (41 MB). */
export function makeY4m(into: string): string {
  const out = join(into, 'camera.y4m');
  execFileSync(resolveFfmpegPath(), [
    ...['-hide_banner', '-loglevel', 'error', '-ss', '2.5', '-i', VIDEO, '-t', '4'],
    ...['-an', '-pix_fmt', 'yuv420p', '-r', '30', '-f', 'yuv4mpegpipe', '-y', out],
  ]);
  return out;
}

/** Starts `emostream serve` on a free loopback port (config: `extraYaml` appended); resolves once /healthz is 200. */
export async function startServer(into: string, extraYaml: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  mkdirSync(into, { recursive: true });
  const config = join(into, 'emostream.yaml');
  writeFileSync(
    config,
    [
      'server:',
      `  stateFile: ${JSON.stringify(join(into, 'cameras.json'))}`,
      'models:',
      '  workers: 1',
      ...extraYaml,
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--config', config, '--host', '127.0.0.1', '--port', `${port}`],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`emostream serve exited with ${child.exitCode}:\n${log}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child, output: () => log };
    await sleep(250);
  }
  child.kill('SIGKILL');
  throw new Error(`emostream serve did not answer /healthz within 90 s:\n${log}`);
}

export async function stopServer(s: ServerProcess): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Logs the time since the previous mark (phases of a test, for the report). */
export function timer(name: string): (what: string) => void {
  let last = Date.now();
  return (what) => {
    console.log(`[${name}] ${what}: ${Date.now() - last} ms`);
    last = Date.now();
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(
  what: string,
  get: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Fails early with a clear message when the server has not been built. */
export function requireBuiltServer(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
}
