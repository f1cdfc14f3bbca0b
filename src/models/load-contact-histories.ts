import { type Kysely, PostgresAdapter, type RawBuilder, sql } from 'kysely';
import { decodeEventDigest, type EventDigest, encodeEventDigest } from '../scoring/event-digest-codec.js';
import type { EventFieldsRead } from '../scoring/event-fields-read.js';
import { type EventAlternative, eventMayMatch, type StoredTextTest } from '../scoring/event-prefilter.js';
import { matchEvent } from '../scoring/match-condition.js';
import type { ContactHistory } from '../scoring/replay-contact.js';
import type { ScoringEvent } from '../scoring/scoring-event.js';
import type { EngagementRule } from '../scoring/scoring-model.js';
import type { Database } from '../storage/database-schema.js';
import { prefixEnd } from '../storage/sqlite/prefix-end.js';

export interface StoredContactHistory extends ContactHistory {
  id: string;
  stage: string;
  /** When the contact first reached each stage (stage history, skipped stages included); empty unless asked for. */
  reached: Map<string, number>;
  /** Whether sales ever rejected it as an MQL; false unless asked for. */
  rejected: boolean;
}

const PAGE = 1_000;
const ALL_FIELDS: EventFieldsRead = { url: true, properties: true };

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
 * Every contact of a workspace with its traits and its non-bot events, a page at a time (keyset on id), so a
 * rescore or backtest of a large workspace runs in bounded memory.
 * @example for await (const page of loadContactHistories(db, workspaceId)) for (const c of page) replayContact(model, c, clock)
 */
export async function* loadContactHistories(
  db: Kysely<Database>,
  workspaceId: string,
  options: HistoryOptions = {},
): AsyncGenerator<StoredContactHistory[]> {
  for await (const rows of loadContactRows(db, workspaceId, options)) {
    yield await withStages(db, workspaceId, options, rows);
  }
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
 * Every contact of a workspace as `ContactRow`s, a page (`pageRanges`) at a time; no stage history. The same page read
 * a rescore's worker threads run on their own connections (`compilePageQuery`).
 */
export async function* loadContactRows(
  db: Kysely<Database>,
  workspaceId: string,
  options: HistoryOptions = {},
): AsyncGenerator<ContactRow[]> {
  for (const range of await pageRanges(db, workspaceId)) yield await contactRows(db, workspaceId, options, { range });
}

/** The given contacts with their histories (for replaying a few, e.g. those that changed during a rescore). */
export async function loadContactHistoriesOf(
  db: Kysely<Database>,
  workspaceId: string,
  ids: string[],
  options: HistoryOptions = {},
): Promise<StoredContactHistory[]> {
  // An empty IN list is a syntax error on PostgreSQL.
  if (ids.length === 0) return [];
  return withStages(db, workspaceId, options, await contactRows(db, workspaceId, options, { ids }));
}

/**
 * One event as the loader's JSON tuple: its id unless left out (`eventIds`), type, name, path, time, then URL and
 * properties when asked for.
 */
type EventTuple = unknown[];

/**
 * Each contact's non-bot events as one JSON array computed by the database (a lookup of the contact index per
 * contact), so a page of contacts is one query and the driver builds one value per contact instead of one row per
 * event: 5,000,000 events read in 11 s instead of 27 s through event rows. Events no rule can match stay in the
 * database (`only`); the first and last event times come from all of them in the same pass.
 */
function eventsArray(db: Kysely<Database>, options: HistoryOptions): RawBuilder<unknown> {
  const fields = options.fields ?? ALL_FIELDS;
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const extra = [
    ...(fields.url ? [sql`e.url`] : []),
    ...(fields.properties ? [postgres ? sql`e.properties::json` : sql`json(e.properties)`] : []),
  ];
  const tuple = sql.join([
    ...(options.eventIds === false ? [] : [sql`e.message_id`]),
    sql`e.type, e.name, e.path, e.timestamp`,
    ...extra,
  ]);
  const from = sql`from events e where e.workspace_id = c.workspace_id and e.contact_id = c.id and e.is_bot = 0`;
  // A contact read to make its digest comes with every event; the reader filters them (`eventMayMatch`).
  const only = buildsDigests(options) ? null : options.only;
  const filter = only ? sql`filter (where ${anyOf(only, postgres)})` : sql``;
  const last =
    options.until === undefined
      ? sql`max(e.timestamp)`
      : sql`max(e.timestamp) filter (where e.timestamp <= ${options.until})`;
  // As text on both engines: the one who replays parses it (PostgreSQL's driver would parse json on the reading thread).
  return postgres
    ? sql`(select json_build_array(min(e.timestamp), ${last}, coalesce(json_agg(json_build_array(${tuple})) ${filter}, '[]'::json))::text ${from})`
    : sql`(select json_array(min(e.timestamp), ${last}, json_group_array(json_array(${tuple})) ${filter}) ${from})`;
}

/**
 * The alternatives as one SQL condition on an event `e`; case-sensitive on both engines, as `matchEvent` is.
 * Alternatives of one type share its test, so an event of another type is dismissed by one comparison.
 */
function anyOf(alternatives: EventAlternative[], postgres: boolean): RawBuilder<unknown> {
  if (alternatives.length === 0) return sql`1 = 0`;
  const byType = new Map<string | null, EventAlternative[]>();
  for (const a of alternatives) byType.set(a.type, [...(byType.get(a.type) ?? []), a]);
  const text = (column: RawBuilder<unknown>, test: StoredTextTest) => {
    if (test.op === 'equals') return sql`${column} = ${test.value}`;
    if (postgres) return sql`starts_with(${column}, ${test.value})`;
    // On SQLite a prefix is a range of the column's byte order, two comparisons instead of a substring made per
    // event (a fifth of the history read's time). Where there is no next text, the substring it is.
    const end = prefixEnd(test.value);
    if (end === null) return sql`substr(${column}, 1, length(${test.value})) = ${test.value}`;
    return sql`(${column} >= ${test.value} and ${column} < ${end})`;
  };
  const either = (tests: RawBuilder<unknown>[]) =>
    tests.length === 1 ? tests[0]! : sql`(${sql.join(tests, sql` or `)})`;
  return either(
    [...byType].map(([type, sameType]) => {
      const rest = sameType.map((a) => {
        const tests = [
          ...(a.name === null ? [] : [text(sql`e.name`, a.name)]),
          ...(a.path === null ? [] : [text(sql`e.path`, a.path)]),
        ];
        return tests.length === 0 ? null : sql`(${sql.join(tests, sql` and `)})`;
      });
      // One alternative of the type that tests nothing else: the type alone decides.
      const narrowed = rest.includes(null) ? null : either(rest as RawBuilder<unknown>[]);
      // (No alternative tests nothing at all: eventPrefilter reads every event then.)
      if (type === null) return narrowed ?? sql`1 = 1`;
      return narrowed === null ? sql`e.type = ${type}` : sql`(e.type = ${type} and ${narrowed})`;
    }),
  );
}

async function contactRows(
  db: Kysely<Database>,
  workspaceId: string,
  options: HistoryOptions,
  which: { range: PageRange } | { ids: string[] },
): Promise<ContactRow[]> {
  const query = contactRowsQuery(db, workspaceId, options);
  const rows = await ('ids' in which ? query.where('c.id', 'in', which.ids) : inRange(query, which.range)).execute();
  return rows as ContactRow[];
}

/** Whether a read of these options takes a contact's events from its event digest where one holds. */
function readsDigests(options: HistoryOptions): boolean {
  const fields = options.fields ?? ALL_FIELDS;
  return options.eventIds === false && !fields.url && !fields.properties;
}

/** Whether a read of these options brings every event of a contact without a digest, to make one of them. */
function buildsDigests(options: HistoryOptions): boolean {
  return options.buildDigests === true && readsDigests(options);
}

function contactRowsQuery(db: Kysely<Database>, workspaceId: string, options: HistoryOptions) {
  // Each contact's current score looked up by key: joined, PostgreSQL planned a scan of every current score of the
  // workspace per page (a hash join; 50 ms a page at 200,000 contacts).
  const contacts = db
    .selectFrom('contacts as c')
    .where('c.workspace_id', '=', workspaceId)
    .select((eb) =>
      eb
        .selectFrom('current_scores as s')
        .select('s.score')
        .whereRef('s.workspace_id', '=', 'c.workspace_id')
        .whereRef('s.contact_id', '=', 'c.id')
        .as('score'),
    );
  const columns = ['c.id', 'c.traits', 'c.created_at', 'c.stage'] as const;
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // Its rescore is bound by the server's writes, not by reading (bench/RESULTS.md): no digests there.
    if (options.buildDigests) throw new Error('event digests are kept on SQLite only');
    return contacts.select([...columns, eventsArray(db, options).as('events')]);
  }
  if (!readsDigests(options)) return contacts.select([...columns, eventsArray(db, options).as('events')]);
  // The digest where it holds, the events where it does not (the subquery runs only then).
  const holds = sql`d.gen = c.events_gen`;
  return contacts
    .leftJoin('event_digests as d', (join) =>
      join.onRef('d.workspace_id', '=', 'c.workspace_id').onRef('d.contact_id', '=', 'c.id'),
    )
    .select([
      ...columns,
      'c.events_gen',
      sql<string | null>`case when ${holds} then d.terms end`.as('digest_terms'),
      sql<Uint8Array | null>`case when ${holds} then d.data end`.as('digest_data'),
      sql<string | null>`case when ${holds} then null else ${eventsArray(db, options)} end`.as('events'),
    ]);
}

/** The contacts of one page, in id order. */
function inRange(query: ReturnType<typeof contactRowsQuery>, range: PageRange) {
  return query.where('c.id', '>', range.after).where('c.id', '<=', range.through).orderBy('c.id');
}

/** A page of contacts by id: after `after` (exclusive) through `through` (inclusive). */
export interface PageRange {
  after: string;
  through: string;
}

/**
 * The workspace's contacts as id ranges of a page each, in id order, from the ids there are now (a contact created
 * later is not in any). Each range can be read on its own (`PageQuery`), by several threads at once.
 * @example for (const range of await pageRanges(db, workspaceId)) pool.read(range)
 */
export async function pageRanges(db: Kysely<Database>, workspaceId: string): Promise<PageRange[]> {
  // Only each page's last id comes back (and the very last), not every id of a large workspace: each is found from
  // the one before by skipping a page's entries of the contacts' key, in the database. Numbering every contact with
  // a window function instead took 0.30-0.45 s at 200,000 contacts on SQLite, this 8-12 ms (bench/RESULTS.md),
  // and the rescore's threads wait for the ranges before they read their first page.
  const { rows } = await sql<{ id: string | null }>`
    with recursive ends(n, id) as (
      select 1, (select id from contacts where workspace_id = ${workspaceId} order by id limit 1 offset ${PAGE - 1})
      union all
      select ends.n + 1, (select c.id from contacts c where c.workspace_id = ${workspaceId} and c.id > ends.id
        order by c.id limit 1 offset ${PAGE - 1})
      from ends where ends.id is not null
    )
    select id from (
      select n, id from ends where id is not null
      union all
      select null, max(id) from contacts where workspace_id = ${workspaceId}
    ) k order by n is null, n`.execute(db);
  const ends: string[] = [];
  // The last id closes a last, shorter page, unless it already closed a full one (or there is no contact).
  for (const { id } of rows) if (id !== null && id !== ends.at(-1)) ends.push(id);
  return ends.map((id, i) => ({ after: i === 0 ? '' : ends[i - 1]!, through: id }));
}

/** The page read of `loadContactRows` for any id range, as SQL text and its parameters, the range's to fill in. */
export interface PageQuery {
  sql: string;
  parameters: readonly unknown[];
  /** Where the range's bounds go in `parameters`. */
  afterAt: number;
  throughAt: number;
}

// Stand-ins for the range's bounds while the query is compiled: no contact id holds a NUL.
const AFTER = '\u0000after';
const THROUGH = '\u0000through';

/**
 * `loadContactRows`'s page read compiled once, for a connection of another thread to run per range (`pageParameters`).
 * @example db.prepare(q.sql).all(pageParameters(q, range))
 */
export function compilePageQuery(db: Kysely<Database>, workspaceId: string, options: HistoryOptions): PageQuery {
  const compiled = inRange(contactRowsQuery(db, workspaceId, options), { after: AFTER, through: THROUGH }).compile();
  const parameters = compiled.parameters;
  return {
    sql: compiled.sql,
    parameters,
    afterAt: parameters.indexOf(AFTER),
    throughAt: parameters.indexOf(THROUGH),
  };
}

/** The parameters of a compiled page read for one range. */
export function pageParameters(query: PageQuery, range: PageRange): unknown[] {
  const parameters = [...query.parameters];
  parameters[query.afterAt] = range.after;
  parameters[query.throughAt] = range.through;
  return parameters;
}

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

/** Parsed histories of loaded rows, with each contact's stage history and sales rejections when asked for. */
async function withStages(
  db: Kysely<Database>,
  workspaceId: string,
  options: HistoryOptions,
  rows: ContactRow[],
): Promise<StoredContactHistory[]> {
  const histories = rows.map((row) => historyOfRow(row, options));
  // Only a backtest asks for stage history; a rescore does not read it.
  if (!options.stages || histories.length === 0) return histories;
  const ids = histories.map((c) => c.id);
  const byId = new Map(histories.map((c) => [c.id, c]));
  const firsts = await db
    .selectFrom('stage_changes')
    .select(['contact_id', 'to_stage', (eb) => eb.fn.min('at').as('at')])
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', 'in', ids)
    .groupBy(['contact_id', 'to_stage'])
    .execute();
  for (const f of firsts) byId.get(f.contact_id)?.reached.set(f.to_stage, Number(f.at));
  const rejections = await db
    .selectFrom('sales_rejections')
    .select('contact_id')
    .distinct()
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', 'in', ids)
    .execute();
  for (const r of rejections) {
    const contact = byId.get(r.contact_id);
    if (contact) contact.rejected = true;
  }
  return histories;
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
