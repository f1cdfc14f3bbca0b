import { type Kysely, PostgresAdapter, type RawBuilder, sql } from 'kysely';
import type { EventAlternative, StoredTextTest } from '../scoring/event-prefilter.js';
import type { Database } from '../storage/database-schema.js';
import { prefixEnd } from '../storage/sqlite/prefix-end.js';
import type { PageQuery, PageRange } from './page-parameters.js';
import {
  ALL_FIELDS,
  buildsDigests,
  type ContactRow,
  type HistoryOptions,
  historyOfRow,
  readsDigests,
  type StoredContactHistory,
} from './read-contact-row.js';

const PAGE = 1_000;

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
