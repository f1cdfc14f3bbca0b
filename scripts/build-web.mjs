// Builds the browser parts into dist/web: the tracker (tracker/kerma.ts → kerma.js, must stay under 3 kB gzipped) and
// the dashboard (web/ → index.html, app.js, app.css). Run by `npm run build`.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist', 'web');
mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, legalComments: 'none', logLevel: 'warning' };
await build({
  ...common,
  entryPoints: [join(root, 'tracker', 'kerma.ts')],
  outfile: join(out, 'kerma.js'),
  format: 'iife',
  target: 'es2019',
});
await build({
  ...common,
  entryPoints: [join(root, 'web', 'main.ts')],
  outfile: join(out, 'app.js'),
  format: 'esm',
  target: 'es2020',
});
await build({ ...common, entryPoints: [join(root, 'web', 'app.css')], outfile: join(out, 'app.css') });
copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));

const tracker = gzipSync(readFileSync(join(out, 'kerma.js')), { level: 9 }).length;
if (tracker > 3072) {
  console.error(`build-web: the tracker is ${tracker} bytes gzipped; it must stay under 3072`);
  process.exit(1);
}
