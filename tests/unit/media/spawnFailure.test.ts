/**
 * Issue 15, finding 1: a spawn that fails synchronously (E2BIG for an argument list over the kernel's limit, a NUL
 * byte in an argument) must become a rejected start and a source state, never an exception thrown out of a timer.
 */
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/core/errors.js';
import type { SourceState } from '../../../src/core/source.js';
import { ChildProcessHandle } from '../../../src/media/ChildProcessHandle.js';
import { FfmpegDecoder } from '../../../src/media/FfmpegDecoder.js';
import { RtspSource } from '../../../src/media/RtspSource.js';

/** Longer than Linux's MAX_ARG_STRLEN (128 KiB): execve fails with E2BIG, which Node throws from spawn(). */
const HUGE = 'a'.repeat(200_000);

describe('a process that cannot be spawned', () => {
  it('ChildProcessHandle.start rejects with SOURCE_SPAWN_FAILED when spawn throws E2BIG', async () => {
    const proc = new ChildProcessHandle({ command: '/bin/true', args: [HUGE] });
    const started = proc.start({ timeoutMs: 5000, readyOn: 'spawn' });
    const err = await started.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('SOURCE_SPAWN_FAILED');
    expect((err as SourceError).message).toMatch(/E2BIG/);
    expect(proc.exitInfo).toMatchObject({ code: null, expected: false });
    expect(await proc.waitExit()).toBeDefined();
    await proc.close();
  });

  it('ChildProcessHandle.start rejects (does not throw) for a NUL byte in an argument', async () => {
    const proc = new ChildProcessHandle({ command: '/bin/true', args: ['a\0b'] });
    const err = await proc.start({ timeoutMs: 5000, readyOn: 'spawn' }).catch((e: unknown) => e);
    expect((err as SourceError).code).toBe('SOURCE_SPAWN_FAILED');
    await proc.close();
  });

  it('FfmpegDecoder.start rejects with SOURCE_SPAWN_FAILED and close() still works', async () => {
    const decoder = new FfmpegDecoder({ inputArgs: ['-i', HUGE], readyOn: 'spawn' });
    const err = await decoder.start().catch((e: unknown) => e);
    expect((err as SourceError).code).toBe('SOURCE_SPAWN_FAILED');
    await decoder.close();
  });

  it('an RtspSource whose ffmpeg cannot be spawned reports stalled and reconnecting, and keeps trying', async () => {
    const source = new RtspSource({
      url: `rtsp://127.0.0.1:9/${HUGE}`,
      backoff: { initialMs: 20, maxMs: 40 },
      stallTimeoutMs: 60_000,
    });
    const states: { state: SourceState; reason: string }[] = [];
    source.on('state', (state, reason) => states.push({ state, reason }));
    const retried = new Promise<void>((resolve) =>
      source.on('state', () => states.filter((s) => s.state === 'reconnecting').length >= 3 && resolve()),
    );
    source.start();
    await retried;
    await source.close();
    const stalled = states.filter((s) => s.state === 'stalled');
    expect(stalled.length).toBeGreaterThanOrEqual(3);
    expect(stalled[0]?.reason).toMatch(/SOURCE_SPAWN_FAILED|cannot start ffmpeg|E2BIG/);
    // The reason stays short: it never repeats the huge argument.
    for (const s of states) expect(s.reason.length).toBeLessThan(500);
    expect(states.at(-1)?.state).toBe('closed');
  });
});
