import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The package root (where bin/kerma.js is), whether a file runs from its source (vitest) or built, from dist/. */
export function packageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'bin', 'kerma.js'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no bin/kerma.js above ${from}`);
    dir = up;
  }
  return dir;
}
