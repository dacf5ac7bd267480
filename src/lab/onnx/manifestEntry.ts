import { isDeepStrictEqual } from 'node:util';
import type { OnnxEntry } from './convertModel.js';

/**
 * The manifest text with its `onnx` entry set, keeping the file's formatting: a manifest written by
 * `JSON.stringify(m, null, 2)` (trained heads) is written the same way; a hand-formatted one (one top-level key per
 * line, as the shipped models' are) gets the entry as one line, replacing an old one or appended last.
 */
export function withOnnxEntry(text: string, entry: OnnxEntry): string {
  const manifest = JSON.parse(text) as Record<string, unknown>;
  const expected = { ...manifest, onnx: entry };
  if (`${JSON.stringify(manifest, null, 2)}\n` === text) return `${JSON.stringify(expected, null, 2)}\n`;
  const fields = Object.entries(entry).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const line = `  "onnx": { ${fields.join(', ')} }`;
  const lines = text.replace(/\n$/, '').split('\n');
  const at = lines.findIndex((l) => l.startsWith('  "onnx":'));
  if (at >= 0) {
    lines[at] = line + (lines[at]?.trimEnd().endsWith(',') ? ',' : '');
  } else {
    const close = lines.length - 1;
    if (lines[close] !== '}') throw new Error('manifest does not end with a closing brace on its own line');
    lines[close - 1] = `${lines[close - 1]},`;
    lines.splice(close, 0, line);
  }
  const out = `${lines.join('\n')}\n`;
  if (!isDeepStrictEqual(JSON.parse(out), expected)) throw new Error('could not place the onnx entry in the manifest');
  return out;
}
