/**
 * Issue 15, supervision: the inference pool replaces a worker that dies mid-inference after a backoff, stops after
 * its restart budget, and then fails queued and new jobs with a typed error instead of leaving them pending forever;
 * a health question never hangs on a dead worker. Real worker threads with the real BlazeFace model.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/types.js';
import { InferencePool } from '../../src/inference/InferencePool.js';
import type { RestartPolicy } from '../../src/inference/RestartBudget.js';
import { decodeImage } from '../../src/media/imageFile.js';
import { sharedPath } from '../helpers/sharedData.js';

const pools: InferencePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function photo(): Promise<RgbImage> {
  return decodeImage(readFileSync(sharedPath('photos', 'single_face_emotion_labeled', 'happy__faceapijs_happy.jpg')));
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function pool(workers: number, restart: RestartPolicy = {}) {
  const p = await InferencePool.create({
    workers,
    preload: { detectors: ['blazeface'], classifiers: [], masks: [] },
    restart: { initialMs: 50, maxMs: 200, ...restart },
    askTimeoutMs: 1000,
  });
  pools.push(p);
  return p;
}

describe('InferencePool supervision', () => {
  it('a worker that dies mid-inference fails its job with WORKER_CRASHED and is replaced; work goes on', async () => {
    const p = await pool(2);
    const image = await photo();
    const jobs = Array.from({ length: 6 }, () => p.detect('blazeface', image).then(() => 'ok', errorCode));
    expect(p.crashWorker()).toBe(true); // a busy one
    const outcomes = await Promise.all(jobs);
    expect(outcomes).toContain('WORKER_CRASHED');
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'WORKER_CRASHED')).toEqual([]);
    await until('the replacement', () => p.health.workers === 2);
    expect(p.health).toMatchObject({ workers: 2, wanted: 2, restarts: 1, crashedJobs: 1, exhausted: false });
    expect(p.health.busy).toBe(0);
    expect(await p.detect('blazeface', image)).toHaveLength(1);
  });

  it('after its restart budget the pool stops restarting and fails queued and new jobs with WORKERS_EXHAUSTED', async () => {
    const p = await pool(1, { budget: 2, windowMs: 60_000 });
    const image = await photo();
    for (let restart = 1; restart <= 2; restart++) {
      p.crashWorker(); // it dies with its next job
      await expect(p.detect('blazeface', image)).rejects.toMatchObject({ code: 'WORKER_CRASHED' });
      await until(`restart ${restart}`, () => p.health.restarts === restart && p.health.workers === 1);
    }
    p.crashWorker(); // the third crash in the window: over budget
    const running = p.detect('blazeface', image).then(() => 'ok', errorCode);
    const queued = p.detect('blazeface', image).then(() => 'ok', errorCode);
    expect(await running).toBe('WORKER_CRASHED');
    expect(await queued).toBe('WORKERS_EXHAUSTED');
    await until('exhausted', () => p.health.exhausted && p.health.workers === 0);
    expect(p.health).toMatchObject({ workers: 0, restarting: 0, restarts: 2, exhausted: true });
    await expect(p.detect('blazeface', image)).rejects.toMatchObject({ code: 'WORKERS_EXHAUSTED' });
  });

  it('numTensors answers even when a worker dies while asked (null for it), instead of hanging', async () => {
    const p = await pool(2, { initialMs: 5000, maxMs: 5000 });
    const image = await photo();
    p.crashWorker();
    const job = p.detect('blazeface', image).catch(errorCode);
    const asked = p.numTensors();
    expect(await job).toBe('WORKER_CRASHED');
    const answers = await asked;
    expect(answers).toHaveLength(2);
    for (const a of answers) expect(a === null || typeof a === 'number').toBe(true);
  });

  it('close() while jobs run rejects them all with POOL_CLOSED and ends its threads without aborting the process', async () => {
    const p = await pool(2);
    const image = await photo();
    for (let round = 0; round < 3; round++) await p.detect('blazeface', image); // warm
    const jobs = Array.from({ length: 20 }, () => p.detect('blazeface', image).then(() => 'ok', errorCode));
    await new Promise((r) => setTimeout(r, 5)); // both workers inside ONNX Runtime now
    await p.close();
    const outcomes = await Promise.all(jobs);
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'POOL_CLOSED')).toEqual([]);
    expect(outcomes).toContain('POOL_CLOSED');
  });
});
