import { parentPort, workerData } from 'node:worker_threads';
import type { ContactRow } from './load-contact-histories.js';
import { type RescoreSetup, rescoreContactRows } from './rescore-rows.js';

/**
 * A rescore's worker thread: parses and replays the pages of contacts the rescore sends it and answers each, in
 * order, with the rows to store (or the error that stopped it). Wiring only; the work is `rescoreContactRows`.
 */
const setup = workerData as RescoreSetup;
const port = parentPort!;
port.on('message', (rows: ContactRow[]) => {
  try {
    port.postMessage({ ok: true, page: rescoreContactRows(setup, rows) });
  } catch (error) {
    port.postMessage({ ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
