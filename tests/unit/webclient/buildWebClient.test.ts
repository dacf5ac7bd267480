import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const OUT = join(ROOT, 'dist/web-client');

describe('scripts/build-web-client.mjs', () => {
  it('bundles the client into dist/web-client with every file index.html refers to, and no server code', () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-web-client.mjs')], { stdio: 'pipe' });
    const html = readFileSync(join(OUT, 'index.html'), 'utf8');
    const refs = [...html.matchAll(/(?:src|href)="\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.sort()).toEqual(['app.js', 'styles.css']);
    for (const ref of refs) expect(existsSync(join(OUT, ref))).toBe(true);
    // Every id the script looks up exists in the page.
    const bundle = readFileSync(join(OUT, 'app.js'), 'utf8');
    const sources = ['main', 'PublishPanel', 'StreamsPanel', 'WatchPanel', 'EventLogPanel']
      .map((f) => readFileSync(join(ROOT, `web-client/src/${f}.ts`), 'utf8'))
      .join('\n');
    const ids = [...sources.matchAll(/byId\('([\w-]+)'/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(20);
    for (const id of ids) expect(html).toContain(`id="${id}"`);
    for (const role of ['publish', 'subscribe', 'admin']) expect(html).toContain(`id="token-${role}"`);
    // Type-only imports of the protocol: zod (the server's validation) must not be in the bundle.
    expect(bundle).not.toMatch(/ZodError|zod/i);
    expect(bundle.length).toBeLessThan(100_000);
  });
});
