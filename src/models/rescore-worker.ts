import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { ContactScoresTable, EventDigestsTable } from '../storage/database-schema.js';
import { cacheStatements } from '../storage/sqlite/cache-statements.js';
import { openSqliteConnection } from '../storage/sqlite/open-sqlite-connection.js';
import { digestInserts } from './insert-digest-rows.js';
import { scoreInserts } from './insert-score-rows.js';
import { type PageRange, pageParameters } from './page-parameters.js';
import type { ContactRow } from './read-contact-row.js';
import type { RescoreReply, RescoreTask, RescoreWorkerData } from './rescore-pool.js';
import { rescoreContactRows } from './rescore-rows.js';

/**
 * A rescore's worker thread: parses and replays the pages of contacts the rescore sends it and answers each, in order,
 * with the rows to store (or the error that stopped it). Sent a range instead, it reads the page from the SQLite
 * file on a connection of its own and stores the rows there itself, one worker at a time (`lock`), answering with
 * the counts only. Wiring only; the work is `rescoreContactRows`.
 */
const { setup, reader } = workerData as RescoreWorkerData;
const port = parentPort!;
const describe = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error));

/**
 * Reads one page on this worker's own connection to the rescore's database, when it was given one, row by row as it
 * is replayed: a row's JSON text is garbage once its contact is parsed, not kept until the page is done.
 */
let readRange: ((range: PageRange) => Iterable<ContactRow>) | null = null;
/** Stores a page's rows and event digests on that connection. */
let store: ((rows: ContactScoresTable[], digests: EventDigestsTable[]) => void) | null = null;
let connection: BetterSqlite3.Database | null = null;
// A database that cannot be opened is the answer to every page (thrown here, the error would reach the pool without
// its message); a missing file is such an error, not a new empty database.
let startFailure: string | null = null;
try {
  if (reader) {
    const db = openSqliteConnection(reader.file, { fileMustExist: true });
    connection = db;
    // Pages are read into the connection's own cache, not through the memory map the storage's connection uses. An
    // index that grew by ingest (events of every contact arriving mixed) lies scattered in the file, so the map
    // takes a page fault per page, and the workers' faults queue on their one process's memory map: on a copy of the
    // scoring bench's database the loop of reading, replaying and storing took 9.0–12.0 s mapped and 6.1–8.3 s
    // unmapped (bench/RESULTS.md).
    db.pragma('mmap_size = 0');
    // Its writes are not synced one by one: nobody reads a version's rows before the switch, whose commit (on the
    // storage's connection, synchronous = FULL) syncs the write-ahead log, every frame written before it included;
    // a version that was never switched on is deleted by the next apply. Storing 100,000 of the bench's score rows a
    // page at a time took 340-530 ms (median 427) against 424-626 ms (median 545) synced (seven rounds each).
    db.pragma('synchronous = NORMAL');
    const statement = db.prepare(reader.query.sql);
    readRange = (range) => statement.iterate(pageParameters(reader.query, range)) as Iterable<ContactRow>;
    // Each INSERT's text prepared once and kept, as on the rescore's own connection.
    const statements = cacheStatements(db);
    const lock = new Int32Array(reader.lock);
    store = (rows, digests) => {
      for (const { sql, values } of [...scoreInserts(rows, 'sqlite'), ...digestInserts(digests)]) {
        const insert = statements.prepare(sql);
        // One writer at a time among the workers: waiting here wakes the moment the other is done, where SQLite's
        // own busy wait would sleep in steps of milliseconds.
        while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) Atomics.wait(lock, 0, 1);
        try {
          insert.run(values);
        } finally {
          Atomics.store(lock, 0, 0);
          Atomics.notify(lock, 0, 1);
        }
      }
    };
  }
} catch (error) {
  startFailure = describe(error);
}

function answer(task: Exclude<RescoreTask, { stop: true }>): RescoreReply {
  if (startFailure !== null) return { ok: false, message: startFailure };
  try {
    if ('rows' in task) return { ok: true, page: rescoreContactRows(setup, task.rows) };
    if (!readRange || !store) throw new Error('sent a range to read without a page reader');
    const page = rescoreContactRows(setup, readRange(task.range));
    store(page.scores, page.digests);
    return { ok: true, page: { ...page, scores: [], digests: [] } };
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
