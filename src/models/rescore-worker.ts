import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { openSqliteConnection } from '../storage/sqlite/open-sqlite-connection.js';
import { type ContactRow, type PageRange, pageParameters } from './load-contact-histories.js';
import type { RescoreReply, RescoreTask, RescoreWorkerData } from './rescore-pool.js';
import { rescoreContactRows } from './rescore-rows.js';

/**
 * A rescore's worker thread: parses and replays the pages of contacts the rescore sends it, or reads them itself
 * from the SQLite file when sent a range, and answers each, in order, with the rows to store (or the error that
 * stopped it). Wiring only; the work is `rescoreContactRows`.
 */
const { setup, reader } = workerData as RescoreWorkerData;
const port = parentPort!;
const describe = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

/** Reads one page on this worker's own connection to the rescore's database, when it was given one. */
let readRange: ((range: PageRange) => ContactRow[]) | null = null;
let connection: BetterSqlite3.Database | null = null;
// A database that cannot be opened is the answer to every page (thrown here, the error would reach the pool without
// its message); a missing file is such an error, not a new empty database.
let startFailure: string | null = null;
try {
  if (reader) {
    const db = openSqliteConnection(reader.file, { fileMustExist: true });
    connection = db;
    // Reads only: a worker never writes to the database it shares with the rescore.
    db.pragma('query_only = ON');
    const statement = db.prepare(reader.query.sql);
    readRange = (range) => statement.all(pageParameters(reader.query, range)) as ContactRow[];
  }
} catch (error) {
  startFailure = describe(error);
}

function answer(task: Exclude<RescoreTask, { stop: true }>): RescoreReply {
  if (startFailure !== null) return { ok: false, message: startFailure };
  try {
    const rows = 'rows' in task ? task.rows : readRange ? readRange(task.range) : null;
    if (rows === null) throw new Error('sent a range to read without a page reader');
    return { ok: true, page: rescoreContactRows(setup, rows) };
  } catch (error) {
    return { ok: false, message: describe(error) };
  }
}

port.on('message', (task: RescoreTask) => {
  if ('stop' in task) {
    connection?.close();
    port.close();
  } else port.postMessage(answer(task));
});
