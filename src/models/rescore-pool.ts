import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../package-root.js';
import type { PageQuery, PageRange } from './page-parameters.js';
import type { ContactRow } from './read-contact-row.js';
import { type RescoredPage, type RescoreSetup, rescoreContactRows } from './rescore-rows.js';

/** Where pages of a rescore are parsed and replayed: worker threads, or the calling thread when `threads` is 0. */
export interface RescorePool {
  readonly threads: number;
  /** True when the workers read and store their pages themselves (`read`), on connections of their own. */
  readonly reads: boolean;
  run(rows: ContactRow[]): Promise<RescoredPage>;
  /** Reads one page on a worker's own connection, replays it and stores its rows there; only when `reads`. */
  read(range: PageRange): Promise<RescoredPage>;
  close(): Promise<void>;
}

/** A SQLite file and the page read each worker runs on a connection of its own to it, where it also stores the rows. */
export interface PageReader {
  file: string;
  query: PageQuery;
}

/** What the workers are given of a `PageReader`: also the lock that lets one of them write at a time. */
export interface WorkerPageReader extends PageReader {
  /** One 32-bit word: 1 while a worker writes. */
  lock: SharedArrayBuffer;
}

/** What a worker is given to start: the rescore, and where to read pages when it reads them itself. */
export interface RescoreWorkerData {
  setup: RescoreSetup;
  reader: WorkerPageReader | null;
}

/** A page for a worker: rows read by the calling thread, or a range it reads itself; or the word to finish. */
export type RescoreTask = { rows: ContactRow[] } | { range: PageRange } | { stop: true };

export type RescoreReply = { ok: true; page: RescoredPage } | { ok: false; message: string };

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
 * Starts `threads` workers that replay the pages sent to them, each page going to the next worker free, so writing
 * on the calling thread overlaps with parsing and replaying on the others. Given a `reader`, the workers also read
 * their pages from the SQLite file on connections of their own and store the rows there, one at a time, so the
 * calling thread only hands out pages and counts. The model travels by structured clone.
 * @example const pool = startRescorePool(setup, 2, reader); const page = await pool.read(range); await pool.close()
 */
export function startRescorePool(setup: RescoreSetup, threads: number, reader: PageReader | null = null): RescorePool {
  const file = threads > 0 ? workerFile() : null;
  if (file === null) {
    return {
      threads: 0,
      reads: false,
      run: async (rows) => rescoreContactRows(setup, rows),
      read: async () => {
        throw new Error('this rescore pool has no worker threads to read pages');
      },
      close: async () => undefined,
    };
  }
  const workerData: RescoreWorkerData = { setup, reader: reader && { ...reader, lock: new SharedArrayBuffer(4) } };
  // Pages not yet handed to a worker: each goes to the first worker that is free, not in turn, as pages differ in
  // work (a page of busy contacts holds many times the events of a quiet one) and a worker handed its turn's page
  // behind a heavy one would leave the other idle.
  const queue: Array<{ task: RescoreTask } & Waiting> = [];
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(file, { workerData });
    const state = { worker, waiting: [] as Waiting[], failure: null as Error | null };
    const fail = (error: Error) => {
      // A worker that failed (say, it could not open the database) answers every later page with the same error.
      state.failure ??= error;
      for (const w of state.waiting.splice(0)) w.reject(state.failure);
      dispatch();
    };
    worker.on('message', (reply: RescoreReply) => {
      const next = state.waiting.shift();
      if (!next) return;
      if (reply.ok) next.resolve(reply.page);
      else next.reject(new Error(`rescore worker failed: ${reply.message}`));
      dispatch();
    });
    // What a worker throws arrives as it was cloned: an error of a class of its own comes without its message.
    worker.on('error', (error: unknown) =>
      fail(error instanceof Error ? error : new Error(`rescore worker failed: ${JSON.stringify(error)}`)),
    );
    worker.on('exit', (code) => fail(new Error(`rescore worker exited (code ${code}) with pages unanswered`)));
    return state;
  });
  function dispatch(): void {
    while (queue.length > 0) {
      const working = workers.filter((w) => !w.failure);
      // With every worker failed, the pages left get the first failure.
      if (working.length === 0) {
        const failure = workers[0]!.failure!;
        for (const q of queue.splice(0)) q.reject(failure);
        return;
      }
      // One page at a time per worker: a second one queued there could wait behind a heavy page while another worker
      // is free.
      const target = working.find((w) => w.waiting.length === 0);
      if (!target) return;
      const { task, resolve, reject } = queue.shift()!;
      target.waiting.push({ resolve, reject });
      target.worker.postMessage(task);
    }
  }
  const send = (task: RescoreTask) =>
    new Promise<RescoredPage>((resolve, reject) => {
      queue.push({ task, resolve, reject });
      dispatch();
    });
  return {
    threads,
    reads: reader !== null,
    run: (rows) => send({ rows }),
    read: (range) => {
      if (reader === null) return Promise.reject(new Error('this rescore pool was started without a page reader'));
      return send({ range });
    },
    async close() {
      // Each worker closes its database connection and ends; one that already ended is not waited for.
      await Promise.all(
        workers.map(async (w) => {
          if (w.failure) return;
          const ended = new Promise((resolve) => w.worker.once('exit', resolve));
          w.worker.postMessage({ stop: true } satisfies RescoreTask);
          await ended;
        }),
      );
    },
  };
}
