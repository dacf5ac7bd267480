import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ModelLoadError } from '../core/errors.js';
import { EMOTION_LABELS, type EmotionLabel, toEmotionLabel } from '../core/labels.js';

const inputSchema = z
  .object({
    size: z.number().int().positive(),
    colour: z.enum(['rgb', 'grey']),
    /** Preprocessing on 0-255 pixel values: `(x - mean[c]) * scale + offset`. */
    scale: z.number().default(1),
    offset: z.number().default(0),
    mean: z.tuple([z.number(), z.number(), z.number()]).optional(),
  })
  .strict();

export const manifestSchema = z
  .object({
    name: z.string().min(1),
    kind: z.enum(['emotion', 'detector', 'head', 'mask']),
    runtime: z.enum(['graph', 'layers', 'faceapi-expression', 'blazeface', 'faceapi-tiny', 'faceapi-ssd', 'head']),
    description: z.string().optional(),
    origin: z.record(z.string(), z.string()),
    /** Model files, relative to `origin.package`'s folder when set, else to the manifest's folder. */
    files: z.array(z.string()).min(1),
    input: inputSchema,
    /** The model's own output order; mapped onto the project's order. */
    labels: z.array(z.string()).optional(),
    outputs: z.enum(['probabilities', 'logits']).optional(),
    crop: z
      .object({ margin: z.number().min(0).max(2) })
      .strict()
      .optional(),
    detector: z
      .object({ minScore: z.number(), iouThreshold: z.number(), maxFaces: z.number().int().positive() })
      .strict()
      .optional(),
    /**
     * The model converted to ONNX for the onnx engine (docs/models.md, "ONNX"): the file, relative to the manifest's
     * folder, and its provenance (the command that made it, a hash of every source file it read).
     */
    onnx: z
      .object({ file: z.string().min(1), convertedBy: z.string().min(1), sourceSha256: z.string().length(64) })
      .strict()
      .optional(),
    /** Free-form, for trained heads: backbones, training data, seed, metrics. */
    training: z.record(z.string(), z.unknown()).optional(),
    backbones: z.array(z.string()).optional(),
  })
  .strict();

export type ModelManifest = z.infer<typeof manifestSchema>;

/** A manifest with its files resolved to absolute paths. */
export interface ResolvedModel {
  manifest: ModelManifest;
  /** Absolute path of the manifest's folder. */
  dir: string;
  files: string[];
  /** Absolute path of the ONNX file, when the model has one. */
  onnxFile?: string;
}

/** The project's `models/` folder (works from `src/` and from `dist/`). */
export const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');

const require = createRequire(import.meta.url);

function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    // Packages whose `exports` map hides package.json: walk up from the main entry.
    try {
      let dir = dirname(require.resolve(name));
      while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
      return dir;
    } catch (cause) {
      throw new ModelLoadError(`model package ${name} is not installed`, { cause, code: 'MODEL_PACKAGE_MISSING' });
    }
  }
}

/**
 * Finds a model by name (a folder under `models/`) or by path (a folder holding `manifest.json`), validates its
 * manifest and resolves its files. Throws `ModelLoadError` with code `MODEL_NOT_FOUND` or `MODEL_MANIFEST_INVALID`.
 */
export function resolveModel(nameOrPath: string): ResolvedModel {
  const looksLikePath = nameOrPath.includes('/') || nameOrPath.startsWith('.') || isAbsolute(nameOrPath);
  const dir = looksLikePath ? resolve(nameOrPath) : join(MODELS_DIR, nameOrPath);
  const manifestPath = join(dir, 'manifest.json');
  if (!/^[\w./-]+$/.test(nameOrPath) || !existsSync(manifestPath)) {
    throw new ModelLoadError(`unknown model "${nameOrPath}" (no ${manifestPath})`, { code: 'MODEL_NOT_FOUND' });
  }
  let manifest: ModelManifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  } catch (cause) {
    throw new ModelLoadError(`invalid model manifest ${manifestPath}: ${(cause as Error).message}`, {
      cause,
      code: 'MODEL_MANIFEST_INVALID',
    });
  }
  const base = manifest.origin.package ? packageDir(manifest.origin.package) : dir;
  const files = manifest.files.map((f) => join(base, f));
  for (const f of files) {
    if (!existsSync(f)) throw new ModelLoadError(`model file missing: ${f}`, { code: 'MODEL_FILE_MISSING' });
  }
  // A missing ONNX file leaves the model to tfjs (the engine report says so), as a model without one.
  const onnx = manifest.onnx ? join(dir, manifest.onnx.file) : undefined;
  return { manifest, dir, files, onnxFile: onnx && existsSync(onnx) ? onnx : undefined };
}

/**
 * For each of the model's outputs, the index in the project's label order; throws when a label is unknown or
 * one of ours is missing, so a wrong manifest cannot silently scramble the scores.
 */
export function labelPermutation(modelLabels: readonly string[]): number[] {
  const mapped = modelLabels.map((l) => toEmotionLabel(l));
  const seen = new Set<EmotionLabel>();
  for (const [i, label] of mapped.entries()) {
    if (!label) throw new ModelLoadError(`unknown emotion label "${modelLabels[i]}" in model manifest`);
    seen.add(label);
  }
  if (seen.size !== EMOTION_LABELS.length) {
    throw new ModelLoadError(`model labels ${modelLabels.join(',')} do not cover the seven emotions`);
  }
  return mapped.map((l) => EMOTION_LABELS.indexOf(l as EmotionLabel));
}

/** What the main thread needs to know of a face model to cut crops for it. */
export interface CropSpec {
  name: string;
  size: number;
  margin: number;
}

export function cropSpec(nameOrPath: string): CropSpec {
  const { manifest } = resolveModel(nameOrPath);
  return { name: nameOrPath, size: manifest.input.size, margin: manifest.crop?.margin ?? 0.25 };
}

/** Reorders each row's columns from the model's label order into the project's (`permutation` from `labelPermutation`). */
export function permuteRows(raw: Float32Array, permutation: readonly number[]): Float32Array {
  const k = permutation.length;
  const out = new Float32Array(raw.length);
  for (let r = 0; r < raw.length / k; r++) {
    for (let c = 0; c < k; c++) out[r * k + (permutation[c] as number)] = raw[r * k + c] as number;
  }
  return out;
}

/** The output column of "mask present" of a mask head; `MODEL_WRONG_KIND` for a model that is not one. */
export function maskColumn(resolved: ResolvedModel): number {
  const { manifest } = resolved;
  const column = (manifest.labels ?? []).indexOf('with_mask');
  if (manifest.kind !== 'mask' || column < 0) {
    throw new ModelLoadError(`model "${manifest.name}" is not a mask head (kind mask, label with_mask)`, {
      code: 'MODEL_WRONG_KIND',
    });
  }
  return column;
}
