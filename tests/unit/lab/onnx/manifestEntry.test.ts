import { describe, expect, it } from 'vitest';
import { withOnnxEntry } from '../../../../src/lab/onnx/manifestEntry.js';

const entry = { file: 'model.onnx', convertedBy: 'emostream convert-onnx m', sourceSha256: 'a'.repeat(64) };
const compact = [
  '{',
  '  "name": "m",',
  '  "input": { "size": 64, "colour": "grey" },',
  '  "crop": { "margin": 0.25 }',
  '}',
  '',
].join('\n');

describe('withOnnxEntry', () => {
  it('adds the entry to a hand-formatted manifest as one line, leaving the other lines alone', () => {
    const out = withOnnxEntry(compact, entry);
    expect(out.split('\n').slice(0, 3)).toEqual(compact.split('\n').slice(0, 3));
    expect(out).toContain(
      `  "crop": { "margin": 0.25 },\n  "onnx": { "file": "model.onnx", "convertedBy": "emostream convert-onnx m", "sourceSha256": "${'a'.repeat(64)}" }\n}\n`,
    );
    expect(JSON.parse(out).onnx).toEqual(entry);
  });

  it('replaces an existing entry, so converting twice changes nothing', () => {
    const once = withOnnxEntry(compact, entry);
    expect(withOnnxEntry(once, entry)).toBe(once);
    const other = withOnnxEntry(once, { ...entry, sourceSha256: 'b'.repeat(64) });
    expect(JSON.parse(other).onnx.sourceSha256).toBe('b'.repeat(64));
    expect(other.split('\n')).toHaveLength(once.split('\n').length);
  });

  it('keeps a JSON.stringify-formatted manifest (a trained head) in that format', () => {
    const pretty = `${JSON.stringify({ name: 'h', labels: ['a', 'b'] }, null, 2)}\n`;
    expect(withOnnxEntry(pretty, entry)).toBe(
      `${JSON.stringify({ name: 'h', labels: ['a', 'b'], onnx: entry }, null, 2)}\n`,
    );
  });
});
