import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../../core/errors.js';
import { type EmotionLabel, toEmotionLabel } from '../../core/labels.js';

/** A label row of the confusion matrix: one of the seven, or FER+'s `contempt` (always wrong for a 7-class model). */
export type TruthLabel = EmotionLabel | 'contempt';

export interface LabelledImage {
  path: string;
  truth: TruthLabel;
}

export interface LabelledSet {
  images: LabelledImage[];
  /** Class folders that are not one of the seven (reported, not used). */
  ignoredFolders: string[];
  /** FER+ mode: images whose FER+ label is unknown / not a face, or that the CSV does not list. */
  skipped: number;
}

const IMAGE = /\.(jpe?g|png|webp)$/i;

function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => IMAGE.test(f) && statSync(join(dir, f)).isFile())
    .sort();
}

/**
 * A folder per class (`DIR/<label>/*`, FER2013's Kaggle layout), folder names mapped case-insensitively
 * (angry/anger, fear/fearful, happy/happiness, ...). With `ferplusCsv`, labels come from the FER+ vote file instead:
 * its `msambare_path` is the image path relative to the data root (DIR's parent), `ferplus_majority` the label.
 * Sorted by path, so runs are deterministic.
 */
export function readLabelledImages(dataDir: string, ferplusCsv?: string): LabelledSet {
  const root = resolve(dataDir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new InputError('INPUT_NOT_FOUND', `${dataDir}: no such folder`);
  }
  const ignoredFolders: string[] = [];
  const images: LabelledImage[] = [];
  for (const folder of readdirSync(root).sort()) {
    const dir = join(root, folder);
    if (!statSync(dir).isDirectory()) continue;
    const label = toEmotionLabel(folder);
    if (!label) {
      ignoredFolders.push(folder);
      continue;
    }
    for (const file of listImages(dir)) images.push({ path: join(dir, file), truth: label });
  }
  if (images.length === 0) throw new InputError('INPUT_EMPTY', `${dataDir}: no images in class folders`);
  if (!ferplusCsv) return { images, ignoredFolders, skipped: 0 };

  const ferplus = readFerPlus(ferplusCsv);
  const relabelled: LabelledImage[] = [];
  let skipped = 0;
  for (const image of images) {
    const keys = [
      relative(dirname(root), image.path),
      relative(root, image.path),
      join(basename(root), relative(root, image.path)),
    ];
    const majority = keys.map((k) => ferplus.get(k)).find((v) => v !== undefined);
    const truth = majority === 'contempt' ? 'contempt' : majority ? toEmotionLabel(majority) : undefined;
    if (!truth) skipped++;
    else relabelled.push({ path: image.path, truth });
  }
  return { images: relabelled, ignoredFolders, skipped };
}

/** `msambare_path` → `ferplus_majority` from the FER+ CSV. */
function readFerPlus(csv: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(csv, 'utf8');
  } catch (cause) {
    throw new InputError('INPUT_NOT_FOUND', `${csv}: cannot read the FER+ label file`, { cause });
  }
  const [header, ...rows] = text.split(/\r?\n/);
  const columns = (header ?? '').split(',');
  const pathCol = columns.indexOf('msambare_path');
  const labelCol = columns.indexOf('ferplus_majority');
  if (pathCol < 0 || labelCol < 0) {
    throw new InputError('BAD_ARGUMENT', `${csv}: needs columns msambare_path and ferplus_majority`);
  }
  const out = new Map<string, string>();
  for (const row of rows) {
    if (!row) continue;
    const cells = row.split(',');
    const path = cells[pathCol];
    const label = cells[labelCol];
    if (path && label) out.set(path, label.trim().toLowerCase());
  }
  return out;
}
