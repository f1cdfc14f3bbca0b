import { parentPort, workerData } from 'node:worker_threads';
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
const connection = reader ? openSqliteConnection(reader.file) : null;
// Reads only: a worker never writes to the database it shares with the rescore.
connection?.pragma('query_only = ON');
const readPage = connection && reader ? connection.prepare(reader.query.sql) : null;
port.on('message', (task: RescoreTask) => {
  let reply: RescoreReply;
  try {
    let rows: ContactRow[];
    if ('rows' in task) rows = task.rows;
    else if (readPage && reader) rows = readPage.all(pageParameters(reader.query, task.range)) as ContactRow[];
    else throw new Error('sent a range to read without a page reader');
    reply = { ok: true, page: rescoreContactRows(setup, rows) };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
