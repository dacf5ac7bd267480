import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/core/errors.js';
import type { ChildExit } from '../../../src/media/ChildProcessHandle.js';
import { type DecodedFrame, FfmpegDecoder } from '../../../src/media/FfmpegDecoder.js';
import { resolveFfmpegPath } from '../../../src/media/ffmpegPath.js';
import { childProcesses } from '../../fixtures/childProcesses.js';

let dir: string;
let ivf: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emostream-dec-'));
  const file = join(dir, 'clip.ivf');
  // 1 s of a 320x240 test pattern at 10 fps, VP8 in IVF: the container the WebRTC path pipes into ffmpeg.
  execFileSync(resolveFfmpegPath(), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=320x240:rate=10',
    '-t',
    '1',
    '-c:v',
    'libvpx',
    '-b:v',
    '500k',
    '-f',
    'ivf',
    '-y',
    file,
  ]);
  ivf = readFileSync(file);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(
  decoder: FfmpegDecoder,
  input?: Buffer,
): Promise<{ frames: DecodedFrame[]; exit: ChildExit; error?: SourceError }> {
  const frames: DecodedFrame[] = [];
  decoder.on('frame', (f) => frames.push(f));
  const done = new Promise<{ frames: DecodedFrame[]; exit: ChildExit; error?: SourceError }>((resolve) =>
    decoder.on('exit', (exit, error) => resolve({ frames, exit, error })),
  );
  return decoder.start().then(() => {
    if (input) {
      decoder.write(input);
      decoder.endInput();
    }
    return done;
  });
}

describe('FfmpegDecoder', () => {
  it('decodes bytes written to stdin into whole RGB frames, learning the height from the aspect', async () => {
    const dec = new FfmpegDecoder({ inputArgs: ['-f', 'ivf', '-i', 'pipe:0'], stdin: true, width: 160 });
    const sizes: string[] = [];
    dec.on('size', (w, h) => sizes.push(`${w}x${h}`));
    const { frames, exit, error } = await run(dec, ivf);
    expect(error).toBeUndefined();
    expect(exit.code).toBe(0);
    expect(sizes).toEqual(['160x120']);
    expect(frames).toHaveLength(10);
    frames.forEach((f, i) => {
      expect(f.seq).toBe(i);
      expect(f.width).toBe(160);
      expect(f.height).toBe(120);
      expect(f.data.byteLength).toBe(160 * 120 * 3);
    });
    // testsrc is colourful: a frame is not flat
    const d = frames[0]?.data ?? new Uint8Array();
    expect(new Set(d.subarray(0, 3000)).size).toBeGreaterThan(10);
    await dec.close();
  });

  it('fits and pads to an explicit size (black bars), with presentation times', async () => {
    const dec = new FfmpegDecoder({
      inputArgs: ['-f', 'ivf', '-i', 'pipe:0'],
      stdin: true,
      width: 160,
      height: 160,
      pts: true,
    });
    const { frames } = await run(dec, ivf);
    expect(frames).toHaveLength(10);
    const f = frames[3] as DecodedFrame;
    expect(f.data.byteLength).toBe(160 * 160 * 3);
    // 320x240 fitted into 160x160 is 160x120 with 20 black rows above and below
    const row = (y: number) => f.data.subarray(y * 160 * 3, (y + 1) * 160 * 3);
    expect(Math.max(...row(5))).toBeLessThan(20);
    expect(Math.max(...row(154))).toBeLessThan(20);
    expect(Math.max(...row(80))).toBeGreaterThan(100);
    expect(frames.map((x) => x.ptsMs)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    await dec.close();
  });

  it('pauses on backpressure without losing frames', async () => {
    const dec = new FfmpegDecoder({ inputArgs: ['-f', 'ivf', '-i', 'pipe:0'], stdin: true, width: 320, height: 240 });
    const frames: DecodedFrame[] = [];
    dec.on('frame', (f) => {
      frames.push(f);
      dec.pause();
      setTimeout(() => dec.resume(), 20);
    });
    const exited = new Promise<void>((resolve) => dec.on('exit', () => resolve()));
    await dec.start();
    dec.write(ivf);
    dec.endInput();
    await exited;
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await dec.close();
  });

  it('reports garbage input as SOURCE_DECODE_FAILED', async () => {
    const dec = new FfmpegDecoder({ inputArgs: ['-f', 'ivf', '-i', 'pipe:0'], stdin: true, width: 160 });
    const garbage = Buffer.alloc(50_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) & 0xff;
    const { frames, error } = await run(dec, garbage);
    expect(frames).toHaveLength(0);
    expect(error).toBeInstanceOf(SourceError);
    expect(error?.code).toBe('SOURCE_DECODE_FAILED');
    await dec.close();
  });

  it('rejects start() with SOURCE_SPAWN_FAILED when the ffmpeg binary does not exist', async () => {
    const dec = new FfmpegDecoder({ inputArgs: ['-i', 'x.mp4'], ffmpegPath: join(dir, 'no-ffmpeg') });
    await expect(dec.start()).rejects.toMatchObject({ code: 'SOURCE_SPAWN_FAILED' });
    await dec.close();
  });

  it('rejects start() for a missing file with SOURCE_NOT_FOUND and leaves no process', async () => {
    const dec = new FfmpegDecoder({ inputArgs: ['-i', join(dir, 'missing.mp4')] });
    const err = await dec.start().catch((e: unknown) => e);
    expect((err as SourceError).code).toBe('SOURCE_NOT_FOUND');
    await dec.close();
    await dec.close();
    expect(childProcesses('ffmpeg')).toEqual([]);
    expect(() => dec.write(Buffer.alloc(1))).toThrow(/closed/);
  });
});
