import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { openSqliteConnection } from '../storage/sqlite/open-sqlite-connection.js';
import { type ContactRow, pageParameters } from './load-contact-histories.js';
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
// The rescore's own database: a missing file is an error here, not a new empty database. One that cannot be opened
// is the answer to every page (an error thrown here would reach the pool without its message).
let connection: BetterSqlite3.Database | null = null;
let readPage: BetterSqlite3.Statement | null = null;
let startFailure: string | null = null;
try {
  if (reader) {
    connection = openSqliteConnection(reader.file, { fileMustExist: true });
    // Reads only: a worker never writes to the database it shares with the rescore.
    connection.pragma('query_only = ON');
    readPage = connection.prepare(reader.query.sql);
  }
} catch (error) {
  startFailure = describe(error);
}
port.on('message', (task: RescoreTask) => {
  if ('stop' in task) {
    connection?.close();
    port.close();
    return;
  }
  let reply: RescoreReply;
  try {
    if (startFailure !== null) throw new Error(startFailure);
    let rows: ContactRow[];
    if ('rows' in task) rows = task.rows;
    else if (readPage && reader) rows = readPage.all(pageParameters(reader.query, task.range)) as ContactRow[];
    else throw new Error('sent a range to read without a page reader');
    reply = { ok: true, page: rescoreContactRows(setup, rows) };
  } catch (error) {
    reply = { ok: false, message: startFailure ?? describe(error) };
  }
  port.postMessage(reply);
});
