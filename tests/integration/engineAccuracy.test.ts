/**
 * Accuracy does not depend on the engine: `evaluate` (fer-head, FER+ labels, the whole PublicTest split) and
 * `bench-detect` (blazeface on the dlib PASCAL faces) print the same figures to 3 decimals on onnx and on tfjs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../helpers/sharedData.js';

const CLI = resolve('dist/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'emostream-engines-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function lastLine(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 600_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').at(-1) as string;
}

/** The figures of a summary line, rounded to 3 decimals (ms per image left out: it is a speed, not a figure). */
function figures(line: string): Record<string, string> {
  return Object.fromEntries(
    [...line.matchAll(/(\w+)=([\d.]+)/g)].filter((m) => m[1] !== 'ms').map((m) => [m[1], Number(m[2]).toFixed(3)]),
  );
}

describe('the same accuracy on both engines', () => {
  it('evaluate: fer-head on FER+ PublicTest', () => {
    const common = ['evaluate', '--data', sharedPath('fer2013', 'test'), '--labels', 'ferplus'];
    const csv = ['--ferplus-csv', sharedPath('fer2013', 'ferplus.csv'), '--emotion-model', 'fer-head'];
    const onnx = lastLine([...common, ...csv, '--engine', 'onnx', '--out', join(tmp, 'onnx')]);
    const tfjs = lastLine([...common, ...csv, '--engine', 'tfjs', '--out', join(tmp, 'tfjs')]);
    expect(figures(onnx)).toEqual(figures(tfjs));
    // the documented figure (docs/accuracy.md)
    expect(figures(onnx)).toEqual({ accuracy: '0.805', macro_f1: '0.722', n: '3165.000' });
  }, 600_000);

  it('bench-detect: blazeface on the dlib PASCAL faces', () => {
    const args = ['bench-detect', '--data', sharedPath('facedet', 'dlib_pascal_faces'), '--detector', 'blazeface'];
    const onnx = lastLine([...args, '--engine', 'onnx', '--out', join(tmp, 'd-onnx')]);
    const tfjs = lastLine([...args, '--engine', 'tfjs', '--out', join(tmp, 'd-tfjs')]);
    expect(figures(onnx)).toEqual(figures(tfjs));
    expect(onnx).toMatch(/^detector=blazeface ap50=0\.9767 recall=0\.9767 ms=\d+$/);
  }, 300_000);
});
