import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared data set beside the checkout (`../shared/data`); a missing one fails the test that needs it. */
export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data');

export function sharedPath(...parts: string[]): string {
  const path = join(SHARED_DATA, ...parts);
  if (!existsSync(path)) {
    throw new Error(`shared test data missing: ${path} (the tests read ../shared/data beside the checkout)`);
  }
  return path;
}
