import { describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/core/errors.js';
import { scrubSecrets, urlSecrets } from '../../../src/core/secrets.js';
import { ChildProcessHandle } from '../../../src/media/ChildProcessHandle.js';
import { resolveFfmpegPath } from '../../../src/media/ffmpegPath.js';
import { freePort } from '../../fixtures/rtspServer.js';

describe('scrubSecrets', () => {
  it('removes URL credentials anywhere in a line and every listed secret', () => {
    const line = '[tcp] rtsp://bob:hunter%402@10.0.0.1:554/s: Connection refused (user bob, pass hunter@2)';
    const secrets = urlSecrets('rtsp://bob:hunter%402@10.0.0.1:554/s');
    expect(secrets).toEqual(['hunter%402', 'hunter@2']);
    const out = scrubSecrets(line, secrets);
    expect(out).toBe('[tcp] rtsp://***@10.0.0.1:554/s: Connection refused (user bob, pass ***)');
    expect(scrubSecrets("Input #0, rtsp, from 'rtsp://a:b@h/x':", [])).toBe("Input #0, rtsp, from 'rtsp://***@h/x':");
  });

  it('finds no secret in a URL without a password', () => {
    expect(urlSecrets('rtsp://10.0.0.1/s')).toEqual([]);
    expect(urlSecrets('rtsp://user@10.0.0.1/s')).toEqual([]);
  });
});

describe('ChildProcessHandle', () => {
  it('keeps a scrubbed stderr tail when real ffmpeg prints a URL with a password', async () => {
    const port = await freePort(); // nothing listens: ffmpeg prints the URL and "Connection refused"
    const url = `rtsp://cam:topsecret99@127.0.0.1:${port}/live`;
    const lines: string[] = [];
    const proc = new ChildProcessHandle({
      command: resolveFfmpegPath(),
      args: ['-hide_banner', '-nostdin', '-rtsp_transport', 'tcp', '-i', url, '-f', 'null', '-'],
      name: 'ffmpeg',
      secrets: urlSecrets(url),
    });
    proc.on('stderrLine', (l) => lines.push(l));
    const err = await proc.start({ timeoutMs: 10_000, readyOn: 'markReady' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('SOURCE_PROCESS_EXITED');
    expect((err as SourceError).message).toMatch(/Connection refused/);
    const tail = proc.stderrTail.join('\n');
    expect(tail).toMatch(/rtsp:\/\/\*\*\*@127\.0\.0\.1/);
    for (const text of [tail, lines.join('\n'), (err as Error).message]) expect(text).not.toContain('topsecret99');
    expect(proc.exitInfo).toMatchObject({ code: 1, expected: false });
    await proc.close();
  });

  it('resolves at spawn, stops with SIGTERM and reports an expected exit', async () => {
    const proc = new ChildProcessHandle({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] });
    await proc.start({ timeoutMs: 5000, readyOn: 'spawn' });
    expect(proc.pid).toBeGreaterThan(0);
    const exits: unknown[] = [];
    proc.on('exit', (info) => exits.push(info));
    await Promise.all([proc.close(), proc.close()]);
    expect(proc.closed).toBe(true);
    expect(exits).toEqual([expect.objectContaining({ signal: 'SIGTERM', expected: true })]);
    expect(() => proc.start({ timeoutMs: 1, readyOn: 'spawn' })).toThrow(/closed/);
  });

  it('kills with SIGKILL a child that ignores SIGTERM', async () => {
    const proc = new ChildProcessHandle({
      command: process.execPath,
      args: ['-e', "process.on('SIGTERM', () => {}); console.error('armed'); setInterval(() => {}, 1000)"],
      stopTimeoutMs: 300,
    });
    const armed = new Promise<void>((resolve) => proc.on('stderrLine', (l) => l === 'armed' && resolve()));
    await proc.start({ timeoutMs: 5000, readyOn: 'spawn' });
    await armed;
    const t0 = Date.now();
    await proc.close();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(proc.exitInfo).toMatchObject({ signal: 'SIGKILL', expected: true });
  });

  it('times out a child that never becomes ready, and stops it', async () => {
    const proc = new ChildProcessHandle({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] });
    const err = await proc.start({ timeoutMs: 300, readyOn: 'markReady' }).catch((e: unknown) => e);
    expect((err as SourceError).code).toBe('SOURCE_START_TIMEOUT');
    await proc.waitExit();
    expect(proc.exitInfo?.expected).toBe(true);
  });

  it('reports a binary that does not exist as SOURCE_SPAWN_FAILED', async () => {
    const proc = new ChildProcessHandle({ command: '/nonexistent/ffmpeg', args: [] });
    const err = await proc.start({ timeoutMs: 5000, readyOn: 'spawn' }).catch((e: unknown) => e);
    expect((err as SourceError).code).toBe('SOURCE_SPAWN_FAILED');
    await proc.close();
  });

  it('reports an unexpected death with its code and the stderr tail (last 20 lines)', async () => {
    const script = "for (let i = 0; i < 30; i++) console.error('line ' + i); process.exit(3)";
    const proc = new ChildProcessHandle({ command: process.execPath, args: ['-e', script] });
    const exit = new Promise((resolve) => proc.on('exit', resolve));
    await proc.start({ timeoutMs: 5000, readyOn: 'spawn' });
    const info = (await exit) as { code: number; expected: boolean; stderrTail: string[] };
    expect(info.code).toBe(3);
    expect(info.expected).toBe(false);
    expect(info.stderrTail).toHaveLength(20);
    expect(info.stderrTail.at(-1)).toBe('line 29');
    await proc.close();
  });
});
