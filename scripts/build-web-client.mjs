#!/usr/bin/env node
/**
 * Builds the bundled web client: bundles web-client/src/main.ts (and everything it imports; imports of the server's
 * protocol types are type-only, so nothing of the server ends up in the bundle) into one ES module,
 * dist/web-client/app.js, and copies the static files (index.html, styles.css) next to it.
 * Run by `npm run build`; takes well under a second.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'web-client');
const out = join(root, 'dist', 'web-client');
const STATIC_FILES = ['index.html', 'styles.css'];

// esbuild comes with vite (a dependency of vitest); say so clearly when it is missing.
const { build } = await import('esbuild').catch((err) => {
  console.error(`build-web-client: esbuild is not installed (${err.message}); run npm install in the checkout`);
  process.exit(1);
});

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: [join(src, 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

// Guard the layering rule: the bundle may only contain the client's own sources.
const bundled = Object.keys(result.metafile.inputs).filter((file) => !file.startsWith('web-client/'));
if (bundled.length > 0) {
  console.error(`build-web-client: server code was bundled into the client: ${bundled.join(', ')}`);
  process.exit(1);
}

for (const file of STATIC_FILES) copyFileSync(join(src, file), join(out, file));
const bytes =
  result.metafile.outputs[Object.keys(result.metafile.outputs).find((f) => f.endsWith('app.js')) ?? '']?.bytes;
console.error(`build-web-client: dist/web-client (app.js ${bytes ?? '?'} bytes, ${STATIC_FILES.join(', ')})`);
