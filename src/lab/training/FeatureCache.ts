import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Default cache folder: inside node_modules/.cache, which git and npm already ignore. */
export const DEFAULT_CACHE_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'node_modules',
  '.cache',
  'emostream',
  'features',
);

/**
 * Identifies one image by its bytes, not its path or timestamps: a copied or moved data set (a fresh checkout of
 * the data, another machine) still hits the cache, and an edited image misses it. Training images are small
 * (FER2013 train: 28,709 files, 114 MB on disk, hash in about 2 seconds).
 */
export function imageKey(path: string): string {
  return createHash('sha1').update(readFileSync(path)).digest('hex').slice(0, 20);
}

/**
 * Feature rows on disk, one file per (backbone key, crop/augmentation parameters), each row keyed by its image's
 * key. A changed backbone (its weights hash into the key) or changed crop parameters select another file, so
 * stale features are never read; a changed image has another key and is recomputed.
 */
export class FeatureCache {
  readonly file: string;
  readonly dim: number;
  readonly #rows = new Map<string, Float32Array>();
  #dirty = 0;
  hits = 0;
  misses = 0;

  constructor(dir: string, backboneKey: string, params: Record<string, unknown>, dim: number) {
    const paramHash = createHash('sha1').update(JSON.stringify(params)).digest('hex').slice(0, 12);
    this.file = join(dir, `${backboneKey}-${paramHash}.bin`);
    this.dim = dim;
    this.#load();
  }

  get(key: string): Float32Array | undefined {
    const row = this.#rows.get(key);
    if (row) this.hits++;
    else this.misses++;
    return row;
  }

  set(key: string, row: Float32Array): void {
    if (row.length !== this.dim) throw new RangeError(`feature row has ${row.length} values, expected ${this.dim}`);
    this.#rows.set(key, row);
    this.#dirty++;
  }

  get size(): number {
    return this.#rows.size;
  }

  /** Writes the file when rows were added (atomically: temp file then rename). */
  flush(): void {
    if (this.#dirty === 0) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const keys = [...this.#rows.keys()];
    const header = Buffer.from(JSON.stringify({ dim: this.dim, keys }), 'utf8');
    const body = new Float32Array(keys.length * this.dim);
    keys.forEach((k, i) => {
      body.set(this.#rows.get(k) as Float32Array, i * this.dim);
    });
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([len, header, Buffer.from(body.buffer, body.byteOffset, body.byteLength)]));
    renameSync(tmp, this.file);
    this.#dirty = 0;
  }

  #load(): void {
    if (!existsSync(this.file)) return;
    try {
      const buf = readFileSync(this.file);
      const headerLen = buf.readUInt32LE(0);
      const header = JSON.parse(buf.subarray(4, 4 + headerLen).toString('utf8')) as { dim: number; keys: string[] };
      if (header.dim !== this.dim) return;
      const bodyStart = 4 + headerLen;
      const body = new Float32Array(buf.buffer.slice(buf.byteOffset + bodyStart, buf.byteOffset + buf.byteLength));
      header.keys.forEach((k, i) => {
        this.#rows.set(k, body.subarray(i * this.dim, (i + 1) * this.dim));
      });
    } catch {
      // A truncated or foreign file: start empty, it is rewritten on the next flush.
      this.#rows.clear();
    }
  }
}
