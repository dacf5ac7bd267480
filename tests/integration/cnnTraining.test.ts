import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../helpers/sharedData.js';

// The lab's CNN training script (src/lab/cnn/train.py) on Debian's PyTorch: a tiny run end to end, and a run
// interrupted after one epoch and resumed, which must end with the weights of the uninterrupted run.
const SCRIPT = resolve('src/lab/cnn/train.py');
const DATA = sharedPath('fer2013');
const tmp = mkdtempSync(join(tmpdir(), 'emostream-cnn-'));
// --limit decodes only about 280 seeded-random JPEGs (no cache): the runs take seconds, not minutes.
// One torch thread: on two cores that other jobs keep busy, two threads wait for each other (measured 2.3x slower).
const TINY = [
  ...['--data', DATA, '--cache', join(tmp, 'cache'), '--threads', '1'],
  ...['--limit', '256', '--batch-size', '32', '--epochs', '3'],
];

interface Run {
  code: number | null;
  stderr: string;
  seconds: number;
}

function train(out: string, ...extra: string[]): Promise<Run> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/python3', [SCRIPT, '--out', out, ...TINY, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done({ code, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
let uninterrupted: Promise<Run> | undefined;
const runUninterrupted = () => {
  uninterrupted ??= train(join(tmp, 'a'), '--seed', '7');
  return uninterrupted;
};

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('src/lab/cnn/train.py', () => {
  it('trains on a tiny subset end to end in under a minute, and its training loss falls', async () => {
    const run = await runUninterrupted();
    expect(run.code, run.stderr).toBe(0);
    expect(run.seconds).toBeLessThan(60);
    expect(run.stderr).toMatch(/^epoch 3\/3 train loss [\d.]+ acc [\d.]+ \| val loss [\d.]+ acc [\d.]+ \| [\d.]+s$/m);
    const history = json(join(tmp, 'a', 'history.json'));
    expect(history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2, 3]);
    expect(history[2].train_loss).toBeLessThan(history[0].train_loss);
    for (const file of ['last.pt', 'best.pt', 'summary.json']) expect(existsSync(join(tmp, 'a', file))).toBe(true);
    expect(
      readFileSync(join(tmp, 'a', 'training-curve.png'))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  }, 120_000);

  it('resumed after an interruption, ends with the weights of the uninterrupted run (another seed does not)', async () => {
    const a = await runUninterrupted();
    expect(a.code, a.stderr).toBe(0);
    const b = join(tmp, 'b');
    const first = await train(b, '--seed', '7', '--stop-after', '1');
    expect(first.code, first.stderr).toBe(0);
    expect(json(join(b, 'history.json'))).toHaveLength(1);
    expect(existsSync(join(b, 'summary.json'))).toBe(false);
    const second = await train(b, '--resume');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/^epoch 1\//m);
    const other = await train(join(tmp, 'c'), '--seed', '8');
    expect(other.code, other.stderr).toBe(0);

    const weights = (dir: string) => json(join(tmp, dir, 'summary.json')).last_weights_sha256 as string;
    expect(weights('a')).toMatch(/^[0-9a-f]{64}$/);
    expect(weights('b')).toBe(weights('a'));
    expect(weights('c')).not.toBe(weights('a'));
    // Same losses and accuracies epoch by epoch (the timings differ).
    const curve = (dir: string) =>
      json(join(dir, 'history.json')).map(({ seconds, ...rest }: { seconds: number }) => rest);
    expect(curve(b)).toEqual(curve(join(tmp, 'a')));
  }, 240_000);
});
