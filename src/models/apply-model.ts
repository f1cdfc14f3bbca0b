import { availableParallelism } from 'node:os';
import { CompiledQuery, type Kysely, PostgresAdapter, type RawBuilder, sql, type Transaction } from 'kysely';
import { PRE_MQL_STAGES } from '../lifecycle/stages.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { ContactScoresTable, Database, EventDigestsTable } from '../storage/database-schema.js';
import { digestInserts } from './insert-digest-rows.js';
import { scoreInserts } from './insert-score-rows.js';
import { compilePageQuery, loadContactHistoriesOf, loadContactRows, pageRanges } from './load-contact-histories.js';
import { lockWorkspace } from './lock-workspace.js';
import { readAhead } from './read-ahead.js';
import { startRescorePool } from './rescore-pool.js';
import { type RescoredPage, type RescoreSetup, rescoreRead, rescoreRows } from './rescore-rows.js';

export interface ApplyModelResult {
  version: number;
  contacts: number;
  changes: number;
  mql: number;
  promotedToMql: number;
  /** Worker threads that replayed the history (0: the calling thread did). */
  threads: number;
  /** Whether the worker threads read the history and stored the scores themselves, on connections of their own. */
  workersRead: boolean;
  /** Earlier versions whose scores and explanations this apply deleted (`pruneSupersededVersions`). */
  pruned: number[];
  /** Whether the switch rebuilt the current scores' index instead of updating it row by row (`rebuildsScoreIndex`). */
  scoreIndexRebuilt: boolean;
}

export interface ApplyModelRequest {
  workspaceId: string;
  timeZone: string;
  model: ScoringModel;
  /** The model file's text, stored with the version. */
  source: string;
  now?: number;
  /** Called after each page of contacts is written; the rescore waits for a returned promise. */
  onProgress?: (done: number, total: number) => void | Promise<void>;
  /**
   * Worker threads that parse and replay pages while this thread reads and writes; 0 replays here. By default one
   * per core (at most 4) from 10,000 contacts on, none below, where starting threads costs more than it saves.
   */
  threads?: number;
  /**
   * The SQLite database's file (`Storage.file`): the worker threads then read their pages and store their rows on
   * connections of their own. Without it this thread reads and stores every page.
   */
  file?: string | null;
  /**
   * The storage's bulk path for the score rows of the pages this thread stores (`Storage.bulkScores`: PostgreSQL's
   * binary COPY); INSERTs without it. On the scoring bench's PostgreSQL database the loop of reading, replaying and
   * storing took 7.99-8.95 s with COPY against 8.80-11.21 s with INSERTs, applies alternated (bench/RESULTS.md).
   */
  bulkScores?: ((rows: readonly ContactScoresTable[]) => Promise<void>) | null;
}

const THREADS_FROM = 10_000;

const isPostgres = (db: Kysely<Database>) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * Stores contact_scores rows through the storage's bulk path where given (`ApplyModelRequest.bulkScores`), else as
 * INSERTs (`scoreInserts`); on SQLite the connection keeps each statement prepared (`cacheStatements`).
 */
async function insertScores(
  db: Kysely<Database>,
  rows: ContactScoresTable[],
  digests: EventDigestsTable[] = [],
  bulk: ApplyModelRequest['bulkScores'] = null,
): Promise<void> {
  const dialect = isPostgres(db) ? 'postgres' : 'sqlite';
  if (bulk) await bulk(rows);
  const inserts = bulk ? [] : scoreInserts(rows, dialect);
  // Digests come from SQLite rescores only (`RescoreSetup.digests`).
  for (const insert of [...inserts, ...digestInserts(digests)]) {
    await db.executeQuery(CompiledQuery.raw(insert.sql, insert.values));
  }
}

/**
 * Stores a new model version and rescores every contact from its traits and event history with the same replay that
 * backtests use, writing the new version's scores and explanations beside the old ones. Then one transaction makes
 * the new version active and copies its scores into the contacts' current scores, so a reader sees the old scores
 * or the new ones, never a mix. Contacts the new model puts over the MQL threshold move to stage MQL with a history row; triggers do
 * not fire for crossings a rescore finds in the past.
 * @example await applyModel(db, { workspaceId, timeZone: 'UTC', model, source: text, onProgress })
 */
export async function applyModel(db: Kysely<Database>, request: ApplyModelRequest): Promise<ApplyModelResult> {
  const now = request.now ?? Date.now();
  const { workspaceId, model } = request;
  await discardUnfinishedVersions(db, workspaceId);
  const last = await db
    .selectFrom('scoring_models')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  const version = Number(last?.v ?? 0) + 1;
  await db
    .insertInto('scoring_models')
    .values({
      workspace_id: workspaceId,
      version,
      name: model.name,
      source: request.source,
      active: 0,
      created_at: now,
      activated_at: null,
    })
    .execute();
  const total = Number(
    (
      await db
        .selectFrom('contacts')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirstOrThrow()
    ).n,
  );
  // Read before the first page: a switch that finds the same count knows no contact was deleted meanwhile.
  const deletedBefore = await contactsDeleted(db, workspaceId);
  let contacts = 0;
  let changes = 0;
  let mql = 0;
  let moved = 0;
  // Events that arrive while the rescore runs are scored live under the old version; activation replays their contacts.
  const started = Date.now();
  // Event digests on SQLite only: PostgreSQL's rescore is bound by the server's writes, and there a digest saved no
  // time after a model change and cost the first rescore two fifths more (bench/RESULTS.md).
  const setup: RescoreSetup = {
    model,
    version,
    workspaceId,
    timeZone: request.timeZone,
    now,
    digests: !isPostgres(db),
  };
  const read = rescoreRead(setup);
  const threads = request.threads ?? (total >= THREADS_FROM ? Math.min(4, availableParallelism()) : 0);
  const reader = request.file ? { file: request.file, query: compilePageQuery(db, workspaceId, read) } : null;
  const pool = startRescorePool(setup, threads, reader);
  try {
    const store = async (page: RescoredPage) => {
      // Pages the workers read they also stored.
      await insertScores(db, page.scores, page.digests, request.bulkScores);
      mql += page.mql;
      moved += page.moved;
      changes += page.changes;
      contacts += page.contacts;
      await request.onProgress?.(contacts, Math.max(total, contacts));
    };
    // Each page as it is handed to the pool; wrapped, as a generator would wait for a promise it yields.
    async function* pages(): AsyncGenerator<{ page: Promise<RescoredPage> }> {
      if (pool.reads) for (const range of await pageRanges(db, workspaceId)) yield { page: pool.read(range) };
      else for await (const rows of readAhead(loadContactRows(db, workspaceId, read))) yield { page: pool.run(rows) };
    }
    // Pages in flight, enough to keep every worker busy while one is written; each stored as soon as it is done, not
    // in the order read, so that a page of busy contacts holds up only its own worker (the pages are disjoint).
    const inFlight = new Map<number, Promise<{ n: number; page: RescoredPage }>>();
    const storeNextDone = async () => {
      const { n, page } = await Promise.race(inFlight.values());
      inFlight.delete(n);
      await store(page);
    };
    let handed = 0;
    for await (const { page } of pages()) {
      const n = handed++;
      const done = page.then((p) => ({ n, page: p }));
      // Awaited below; this only keeps a failure from counting as unhandled while other pages are stored.
      done.catch(() => undefined);
      inFlight.set(n, done);
      if (inFlight.size > 2 * pool.threads) await storeNextDone();
    }
    while (inFlight.size > 0) await storeNextDone();
    // PostgreSQL plans the activation's bulk statements from its statistics, which know nothing yet of the rows just
    // written (autovacuum analyzes at most once a minute). Planned for a version of one row and a few stage rows, the
    // promotions joined every stage row to every promoted contact: a model change with 21,804 promotions took 96 s in
    // that statement, 1.5 s once analyzed (bench/RESULTS.md). ANALYZE reads a sample, about half a second here.
    if (isPostgres(db)) await sql`analyze contact_scores, stage_changes`.execute(db);
    const rebuild = rebuildsScoreIndex(db, moved, contacts);
    const promotedToMql = await activate(db, workspaceId, version, now, rebuild, deletedBefore, async (trx) => {
      // Contacts that got events or were created during the rescore: replay them under the write lock. With a model
      // active, live scoring stamped each contact it touched; without one, the events received since are the record.
      const previous = await trx
        .selectFrom('scoring_models')
        .select('version')
        .where('workspace_id', '=', workspaceId)
        .where('activated_at', 'is not', null)
        .where('version', '<>', version)
        .orderBy('activated_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      const touched = previous
        ? trx
            .selectFrom('contact_scores')
            .select('contact_id')
            .where('workspace_id', '=', workspaceId)
            .where('model_version', '=', previous.version)
            .where('scored_at', '>=', started)
        : trx
            .selectFrom('events')
            .select('contact_id')
            .where('workspace_id', '=', workspaceId)
            .where('received_at', '>=', started)
            .where('contact_id', 'is not', null);
      const created = trx
        .selectFrom('contacts')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('created_at', '>=', started);
      const ids = [
        ...new Set([
          ...(await touched.execute()).flatMap((r) => (r.contact_id ? [r.contact_id] : [])),
          ...(await created.execute()).map((r) => r.id),
        ]),
      ];
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const page = await loadContactHistoriesOf(trx, workspaceId, chunk, read);
        const { scores } = rescoreRows(setup, page);
        await deleteScoresOf(trx, workspaceId, version, chunk);
        await insertScores(trx, scores);
      }
    });
    const pruned = await pruneSupersededVersions(db, workspaceId);
    return {
      version,
      contacts,
      changes,
      mql,
      promotedToMql,
      threads: pool.threads,
      workersRead: pool.reads,
      pruned,
      scoreIndexRebuilt: rebuild,
    };
  } catch (error) {
    await discardUnfinishedVersions(db, workspaceId);
    throw error;
  } finally {
    await pool.close();
  }
}

/** A version that was never activated (an apply that failed or was killed) holds nothing anyone reads. */
async function discardUnfinishedVersions(db: Kysely<Database>, workspaceId: string): Promise<void> {
  const unfinished = await db
    .selectFrom('scoring_models')
    .select('version')
    .where('workspace_id', '=', workspaceId)
    .where('activated_at', 'is', null)
    .execute();
  for (const { version } of unfinished) {
    await db.transaction().execute(async (trx) => {
      await deleteScoresOf(trx, workspaceId, version);
      await trx
        .deleteFrom('scoring_models')
        .where('workspace_id', '=', workspaceId)
        .where('version', '=', version)
        .execute();
    });
  }
}

/**
 * Scores and explanations of versions that are neither active nor the one active before it: nothing reads them any
 * more, and each version holds a row per contact and every change (about 200 MB at 200,000 contacts), so a workspace
 * whose model is tuned and applied again and again would keep growing. The version active before is kept, as a
 * reader that looked up the active version just before the switch may still read it.
 */
async function pruneSupersededVersions(db: Kysely<Database>, workspaceId: string): Promise<number[]> {
  const activated = await db
    .selectFrom('scoring_models')
    .select('version')
    .where('workspace_id', '=', workspaceId)
    .where('activated_at', 'is not', null)
    .orderBy('version', 'desc')
    .execute();
  const pruned: number[] = [];
  for (const { version } of activated.slice(2)) {
    // Versions pruned by an earlier apply have nothing left to delete.
    if ((await db.transaction().execute((trx) => deleteScoresOf(trx, workspaceId, version))) > 0) pruned.push(version);
  }
  return pruned;
}

/** Deletes a version's score rows and explanations, of the given contacts or of all; the number of rows deleted. */
async function deleteScoresOf(
  trx: Transaction<Database>,
  workspaceId: string,
  version: number,
  contactIds?: string[],
): Promise<number> {
  let deleted = 0;
  for (const table of ['contact_scores', 'score_changes'] as const) {
    const result = await trx
      .deleteFrom(table)
      .where('workspace_id', '=', workspaceId)
      .where('model_version', '=', version)
      .$if(contactIds !== undefined, (q) => q.where('contact_id', 'in', contactIds!))
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}

/**
 * Whether the switch drops the current scores' index before it writes the new scores and creates it again after,
 * instead of moving each contact's entry: on SQLite, when the rescore moved at least a third of the scores. Moving
 * 200,000 entries took 0.5-0.8 s of the switch and a rebuild 0.25 s (bench/RESULTS.md); a change that moves few
 * scores (a threshold) keeps the index. Not on PostgreSQL, where dropping an index locks every reader of the table
 * out until the commit.
 */
function rebuildsScoreIndex(db: Kysely<Database>, moved: number, contacts: number): boolean {
  return !isPostgres(db) && contacts > 0 && moved * 3 >= contacts;
}

/**
 * Runs `write` without one of SQLite's schema objects (an index or a trigger) and creates it again after, from its own
 * definition, in the same transaction: SQLite's schema changes are transactional, so readers see the object until
 * the commit, and a failure restores it. Other writers wait for the transaction's write lock, so none writes without
 * the object meanwhile.
 */
async function withoutSchemaObject<T>(
  trx: Transaction<Database>,
  type: 'index' | 'trigger',
  name: string,
  write: () => Promise<T>,
): Promise<T> {
  const found = await sql<{ sql: string }>`
    select sql from sqlite_master where type = ${type} and name = ${name}`.execute(trx);
  const definition = found.rows[0]?.sql;
  if (definition) await sql`drop ${sql.raw(type)} ${sql.ref(name)}`.execute(trx);
  const result = await write();
  if (definition) await sql.raw(definition).execute(trx);
  return result;
}

/**
 * The contacts the new version puts over the MQL threshold from a stage before MQL (`id`, `stage`), each with the
 * number of its next stage row (`seq`). Each contact's last history number comes from one grouped pass joined in,
 * not a lookup per promoted contact: PostgreSQL planned that lookup as a scan of stage_changes, which the insert
 * grows as it runs (48,438 promotions took 19 s; bench/RESULTS.md).
 */
function promotions(workspaceId: string, version: number) {
  return sql`
    select c.id, c.stage, coalesce(h.seq, 0) + 1 as seq
    from contacts c
    join contact_scores cs on cs.workspace_id = c.workspace_id and cs.model_version = ${version} and cs.contact_id = c.id
    left join (
      select contact_id, max(seq) as seq from stage_changes where workspace_id = ${workspaceId} group by contact_id
    ) h on h.contact_id = c.id
    where c.workspace_id = ${workspaceId} and cs.status = 'mql' and c.stage in (${sql.join(PRE_MQL_STAGES)})`;
}

/** A stage row to MQL at `now` for each promotion of `from` (rows of `id`, `stage`, `seq`, as `promotions` gives). */
async function insertPromotionRows(
  trx: Transaction<Database>,
  workspaceId: string,
  now: number,
  reason: string,
  from: RawBuilder<unknown>,
): Promise<number> {
  const inserted = await sql`
    insert into stage_changes (workspace_id, contact_id, seq, from_stage, to_stage, at, source, reason)
    select ${workspaceId}, p.id, p.seq, p.stage, 'mql', ${now}, 'score', ${reason}
    from ${from} p`.execute(trx);
  return Number(inserted.numAffectedRows ?? 0n);
}

/** The promotions' stage rows and stages on PostgreSQL, whose statement triggers refresh each contact's times once. */
async function promoteOnPostgres(
  trx: Transaction<Database>,
  workspaceId: string,
  version: number,
  now: number,
  reason: string,
): Promise<number> {
  const inserted = await insertPromotionRows(trx, workspaceId, now, reason, sql`(${promotions(workspaceId, version)})`);
  await sql`
    update contacts set stage = 'mql', updated_at = ${now}
    from contact_scores cs
    where contacts.workspace_id = ${workspaceId} and cs.workspace_id = contacts.workspace_id
      and cs.model_version = ${version} and cs.contact_id = contacts.id
      and contacts.stage in (${sql.join(PRE_MQL_STAGES)}) and cs.status = 'mql'`.execute(trx);
  return inserted;
}

/**
 * The promotions on SQLite: a stage row each and stage MQL, the contact's first MQL and funnel times moved as the
 * stage-times trigger of a stage row would move them. The trigger is left out for these rows, so each contact row
 * is written once instead of twice (the trigger's update, then the stage's): on copies of the scoring bench's file
 * just before its switch, the 21,804 promotions took 0.34-0.55 s against 0.48-0.79 s (bench/RESULTS.md).
 */
async function promoteOnSqlite(
  trx: Transaction<Database>,
  workspaceId: string,
  version: number,
  now: number,
  reason: string,
): Promise<number> {
  // A failure rolls the whole switch back, this table with it (SQLite's temporary tables are transactional too).
  await sql`create temp table kerma_promoted (id text primary key, stage text not null, seq integer not null)
    without rowid`.execute(trx);
  await sql`
    insert into kerma_promoted (id, stage, seq)
    select p.id, p.stage, p.seq from (${promotions(workspaceId, version)}) p`.execute(trx);
  const inserted = await withoutSchemaObject(trx, 'trigger', 'stage_changes_times_insert_first', () =>
    insertPromotionRows(trx, workspaceId, now, reason, sql`temp.kerma_promoted`),
  );
  // What the trigger does for a stage row to MQL at `now`: the first MQL and funnel times can only come earlier.
  await sql`
    update contacts set stage = 'mql', updated_at = ${now},
      mql_at = case when mql_at is null or ${now} < mql_at then ${now} else mql_at end,
      funnel_at = case when funnel_at is null or ${now} < funnel_at then ${now} else funnel_at end
    from kerma_promoted p
    where contacts.workspace_id = ${workspaceId} and contacts.id = p.id`.execute(trx);
  await sql`drop table temp.kerma_promoted`.execute(trx);
  return inserted;
}

async function activate(
  db: Kysely<Database>,
  workspaceId: string,
  version: number,
  now: number,
  rebuildScoreIndex: boolean,
  deletedBefore: number,
  catchUp: (trx: Transaction<Database>) => Promise<void>,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await lockWorkspace(trx, workspaceId);
    await trx.updateTable('scoring_models').set({ active: 0 }).where('workspace_id', '=', workspaceId).execute();
    await catchUp(trx);
    // A contact erased while the rescore ran can have had its new row stored after the erasure (read before it): that
    // row goes now, under the lock an erasure takes, so no score of an erased person outlives the apply. Where no
    // contact was deleted since the first page was read, there is no such row to look for.
    if ((await contactsDeleted(trx, workspaceId)) !== deletedBefore) {
      await sql`
      delete from contact_scores where workspace_id = ${workspaceId} and model_version = ${version}
        and not exists (select 1 from contacts c where c.workspace_id = contact_scores.workspace_id
          and c.id = contact_scores.contact_id)`.execute(trx);
    }
    await trx
      .updateTable('scoring_models')
      .set({ active: 1, activated_at: now })
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', version)
      .execute();
    const stageReason = `score reached the MQL threshold when model v${version} was applied`;
    const promoted = isPostgres(db)
      ? await promoteOnPostgres(trx, workspaceId, version, now, stageReason)
      : await promoteOnSqlite(trx, workspaceId, version, now, stageReason);
    // One join instead of a lookup per column per contact (measured 18 s for 200,000 contacts with the lookups).
    // Only scores the new version changes are written: a model change that moves few scores (a threshold, one
    // rule) rewrites few rows. The rows are the narrow ones of current_scores, not the contacts' own: on PostgreSQL
    // each contact row written took an entry in every index of contacts (bench/RESULTS.md).
    const writeScores = async () => {
      await sql`
      update current_scores set score = cs.total, fit = cs.fit, engagement = cs.engagement, grade = cs.grade
      from contact_scores cs
      where current_scores.workspace_id = ${workspaceId} and cs.workspace_id = current_scores.workspace_id
        and cs.model_version = ${version} and cs.contact_id = current_scores.contact_id
        and (current_scores.score is distinct from cs.total or current_scores.fit is distinct from cs.fit
          or current_scores.engagement is distinct from cs.engagement
          or current_scores.grade is distinct from cs.grade)`.execute(trx);
      // A contact without a score row under the new version reads zero, as before any model. Every score row left
      // has its contact (erased ones went above), so when there are as many rows as contacts none lacks one, and two
      // counts of index entries replace a probe of the scores per contact (about 15 ms instead of 0.14-0.24 s at
      // 200,000 contacts on SQLite; bench/RESULTS.md).
      if (await everyContactScored(trx, workspaceId, version)) return;
      await sql`
      update current_scores set score = 0, fit = 0, engagement = 0, grade = null
      where workspace_id = ${workspaceId} and (score <> 0 or fit <> 0 or engagement <> 0 or grade is not null)
        and not exists (
        select 1 from contact_scores cs where cs.workspace_id = current_scores.workspace_id
          and cs.model_version = ${version} and cs.contact_id = current_scores.contact_id)`.execute(trx);
    };
    if (rebuildScoreIndex) await withoutSchemaObject(trx, 'index', 'current_scores_score', writeScores);
    else await writeScores();
    return promoted;
  });
}

/** How many contacts the workspace has lost so far (`workspaces.contacts_deleted`, kept by a trigger). */
async function contactsDeleted(db: Kysely<Database>, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('workspaces')
    .select('contacts_deleted')
    .where('id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.contacts_deleted);
}

/** Whether the workspace has as many score rows under `version` as it has contacts. */
async function everyContactScored(trx: Transaction<Database>, workspaceId: string, version: number): Promise<boolean> {
  const counts = await sql<{ unscored: number | string }>`
    select (select count(*) from contacts where workspace_id = ${workspaceId})
      - (select count(*) from contact_scores where workspace_id = ${workspaceId} and model_version = ${version})
      as unscored`.execute(trx);
  return Number(counts.rows[0]!.unscored) === 0;
}
