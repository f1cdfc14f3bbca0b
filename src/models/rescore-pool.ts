import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../package-root.js';
import type { ContactRow } from './load-contact-histories.js';
import { type RescoredPage, type RescoreSetup, rescoreContactRows } from './rescore-rows.js';

/** Where pages of a rescore are parsed and replayed: worker threads, or the calling thread when `threads` is 0. */
export interface RescorePool {
  readonly threads: number;
  run(rows: ContactRow[]): Promise<RescoredPage>;
  close(): Promise<void>;
}

type Reply = { ok: true; page: RescoredPage } | { ok: false; message: string };

interface Waiting {
  resolve(page: RescoredPage): void;
  reject(error: Error): void;
}

/**
 * The worker's built file. From the build it sits beside this one; when this module runs from its TypeScript source
 * (the test runner), the build of the same source is used, and without a build the rescore runs in-process.
 */
function workerFile(): string | null {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'rescore-worker.js');
  const built = join(packageRoot(dirname(here)), 'dist', 'src', 'models', 'rescore-worker.js');
  return existsSync(built) ? built : null;
}

/**
 * Starts `threads` workers that each replay the pages sent to them in order (round robin), so reading and writing
 * on the calling thread overlap with parsing and replaying on the others. The model travels by structured clone.
 * @example const pool = startRescorePool(setup, 2); const page = await pool.run(rows); await pool.close()
 */
export function startRescorePool(setup: RescoreSetup, threads: number): RescorePool {
  const file = threads > 0 ? workerFile() : null;
  if (file === null) {
    return {
      threads: 0,
      run: async (rows) => rescoreContactRows(setup, rows),
      close: async () => undefined,
    };
  }
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(file, { workerData: setup });
    const waiting: Waiting[] = [];
    const failAll = (error: Error) => {
      for (const w of waiting.splice(0)) w.reject(error);
    };
    worker.on('message', (reply: Reply) => {
      const next = waiting.shift();
      if (!next) return;
      if (reply.ok) next.resolve(reply.page);
      else next.reject(new Error(`rescore worker failed: ${reply.message}`));
    });
    worker.on('error', (error) => failAll(error));
    worker.on('exit', (code) => failAll(new Error(`rescore worker exited (code ${code}) with pages unanswered`)));
    return { worker, waiting };
  });
  let turn = 0;
  return {
    threads,
    run(rows) {
      const target = workers[turn++ % workers.length]!;
      return new Promise<RescoredPage>((resolve, reject) => {
        target.waiting.push({ resolve, reject });
        target.worker.postMessage(rows);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}
