import type { Kysely } from 'kysely';
import { PRE_MQL_STAGES } from '../lifecycle/stages.js';
import type { ContactScoreUpdate } from '../scoring/plan-live-scoring.js';
import { emptyOutput, observe } from '../scoring/score-contact.js';
import { decodeScoreState } from '../scoring/score-state-codec.js';
import type { Database } from '../storage/database-schema.js';
import { scoreUpdateRows } from '../storage/live-scoring-rows.js';
import { activeModel } from './active-model.js';
import { lockWorkspace } from './lock-workspace.js';

export interface RefreshResult {
  checked: number;
  updated: number;
  firings: number;
  promoted: number;
}

const PAGE = 1_000;
/** Score movements smaller than this are not worth a write; reads decay exactly anyway. */
const EPSILON = 0.005;

/**
 * The periodic decay pass: brings every stored score of the active model to `now`, so lists sorted by score, grades
 * and statuses stay right without rewriting every contact every day, and fires what decay crossed (a score falling
 * below a threshold, a grade entered, a negative award fading into MQL). Each page runs in one transaction under the
 * workspace write lock, so it never races live scoring, and a second server running the same pass fires nothing twice.
 * @example await refreshDecayedScores(db, workspaceId, Date.now())
 */
export async function refreshDecayedScores(
  db: Kysely<Database>,
  workspaceId: string,
  now: number,
): Promise<RefreshResult> {
  const result: RefreshResult = { checked: 0, updated: 0, firings: 0, promoted: 0 };
  const active = await activeModel(db, workspaceId);
  if (!active) return result;
  const { model, version } = active;
  let after = '';
  for (;;) {
    const done = await db.transaction().execute(async (trx) => {
      await lockWorkspace(trx, workspaceId);
      const rows = await trx
        .selectFrom('contact_scores as cs')
        .innerJoin('contacts as c', (j) =>
          j.onRef('c.workspace_id', '=', 'cs.workspace_id').onRef('c.id', '=', 'cs.contact_id'),
        )
        .select(['cs.contact_id', 'cs.state', 'cs.total', 'cs.grade', 'cs.status', 'cs.next_seq', 'c.stage'])
        .where('cs.workspace_id', '=', workspaceId)
        .where('cs.model_version', '=', version)
        .where('cs.contact_id', '>', after)
        .orderBy('cs.contact_id')
        .limit(PAGE)
        .execute();
      if (rows.length === 0) return true;
      after = rows[rows.length - 1]!.contact_id;
      const updates: ContactScoreUpdate[] = [];
      for (const row of rows) {
        result.checked++;
        const state = decodeScoreState(row.state);
        if (state.buckets.length === 0) continue;
        const out = emptyOutput();
        const reading = observe(model, state, now, null, out);
        const moved =
          Math.abs(reading.total - row.total) > EPSILON || reading.grade !== row.grade || reading.status !== row.status;
        if (!moved && out.firings.length === 0) continue;
        const promoted = out.statusChanges.some((s) => s.to === 'mql') && PRE_MQL_STAGES.includes(row.stage);
        updates.push({
          contactId: row.contact_id,
          state,
          nextSeq: row.next_seq,
          total: reading.total,
          fit: reading.fit,
          engagement: reading.engagement,
          grade: reading.grade,
          status: reading.status,
          replaced: false,
          changes: [],
          firings: out.firings,
          promotedAt: promoted ? now : null,
        });
      }
      if (updates.length === 0) return false;
      const writes = scoreUpdateRows(model, workspaceId, version, updates, now);
      for (const s of writes.scores) {
        // scored_at stays: it marks live changes, which a model switch replays.
        await trx
          .updateTable('contact_scores')
          .set({
            state: s.state,
            total: s.total,
            fit: s.fit,
            engagement: s.engagement,
            grade: s.grade,
            status: s.status,
          })
          .where('workspace_id', '=', workspaceId)
          .where('model_version', '=', version)
          .where('contact_id', '=', s.contact_id)
          .execute();
        await trx
          .updateTable('current_scores')
          .set({ score: s.total, fit: s.fit, engagement: s.engagement, grade: s.grade })
          .where('workspace_id', '=', workspaceId)
          .where('contact_id', '=', s.contact_id)
          .execute();
      }
      if (writes.outbox.length > 0) await trx.insertInto('outbox').values(writes.outbox).execute();
      for (const p of writes.promotions) {
        const last = await trx
          .selectFrom('stage_changes')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .where('workspace_id', '=', workspaceId)
          .where('contact_id', '=', p.contactId)
          .executeTakeFirst();
        await trx
          .insertInto('stage_changes')
          .values({
            workspace_id: workspaceId,
            contact_id: p.contactId,
            seq: Number(last?.seq ?? 0) + 1,
            from_stage: rows.find((r) => r.contact_id === p.contactId)!.stage,
            to_stage: 'mql',
            at: p.at,
            source: 'score',
            reason: p.reason,
          })
          .execute();
        await trx
          .updateTable('contacts')
          .set({ stage: 'mql' })
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', p.contactId)
          .execute();
      }
      result.updated += updates.length;
      result.firings += writes.outbox.length;
      result.promoted += writes.promotions.length;
      return false;
    });
    if (done) return result;
  }
}
