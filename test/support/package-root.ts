import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package root, whether a file runs from test/ (vitest) or from dist/test/ (a bench script). */
export function packageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'bin', 'kerma.js'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no bin/kerma.js above ${from}`);
    dir = up;
  }
  return dir;
}
