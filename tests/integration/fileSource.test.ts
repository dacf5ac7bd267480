import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/types.js';
import { FileSource } from '../../src/media/FileSource.js';
import { resolveFfmpegPath } from '../../src/media/ffmpegPath.js';
import { childProcesses } from '../fixtures/childProcesses.js';

const VIDEO = resolve(__dirname, '../../../shared/data/video/fr_short_hamilton_clip.mp4');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emostream-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mean(data: Uint8Array): number {
  let sum = 0;
  for (const v of data) sum += v;
  return sum / data.length;
}

async function collect(source: FileSource): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const frame of source.frames()) frames.push(frame);
  return frames;
}

describe('FileSource', () => {
  it('reads every frame sampled at 5 fps with consumer pacing, with the right pixels', async () => {
    const source = new FileSource({ path: VIDEO, pace: 'consumer', fps: 5 });
    const states: string[] = [];
    source.on('state', (s, reason) => states.push(`${s}:${reason}`));
    const t0 = Date.now();
    const frames = await collect(source);
    // 10 s of video (9.2 s of frames after a 0.84 s edit-list start) at 5 fps
    expect(frames.length).toBeGreaterThanOrEqual(44);
    expect(frames.length).toBeLessThanOrEqual(51);
    frames.forEach((f, i) => {
      expect(f.seq).toBe(i);
      expect(f.width).toBe(640);
      expect(f.height).toBe(360);
      expect(f.data.byteLength).toBe(640 * 360 * 3);
    });
    // ts = start + presentation time: spaced 200 ms apart, increasing
    for (let i = 1; i < frames.length; i++) {
      expect((frames[i] as Frame).ts - (frames[i - 1] as Frame).ts).toBe(200);
    }
    expect((frames[0] as Frame).ts).toBeGreaterThanOrEqual(t0);
    expect(states.at(-1)).toBe('closed:end of file');
    expect(source.closed).toBe(true);
    expect(source.stats).toEqual({ received: frames.length, dropped: 0 });

    // Same frame (#20, video time 0.8 + 20 * 0.2 = 4.8 s) extracted by a separate ffmpeg command.
    const ref = execFileSync(
      resolveFfmpegPath(),
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        VIDEO,
        '-vf',
        'fps=5',
        '-vsync',
        'passthrough',
        '-frames:v',
        '1',
        '-ss',
        '4.0',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
      { maxBuffer: 10 * 1024 * 1024 },
    );
    // -ss after -i counts output time: output frame at 4.0 s after the 0.8 s start is frame #16
    const ours = frames[16] as Frame;
    expect(ref.length).toBe(640 * 360 * 3);
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff += Math.abs((ref[i] as number) - (ours.data[i] as number));
    expect(diff / ref.length).toBeLessThan(2);
    expect(mean(ours.data)).toBeGreaterThan(20); // not the black intro (mean 16)
    // and the comparison can tell frames apart: a frame 2 s later differs by far more than the bound
    let other = 0;
    const later = frames[26] as Frame;
    for (let i = 0; i < ref.length; i++) other += Math.abs((ref[i] as number) - (later.data[i] as number));
    expect(other / ref.length).toBeGreaterThan(5);
  });

  it('maxFps drops frames inside ffmpeg: a 25 fps clip leaves it at the analysis rate, spaced a period apart', async () => {
    const all = await collect(new FileSource({ path: VIDEO, pace: 'consumer' }));
    const sampled = await collect(new FileSource({ path: VIDEO, pace: 'consumer', maxFps: 5 }));
    expect(all.length).toBeGreaterThan(200); // every decoded frame
    // 5 per second of video, never more (the select filter drops, it never duplicates)
    const seconds = ((all.at(-1) as Frame).ts - (all[0] as Frame).ts) / 1000;
    expect(sampled.length).toBeGreaterThanOrEqual(Math.floor(seconds * 5) - 1);
    expect(sampled.length).toBeLessThanOrEqual(Math.ceil(seconds * 5) + 1);
    const gaps = sampled.slice(1).map((f, i) => f.ts - (sampled[i] as Frame).ts);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(180);
  });

  it('keeps going past the end of the file with loop: true', async () => {
    const source = new FileSource({ path: VIDEO, pace: 'consumer', fps: 10, loop: true, width: 320 });
    let last: Frame | undefined;
    let n = 0;
    for await (const frame of source.frames()) {
      if (last) expect(frame.ts).toBeGreaterThan(last.ts);
      last = frame;
      if (++n >= 140) break; // about 92 frames per pass at 10 fps
    }
    expect(last?.height).toBe(180);
    expect(last?.seq).toBe(139);
    expect(source.closed).toBe(true); // leaving the loop closes the source
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('gives SOURCE_DECODE_FAILED for a truncated copy, without hanging', async () => {
    const bytes = readFileSync(VIDEO);
    const truncated = join(dir, 'truncated.mp4');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.3)));
    const source = new FileSource({ path: truncated, pace: 'consumer' });
    const errors: Error[] = [];
    source.on('error', (e) => errors.push(e));
    const err = await collect(source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('SOURCE_DECODE_FAILED');
    expect((err as SourceError).message).toMatch(/truncated\.mp4/);
    expect(errors).toHaveLength(1);
    expect(source.state).toBe('closed');
  });

  it('gives SOURCE_DECODE_FAILED for a file that is not a video and SOURCE_NOT_FOUND for a missing one', async () => {
    const text = join(dir, 'notes.mp4');
    writeFileSync(text, 'this is not a video\n'.repeat(500));
    const notVideo = new FileSource({ path: text });
    await expect(notVideo.start()).rejects.toMatchObject({ code: 'SOURCE_DECODE_FAILED' });
    const missing = new FileSource({ path: join(dir, 'nope.mp4') });
    await expect(missing.start()).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
    // an image is a file ffmpeg reads, but the audio-only case has no video stream at all
    const audio = join(dir, 'tone.m4a');
    execFileSync(resolveFfmpegPath(), [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=d=1',
      '-y',
      audio,
    ]);
    await expect(new FileSource({ path: audio }).start()).rejects.toMatchObject({ code: 'SOURCE_DECODE_FAILED' });
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('plays in real time into the latest-frame slot; close() twice leaves no ffmpeg process', async () => {
    const source = new FileSource({ path: VIDEO, pace: 'realtime', loop: true });
    const t0 = Date.now();
    await source.start();
    const firstFrameMs = Date.now() - t0;
    expect(childProcesses('ffmpeg')).toHaveLength(1);
    expect(childProcesses('ffmpeg')).toEqual([source.pid]);
    // The clip's video starts 0.84 s after its audio, and -re paces from 0: frames flow at 29.97 fps after that.
    await new Promise((r) => setTimeout(r, 1200));
    const before = source.stats.received;
    await new Promise((r) => setTimeout(r, 1000));
    const frame = source.takeFrame();
    expect(frame?.data.byteLength).toBe(640 * 360 * 3);
    const { received, dropped } = source.stats;
    const perSecond = received - before;
    expect(perSecond).toBeGreaterThanOrEqual(24);
    expect(perSecond).toBeLessThanOrEqual(36);
    expect(dropped).toBe(received - 1); // nobody took frames until now: all but the newest were dropped
    console.log(`FileSource realtime: first frame after ${firstFrameMs} ms, ${perSecond} frames/s`);
    await Promise.all([source.close(), source.close()]);
    await source.close();
    expect(source.closed).toBe(true);
    expect(source.state).toBe('closed');
    expect(() => source.takeFrame()).toThrow(/closed/);
    expect(childProcesses('ffmpeg')).toEqual([]);
  });
});
