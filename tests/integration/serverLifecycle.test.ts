import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/rtspServer.js';
import { startServer, waitFor } from '../helpers/serverHarness.js';
import { SHARED_DATA } from '../helpers/sharedData.js';

const post = (url: string, body: unknown) =>
  fetch(`${url}/api/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Processes whose command line mentions `needle` (to find ffmpeg children even after their parent died). */
/** `emostream serve --config FILE` as a real process, once it listens; its stderr so far, and its exit code to come. */
async function serveUntilListening(config: string) {
  const child = spawn(process.execPath, [resolve('dist/cli/main.js'), 'serve', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor('the server to listen', () => log.includes('"msg":"listening"'), 60_000);
  return { child, log: () => log, exited };
}

function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('server life cycle', () => {
  it('cameras from the config file and from the API come back after a restart; the state file is private', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emostream-restart-'));
    const overlay = {
      server: { stateFile: join(dir, 'state', 'cameras.json') },
      files: { allowDir: `${SHARED_DATA}/video` },
      cameras: [{ name: 'from-file', url: 'fr_short_hamilton_clip.mp4' }],
    };
    const first = await startServer(overlay);
    try {
      expect((await post(first.url, { name: 'from-api', url: 'facenetpt_video.mp4' })).status).toBe(201);
    } finally {
      await first.server.close();
    }
    const state = join(dir, 'state', 'cameras.json');
    expect(JSON.parse(readFileSync(state, 'utf8')).cameras).toEqual([{ name: 'from-api', url: 'facenetpt_video.mp4' }]);
    expect(readdirSync(join(dir, 'state'))).toEqual(['cameras.json']); // no temp file left behind
    expect(statSync(state).mode & 0o777).toBe(0o600); // it holds camera passwords
    const second = await startServer(overlay);
    try {
      const names = ((await (await fetch(`${second.url}/api/streams`)).json()) as { name: string }[]).map(
        (s) => s.name,
      );
      expect(names.sort()).toEqual(['from-api', 'from-file']);
      // Removing the API camera removes it from the state file too.
      const id = ((await (await fetch(`${second.url}/api/streams`)).json()) as { id: string; name: string }[]).find(
        (s) => s.name === 'from-api',
      )?.id;
      expect((await fetch(`${second.url}/api/streams/${id}`, { method: 'DELETE' })).status).toBe(204);
      expect(JSON.parse(readFileSync(state, 'utf8')).cameras).toEqual([]);
    } finally {
      await second.server.close();
    }
  });

  it('a full server refuses more streams with LIMIT_STREAMS and keeps the ones it has', async () => {
    const s = await startServer({ files: { allowDir: `${SHARED_DATA}/video` }, limits: { maxStreams: 2 } });
    try {
      expect((await post(s.url, { name: 'a', url: 'fr_short_hamilton_clip.mp4' })).status).toBe(201);
      expect((await post(s.url, { name: 'b', url: 'fr_short_hamilton_clip.mp4' })).status).toBe(201);
      const third = await post(s.url, { name: 'c', url: 'fr_short_hamilton_clip.mp4' });
      expect(third.status).toBe(429);
      expect(((await third.json()) as { error: { code: string } }).error.code).toBe('LIMIT_STREAMS');
      const dup = await post(s.url, { name: 'a', url: 'fr_short_hamilton_clip.mp4' });
      expect(dup.status).toBe(409);
      expect(((await (await fetch(`${s.url}/api/streams`)).json()) as unknown[]).length).toBe(2);
    } finally {
      await s.server.close();
    }
  });

  it('SIGTERM shuts `emostream serve` down with exit code 0 and no ffmpeg left behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emostream-sigterm-'));
    const port = await freePort();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `server: { port: ${port}, stateFile: ${join(dir, 'cameras.json')} }\nfiles: { allowDir: ${SHARED_DATA}/video }\n` +
        `cameras:\n  - { name: lobby, url: fr_short_hamilton_clip.mp4 }\nmodels: { workers: 1 }\n`,
    );
    const { child, log, exited } = await serveUntilListening(config);
    await waitFor('the camera ffmpeg', () => processesMentioning('fr_short_hamilton_clip.mp4').length > 0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log()).toContain('"msg":"stopped"');
    expect(processesMentioning('fr_short_hamilton_clip.mp4')).toEqual([]);
    expect(existsSync(join(dir, 'cameras.json'))).toBe(false); // config cameras are not written to the state file
  });

  it('SIGTERM exits 0 in time with odd upgrade sockets still open (issue 15, finding 3)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emostream-sigterm-upgrade-'));
    const port = await freePort();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `server: { port: ${port}, stateFile: ${join(dir, 'cameras.json')}, shutdownTimeoutMs: 10000 }\n` +
        'models: { workers: 1 }\n',
    );
    const { child, exited } = await serveUntilListening(config);
    const sockets: net.Socket[] = [];
    const answers: string[] = [];
    for (const path of ['/./events', '/x/../events', '/x/../signal', '/nowhere']) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.on('data', (d) => answers.push(d.toString('latin1').split('\r\n')[0] ?? ''));
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      sockets.push(socket); // never closed by us
    }
    await waitFor('every upgrade answered', () => answers.length >= 4, 10_000);
    expect(answers.sort()).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'HTTP/1.1 101 Switching Protocols',
      'HTTP/1.1 101 Switching Protocols',
      'HTTP/1.1 404 Not Found',
    ]);
    child.kill('SIGTERM');
    expect(await exited).toBe(0); // 1 when shutdown outlived shutdownTimeoutMs
    for (const socket of sockets) socket.destroy();
  });
});
