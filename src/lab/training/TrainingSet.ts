import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { InputError } from '../../core/errors.js';
import { EMOTION_LABELS, toEmotionLabel } from '../../core/labels.js';

/** One labelled training image. `label` indexes the task's class list. */
export interface LabelledImage {
  path: string;
  label: number;
}

export const MASK_CLASSES = ['without_mask', 'with_mask'] as const;
export const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp']);

function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
}

/** Maps a class folder name to an index of `classes` (emotion spellings via `toEmotionLabel`). */
function classIndex(folder: string, kind: 'emotion' | 'mask'): number {
  if (kind === 'emotion') {
    const label = toEmotionLabel(folder);
    return label ? EMOTION_LABELS.indexOf(label) : -1;
  }
  const f = folder.toLowerCase().replace(/[-\s]/g, '_');
  if (f === 'with_mask' || f === 'mask') return 1;
  if (f === 'without_mask' || f === 'no_mask' || f === 'nomask') return 0;
  return -1;
}

/**
 * Reads a folder-per-class dataset (`DIR/<class>/*.jpg`); folders that name no class are ignored. Sorted, so the
 * order (and so every seeded split) does not depend on the file system.
 */
export function readFolderDataset(dir: string, kind: 'emotion' | 'mask'): LabelledImage[] {
  const root = resolve(dir);
  let folders: string[];
  try {
    folders = readdirSync(root)
      .filter((f) => statSync(join(root, f)).isDirectory())
      .sort();
  } catch (cause) {
    throw new InputError('DATA_UNREADABLE', `cannot read dataset folder ${dir}`, { cause });
  }
  const out: LabelledImage[] = [];
  for (const folder of folders) {
    const label = classIndex(folder, kind);
    if (label < 0) continue;
    for (const path of listImages(join(root, folder))) out.push({ path, label });
  }
  if (out.length === 0) throw new InputError('DATA_EMPTY', `no labelled images under ${dir}`);
  return out;
}

/**
 * Relabels images with FER+ majority votes: `msambare_path` is the image path relative to the CSV's folder.
 * Images whose majority is unknown, NF (not a face) or contempt (not one of our seven) are dropped.
 */
export function applyFerPlusLabels(images: LabelledImage[], csvPath: string): LabelledImage[] {
  let text: string;
  try {
    text = readFileSync(csvPath, 'utf8');
  } catch (cause) {
    throw new InputError('DATA_UNREADABLE', `cannot read FER+ label file ${csvPath}`, { cause });
  }
  const lines = text.split(/\r?\n/).filter(Boolean);
  const header = (lines[0] ?? '').split(',');
  const pathCol = header.indexOf('msambare_path');
  const majorityCol = header.indexOf('ferplus_majority');
  if (pathCol < 0 || majorityCol < 0) {
    throw new InputError('DATA_UNREADABLE', `${csvPath} lacks msambare_path / ferplus_majority columns`);
  }
  const labels = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    labels.set(cells[pathCol] ?? '', cells[majorityCol] ?? '');
  }
  const root = dirname(realpathSync(resolve(csvPath)));
  const out: LabelledImage[] = [];
  for (const img of images) {
    const majority = labels.get(relative(root, realpathSync(img.path)).split('\\').join('/'));
    const label = majority ? toEmotionLabel(majority) : undefined;
    if (label) out.push({ path: img.path, label: EMOTION_LABELS.indexOf(label) });
  }
  if (out.length === 0) throw new InputError('DATA_EMPTY', `no image of the dataset has a FER+ label in ${csvPath}`);
  return out;
}
