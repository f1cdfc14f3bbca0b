import { decodeEventDigest, type EventDigest, encodeEventDigest } from '../scoring/event-digest-codec.js';
import type { EventFieldsRead } from '../scoring/event-fields-read.js';
import { type EventAlternative, eventMayMatch } from '../scoring/event-prefilter.js';
import { matchEvent } from '../scoring/match-condition.js';
import type { ContactHistory } from '../scoring/replay-contact.js';
import type { ScoringEvent } from '../scoring/scoring-event.js';
import type { EngagementRule } from '../scoring/scoring-model.js';

// A contact's row as read for replay, parsed into its history: kept apart from the queries that read it
// (`load-contact-histories`), so a rescore's worker threads, which parse rows but build no query, load no query
// builder (about a tenth of a second of each worker's start).

export interface StoredContactHistory extends ContactHistory {
  id: string;
  stage: string;
  /** When the contact first reached each stage (stage history, skipped stages included); empty unless asked for. */
  reached: Map<string, number>;
  /** Whether sales ever rejected it as an MQL; false unless asked for. */
  rejected: boolean;
}

/** Every field an event is read with when `HistoryOptions.fields` is left out. */
export const ALL_FIELDS: EventFieldsRead = { url: true, properties: true };

export interface HistoryOptions {
  /** Also each contact's stage history and sales rejections (backtests). */
  stages?: boolean;
  /**
   * The event fields to read beyond type, name, path and time (`eventFieldsRead(model)`); both by default. Without
   * them the events come from the contact index alone; a left-out URL reads as null, left-out properties as {}.
   */
  fields?: EventFieldsRead;
  /**
   * Only the events that meet one of these (`eventPrefilter` of the models replayed); every event when left out.
   * The contact's first and last event times still come from all of its events.
   */
  only?: EventAlternative[] | null;
  /**
   * The replay's cut-off when it is one moment for every contact (a rescore's `now`): the last event time read is
   * then the last at or before it, as a replay of every event would find.
   */
  until?: number;
  /**
   * Whether to read each event's id (its messageId); true by default. A full rescore leaves them out: they were two
   * thirds of the parsing, and its recorded changes find their events again when explained (`assignChangeEvents`).
   */
  eventIds?: boolean;
  /**
   * Whether a contact without an event digest that holds (`event_digests`) comes with every one of its events, not
   * only those `only` lets through, so the reader can make it one (`readContactRow`): a rescore on SQLite does, and
   * stores them. On SQLite digests are read whenever the events are read without ids, URL or properties (what a
   * digest keeps); PostgreSQL keeps none.
   */
  buildDigests?: boolean;
  /**
   * The engagement rules of the one model the events are replayed under (a rescore's): events from an event digest
   * then carry which of them they meet (`ScoringEvent.matches`), tested with `matchEvent` once per distinct type,
   * name and path of the contact instead of once per event. A digest keeps no URL or properties, so those three are
   * all a rule can test there (a rescore's page work: 10 % fewer instructions, 5-8 % less time; bench/RESULTS.md).
   */
  engagement?: readonly EngagementRule[];
}

/**
 * A contact as the loader reads it, its traits and events still as the database's JSON text: what a rescore hands
 * to its worker threads, which parse it there (`historyOfRow`) instead of on the thread that reads and writes.
 */
export interface ContactRow {
  id: string;
  traits: string;
  created_at: number | string;
  stage: string;
  /** The contact's stored score as read (under the active version): a rescore counts the scores it moves. */
  score?: number | string | null;
  /**
   * `[first event time, last event time (up to `until`), [event tuple, …]]`, a time null where there is no such event;
   * null where the event digest holds them (`digest_data`).
   */
  events: string | null;
  /** The contact's event digest, where it was read with one that holds; null otherwise. */
  digest_terms?: string | null;
  digest_data?: Uint8Array | null;
  /** The contact's `events_gen` as of this read: what a digest made from it holds for. */
  events_gen?: number | string | null;
}

/**
 * One event as the loader's JSON tuple: its id unless left out (`eventIds`), type, name, path, time, then URL and
 * properties when asked for.
 */
export type EventTuple = unknown[];

/** What a row holds: the options it was read with. */
export type RowLayout = Pick<HistoryOptions, 'fields' | 'eventIds' | 'only' | 'until' | 'buildDigests' | 'engagement'>;

/**
 * A loaded row as the history replay reads: traits and events parsed; stage history empty (`withStages` adds it).
 * `layout` is what the row was read with.
 * @example replayContact(model, historyOfRow(row, { fields: eventFieldsRead(model) }), clock)
 */
export function historyOfRow(row: ContactRow, layout: RowLayout = {}): StoredContactHistory {
  return readContactRow(row, layout).history;
}

/**
 * `historyOfRow`, and the row's events as an event digest where it was read to make one (`buildDigests`) and had
 * none that holds; null otherwise.
 */
export function readContactRow(
  row: ContactRow,
  layout: RowLayout = {},
): { history: StoredContactHistory; digest: EventDigest | null } {
  const only = layout.only ?? null;
  if (row.events === null) {
    if (!row.digest_terms || !row.digest_data) {
      throw new Error(`contact ${row.id} was read with neither events nor digest`);
    }
    const digest = { terms: row.digest_terms, data: row.digest_data };
    const { events, span } = eventsOfDigest(digest, only, layout.until, layout.engagement);
    return { history: contactHistory(row, events, span), digest: null };
  }
  const fields = layout.fields ?? ALL_FIELDS;
  // Where the type is: after the id when there is one.
  const from = layout.eventIds === false ? 0 : 1;
  const [first, last, tuples] = JSON.parse(row.events) as [
    number | string | null,
    number | string | null,
    EventTuple[],
  ];
  // No last event up to the cut-off means none of its events count: as a contact without events.
  const span = first === null || last === null ? null : { first: Number(first), last: Number(last) };
  if (!buildsDigests(layout)) {
    const events = tuples.map((t) => eventOf(t, fields, from));
    return { history: contactHistory(row, events, span), digest: null };
  }
  // Every event came, to make the digest; the replay gets those the filter lets through, as if the database had.
  const digest = encodeEventDigest(
    tuples.map((t) => ({
      type: t[0] as string,
      name: t[1] as string | null,
      path: t[2] as string | null,
      at: Number(t[3]),
    })),
  );
  const events = tuples
    .filter((t) => eventMayMatch(only, t[0] as string, t[1] as string | null, t[2] as string | null))
    .map((t) => eventOf(t, fields, from));
  return { history: contactHistory(row, events, span), digest };
}

/**
 * A row's history as one object literal, not spread together from parts: in a rescore worker's profile, spreading
 * two objects per contact took 0.12 s of the 0.2 s spent in `readContactRow` itself (bench/RESULTS.md).
 */
function contactHistory(
  row: ContactRow,
  events: ScoringEvent[],
  span: StoredContactHistory['span'],
): StoredContactHistory {
  return {
    id: row.id,
    stage: row.stage,
    reached: new Map<string, number>(),
    rejected: false,
    traits: JSON.parse(row.traits) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    events,
    span,
  };
}

/**
 * A digest's events that `only` lets through, and the span of all of them (the last up to `until`), as the
 * database's read of the events would give them; with `engagement`, each event says which of those rules it meets.
 */
function eventsOfDigest(
  digest: EventDigest,
  only: readonly EventAlternative[] | null,
  until = Number.POSITIVE_INFINITY,
  engagement?: readonly EngagementRule[],
): Pick<StoredContactHistory, 'events' | 'span'> {
  const events: ScoringEvent[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  // Per combination of type, name and path, decided once per contact: whether the filter lets it through (false)
  // and, where it does, which rules it meets (true when the rules are not given).
  const passes = new Map<number, readonly boolean[] | boolean>();
  decodeEventDigest(digest, (type, name, path, at, key) => {
    if (at < first) first = at;
    if (at <= until && at > last) last = at;
    let pass = key < 0 ? undefined : passes.get(key);
    if (pass === false) return;
    // `matches` is there from the start, so every event has one shape whether it gets matches or not.
    const event: ScoringEvent = {
      id: null,
      type,
      name,
      path,
      url: null,
      properties: NO_PROPERTIES,
      at,
      matches: undefined,
    };
    if (pass === undefined) {
      pass = eventMayMatch(only, type, name, path);
      if (pass && engagement) pass = engagement.map((rule) => matchEvent(rule.when, event));
      if (key >= 0) passes.set(key, pass);
      if (pass === false) return;
    }
    if (pass !== true) event.matches = pass;
    events.push(event);
  });
  const span = first === Number.POSITIVE_INFINITY || last === Number.NEGATIVE_INFINITY ? null : { first, last };
  return { events, span };
}

// Shared by every event read without its properties; nothing writes to an event's properties.
const NO_PROPERTIES: Record<string, unknown> = Object.freeze({});

function eventOf(t: EventTuple, fields: EventFieldsRead, from: number): ScoringEvent {
  const url = fields.url ? ((t[from + 4] as string | null) ?? null) : null;
  const properties = fields.properties ? (t[from + (fields.url ? 5 : 4)] as Record<string, unknown> | null) : null;
  return {
    id: from === 0 ? null : (t[0] as string),
    type: t[from] as string,
    name: t[from + 1] as string | null,
    path: t[from + 2] as string | null,
    url,
    properties: properties ?? NO_PROPERTIES,
    at: Number(t[from + 3]),
  };
}

/** Whether a read of these options takes a contact's events from its event digest where one holds. */
export function readsDigests(options: HistoryOptions): boolean {
  const fields = options.fields ?? ALL_FIELDS;
  return options.eventIds === false && !fields.url && !fields.properties;
}

/** Whether a read of these options brings every event of a contact without a digest, to make one of them. */
export function buildsDigests(options: HistoryOptions): boolean {
  return options.buildDigests === true && readsDigests(options);
}
