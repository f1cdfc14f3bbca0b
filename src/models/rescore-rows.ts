import { localDay } from '../ingest/local-day.js';
import { encodeChangeLog } from '../scoring/change-log-codec.js';
import { eventFieldsRead } from '../scoring/event-fields-read.js';
import { eventPrefilter } from '../scoring/event-prefilter.js';
import { replayContact } from '../scoring/replay-contact.js';
import { scoreAt } from '../scoring/score-at.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { ContactScoresTable, EventDigestsTable } from '../storage/database-schema.js';
import { scoreRow } from '../storage/live-scoring-rows.js';
import { type ContactRow, type HistoryOptions, readContactRow, type StoredContactHistory } from './read-contact-row.js';

/** What every page of one rescore shares: the model, its new version and the moment it scores as of. */
export interface RescoreSetup {
  model: ScoringModel;
  version: number;
  workspaceId: string;
  timeZone: string;
  now: number;
  /** Whether the rescore makes and stores event digests (on SQLite; `HistoryOptions.buildDigests`). */
  digests?: boolean;
}

/** One page of contacts rescored: the rows to store and what the rescore reports. */
export interface RescoredPage {
  /** The rows to store; empty where the worker that replayed the page stored them itself. */
  scores: ContactScoresTable[];
  /** Event digests made of contacts that had none that holds, to store with the rows (`digestInserts`). */
  digests: EventDigestsTable[];
  contacts: number;
  changes: number;
  mql: number;
  /** Contacts whose new total differs from the score they had when read (`ContactRow.score`). */
  moved: number;
}

/**
 * Every contact of a page replayed from history, as the rows a new version stores (the same rows live scoring
 * writes), each contact's replayed changes recorded beside its score (`encodeChangeLog`).
 * @example const { scores } = rescoreRows(setup, histories)
 */
export function rescoreRows(setup: RescoreSetup, page: StoredContactHistory[]): RescoredPage {
  return rescoreEach(setup, page, (contact) => contact);
}

/**
 * `rescoreRows` of items that each become a contact's history (`historyOf`) just before it is replayed, so that only
 * one contact's parsed events and replay are alive at a time, not a whole page's: the young generation's collections
 * then copy little, and a rescore's loop took a fifth less time than parsing the page first (bench/RESULTS.md).
 */
function rescoreEach<T>(
  setup: RescoreSetup,
  page: Iterable<T>,
  historyOf: (item: T) => StoredContactHistory,
  scoreOf: (item: T) => number | null = () => null,
): RescoredPage {
  const { model, version, workspaceId, timeZone, now } = setup;
  const clock = { dayOf: (ms: number) => localDay(ms, timeZone) };
  let changes = 0;
  let mql = 0;
  let moved = 0;
  const scores = Array.from(page, (item): ContactScoresTable => {
    const contact = historyOf(item);
    const { state, output } = replayContact(model, contact, clock, now, { crossings: false });
    changes += output.changes.length;
    const reading = scoreAt(model, state, now);
    if (reading.status === 'mql') mql += 1;
    const before = scoreOf(item);
    if (before !== null && before !== reading.total) moved += 1;
    // The changes are recorded beside the score as its change log (seq 0…n−1), not as rows. A rescore fires nothing
    // and promotes in bulk when the version is switched on.
    const row = scoreRow(
      workspaceId,
      version,
      { contactId: contact.id, state, nextSeq: output.changes.length, ...reading },
      now,
    );
    row.change_log = encodeChangeLog(output.changes);
    return row;
  });
  return { scores, digests: [], contacts: scores.length, changes, mql, moved };
}

/**
 * What a rescore reads of each contact's history: only the events its rules can match and only the fields they look
 * at (without URL or properties the events come from the contact index alone, or from the contact's event digest),
 * up to its moment, without event ids (its change logs find their events again when explained). With `digests`, a
 * contact without a digest that holds comes with all its events, and the rescore stores one made of them.
 */
export function rescoreRead(setup: RescoreSetup): HistoryOptions {
  const { model, now } = setup;
  return {
    fields: eventFieldsRead(model),
    only: eventPrefilter([model]),
    until: now,
    eventIds: false,
    buildDigests: setup.digests === true,
    engagement: model.engagement,
  };
}

/**
 * `rescoreRows` of contacts as loaded (JSON text or event digests, read as `rescoreRead`), parsed here, with the
 * event digests made of those that had none: a rescore worker's job.
 */
export function rescoreContactRows(setup: RescoreSetup, rows: Iterable<ContactRow>): RescoredPage {
  const read = rescoreRead(setup);
  const digests: EventDigestsTable[] = [];
  const page = rescoreEach(
    setup,
    rows,
    (row) => {
      const { history, digest } = readContactRow(row, read);
      if (digest !== null) {
        digests.push({
          workspace_id: setup.workspaceId,
          contact_id: row.id,
          gen: Number(row.events_gen),
          terms: digest.terms,
          data: digest.data,
        });
      }
      return history;
    },
    (row) => (row.score === undefined || row.score === null ? null : Number(row.score)),
  );
  return { ...page, digests };
}
