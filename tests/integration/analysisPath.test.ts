/**
 * One analysis path: the same frames give the same face records through `analyze` (the built CLI), `/api/analyze`
 * (a real server) and a live stream (the per-stream scheduler), with the default models (emotion-cnn and the mask head).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, DEFAULT_MODELS } from '../../src/core/config.js';
import { EventBus } from '../../src/core/EventBus.js';
import { createLogger } from '../../src/core/logger.js';
import type { Frame } from '../../src/core/types.js';
import { InferencePool } from '../../src/inference/InferencePool.js';
import { FileSource } from '../../src/media/FileSource.js';
import { createAnalysisEngine, type TrackedFaceRecord } from '../../src/pipeline/FrameAnalyzer.js';
import { LiveStream } from '../../src/pipeline/LiveStream.js';
import { startServer } from '../helpers/serverHarness.js';
import { sharedPath } from '../helpers/sharedData.js';

const CLI = resolve('dist/cli/main.js');
const VIDEO = sharedPath('video', 'fr_short_hamilton_clip.mp4');
const FPS = 5;
const FRAMES = 30;
const tmp = mkdtempSync(join(tmpdir(), 'emostream-path-'));

function cli(args: string[]): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [CLI, 'analyze', ...args], { encoding: 'utf8', timeout: 300_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l));
}

/** The first frames of the video as the sources decode them (640 wide, FPS per second of video). */
async function decodeFrames(count: number): Promise<Frame[]> {
  const source = new FileSource({ path: VIDEO, pace: 'consumer', fps: FPS, width: 640 });
  const frames: Frame[] = [];
  for await (const frame of source.frames()) {
    frames.push(frame);
    if (frames.length === count) break;
  }
  return frames;
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('one analysis path', () => {
  let pngs: string[] = [];

  beforeAll(async () => {
    const frames = await decodeFrames(FRAMES);
    pngs = await Promise.all(
      [0, 16, 27].map(async (k) => {
        const f = frames[k] as Frame;
        const path = join(tmp, `frame-${k}.png`);
        writeFileSync(
          path,
          await sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } })
            .png()
            .toBuffer(),
        );
        return path;
      }),
    );
  });

  it('a still image gives the same faces through analyze and /api/analyze', async () => {
    const fromCli = cli(pngs);
    const { server, url } = await startServer({ models: { workers: 2 } });
    try {
      for (const [i, path] of pngs.entries()) {
        const body = await sharp(path).png().toBuffer();
        const res = await fetch(`${url}/api/analyze`, {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body,
        });
        expect(res.status).toBe(200);
        const fromApi = (await res.json()) as { faces: unknown[] };
        const record = fromCli[i] as { file: string; faces: unknown[] };
        expect(record.file).toBe(path);
        expect(record.faces.length).toBeGreaterThan(0);
        expect(fromApi.faces).toEqual(record.faces);
      }
    } finally {
      await server.close();
    }
  });

  it('a video gives the same tracked faces, frame by frame, through analyze and a live stream', async () => {
    const detectEvery = 3;
    const lines = cli([VIDEO, '--fps', String(FPS), '--detect-every', String(detectEvery)]);
    const fromCli = lines.filter((l) => l.frame !== undefined).slice(0, FRAMES) as { faces: TrackedFaceRecord[] }[];

    const config = configSchema.parse({ analysis: { fps: 50, detectEvery } });
    const pool = await InferencePool.create({ workers: 2 });
    const engine = createAnalysisEngine(pool, DEFAULT_MODELS);
    const bus = new EventBus();
    const source = new FileSource({ path: VIDEO, pace: 'consumer', fps: FPS, width: 640 });
    await source.start();
    // 'video' is the stream id analyze gives a video (track ids carry it)
    const stream = new LiveStream('video', 'video', source, {
      engine,
      analysis: config.analysis,
      bus,
      logger: createLogger({ level: 'silent' }),
    });
    const live: TrackedFaceRecord[][] = [];
    const done = new Promise<void>((resolve) => {
      stream.on('analyzed', (result) => {
        live[result.frame.seq] = result.faces;
        if (live.filter(Boolean).length === FRAMES) resolve();
      });
    });
    try {
      await done;
    } finally {
      await stream.close();
      await engine.batcher.close();
      await pool.close();
      await bus.close();
    }
    expect(live.slice(0, FRAMES).filter((faces) => faces.length > 0).length).toBeGreaterThan(FRAMES / 2);
    expect(live.slice(0, FRAMES).some((faces) => faces.some((f) => f.trackId !== null))).toBe(true);
    for (let k = 0; k < FRAMES; k++) expect(live[k], `frame ${k}`).toEqual(fromCli[k]?.faces);
  });
});
