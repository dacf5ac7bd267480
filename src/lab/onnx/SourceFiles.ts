import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Reads the files a conversion is made from and hashes them, in the order they were read (the provenance). */
export class SourceFiles {
  readonly paths: string[] = [];
  readonly #hash = createHash('sha256');

  read(path: string): Buffer {
    const data = readFileSync(path);
    this.paths.push(path);
    this.#hash.update(data);
    return data;
  }

  json<T>(path: string): T {
    return JSON.parse(this.read(path).toString('utf8')) as T;
  }

  /** SHA-256 (hex) of every file read so far, concatenated in order. */
  sha256(): string {
    return this.#hash.copy().digest('hex');
  }
}
