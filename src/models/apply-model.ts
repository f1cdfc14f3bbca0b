import { type Kysely, sql } from 'kysely';
import { localDay } from '../ingest/local-day.js';
import { PRE_MQL_STAGES } from '../lifecycle/stages.js';
import { replayContact } from '../scoring/replay-contact.js';
import { scoreAt } from '../scoring/score-at.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { ContactScoresTable, Database, ScoreChangesTable } from '../storage/database-schema.js';
import { loadContactHistories } from './load-contact-histories.js';

export interface ApplyModelResult {
  version: number;
  contacts: number;
  changes: number;
  mql: number;
  promotedToMql: number;
}

export interface ApplyModelRequest {
  workspaceId: string;
  timeZone: string;
  model: ScoringModel;
  /** The model file's text, stored with the version. */
  source: string;
  now?: number;
  onProgress?: (done: number, total: number) => void;
}

// Rows per INSERT: SQLite allows 32 766 bound values; score_changes has 11 columns.
const CHUNK = 2_000;

async function insertChunks<T extends 'contact_scores' | 'score_changes'>(
  db: Kysely<Database>,
  table: T,
  rows: Array<T extends 'contact_scores' ? ContactScoresTable : ScoreChangesTable>,
): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db
      .insertInto(table)
      .values(rows.slice(i, i + CHUNK) as never)
      .execute();
  }
}

/**
 * Stores a new model version and rescores every contact from its traits and event history with the same replay that
 * backtests use, writing the new version's scores and explanations beside the old ones. Then one transaction makes
 * the new version active and copies its scores onto the contacts, so a reader sees the old scores or the new ones,
 * never a mix. Contacts the new model puts over the MQL threshold move to stage MQL with a history row; triggers do
 * not fire for crossings a rescore finds in the past.
 * @example await applyModel(db, { workspaceId, timeZone: 'UTC', model, source: text, onProgress })
 */
export async function applyModel(db: Kysely<Database>, request: ApplyModelRequest): Promise<ApplyModelResult> {
  const now = request.now ?? Date.now();
  const { workspaceId, model } = request;
  const clock = { dayOf: (ms: number) => localDay(ms, request.timeZone) };
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
  let contacts = 0;
  let changes = 0;
  let mql = 0;
  try {
    for await (const page of loadContactHistories(db, workspaceId)) {
      const scores: ContactScoresTable[] = [];
      const changeRows: ScoreChangesTable[] = [];
      for (const contact of page) {
        const { state, output } = replayContact(model, contact, clock, now);
        const reading = scoreAt(model, state, now);
        if (reading.status === 'mql') mql++;
        scores.push({
          workspace_id: workspaceId,
          model_version: version,
          contact_id: contact.id,
          state: JSON.stringify(state),
          total: reading.total,
          fit: reading.fit,
          engagement: reading.engagement,
          grade: reading.grade,
          status: reading.status,
          next_seq: output.changes.length,
          scored_at: now,
        });
        output.changes.forEach((c, seq) => {
          changeRows.push({
            workspace_id: workspaceId,
            model_version: version,
            contact_id: contact.id,
            seq,
            rule_id: c.ruleId,
            kind: c.kind,
            rule_group: c.group,
            points: c.points,
            half_life_days: c.halfLifeDays,
            event_id: c.eventId,
            at: c.at,
          });
        });
      }
      await db.transaction().execute(async (trx) => {
        await insertChunks(trx, 'contact_scores', scores);
        await insertChunks(trx, 'score_changes', changeRows);
      });
      contacts += page.length;
      changes += changeRows.length;
      request.onProgress?.(contacts, Math.max(total, contacts));
    }
    const promotedToMql = await activate(db, workspaceId, version, now);
    return { version, contacts, changes, mql, promotedToMql };
  } catch (error) {
    await discardUnfinishedVersions(db, workspaceId);
    throw error;
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
      for (const table of ['contact_scores', 'score_changes'] as const) {
        await trx
          .deleteFrom(table)
          .where('workspace_id', '=', workspaceId)
          .where('model_version', '=', version)
          .execute();
      }
      await trx
        .deleteFrom('scoring_models')
        .where('workspace_id', '=', workspaceId)
        .where('version', '=', version)
        .execute();
    });
  }
}

async function activate(db: Kysely<Database>, workspaceId: string, version: number, now: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await trx.updateTable('scoring_models').set({ active: 0 }).where('workspace_id', '=', workspaceId).execute();
    await trx
      .updateTable('scoring_models')
      .set({ active: 1, activated_at: now })
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', version)
      .execute();
    const score = (column: 'total' | 'fit' | 'engagement' | 'grade', fallback: number | null) =>
      sql`coalesce((select cs.${sql.ref(column)} from contact_scores cs where cs.workspace_id = contacts.workspace_id and cs.model_version = ${version} and cs.contact_id = contacts.id), ${fallback})`;
    const stageSource = `model:${version}`;
    const promoted = await sql<{ n: number }>`
      insert into stage_changes (workspace_id, contact_id, seq, from_stage, to_stage, at, source, reason)
      select c.workspace_id, c.id,
             coalesce((select max(s.seq) from stage_changes s where s.workspace_id = c.workspace_id and s.contact_id = c.id), 0) + 1,
             c.stage, 'mql', ${now}, ${stageSource}, 'score reached the MQL threshold when the model was applied'
      from contacts c
      join contact_scores cs on cs.workspace_id = c.workspace_id and cs.model_version = ${version} and cs.contact_id = c.id
      where c.workspace_id = ${workspaceId} and cs.status = 'mql' and c.stage in (${sql.join(PRE_MQL_STAGES)})`.execute(
      trx,
    );
    await sql`
      update contacts set
        score = ${score('total', 0)}, fit = ${score('fit', 0)}, engagement = ${score('engagement', 0)}, grade = ${score('grade', null)},
        stage = case when stage in (${sql.join(PRE_MQL_STAGES)}) and exists (
          select 1 from contact_scores cs where cs.workspace_id = contacts.workspace_id and cs.model_version = ${version}
            and cs.contact_id = contacts.id and cs.status = 'mql') then 'mql' else stage end,
        updated_at = ${now}
      where workspace_id = ${workspaceId}`.execute(trx);
    return Number(promoted.numAffectedRows ?? 0n);
  });
}
