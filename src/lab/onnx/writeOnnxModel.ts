import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveModel } from '../../inference/modelManifest.js';
import { type Conversion, convertToOnnx } from './convertModel.js';
import { withOnnxEntry } from './manifestEntry.js';

export interface WrittenOnnx extends Conversion {
  name: string;
  /** Where `model.onnx` and the manifest with its `onnx` entry were written. */
  dir: string;
}

/**
 * Converts a model (a name under `models/` or a model folder) and writes `model.onnx` and the manifest with its
 * `onnx` entry beside the manifest, or into `outDir/<name>/` (the manifest copied there) when given.
 */
export function writeOnnxModel(nameOrPath: string, outDir?: string): WrittenOnnx {
  const model = resolveModel(nameOrPath);
  const conversion = convertToOnnx(model);
  const dir = outDir ? join(outDir, model.manifest.name) : model.dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, conversion.entry.file), conversion.bytes);
  const manifest = readFileSync(join(model.dir, 'manifest.json'), 'utf8');
  writeFileSync(join(dir, 'manifest.json'), withOnnxEntry(manifest, conversion.entry));
  return { ...conversion, name: model.manifest.name, dir };
}
