import type { Kysely } from 'kysely';
import { explainScore } from '../scoring/explain-score.js';
import { recordedChanges } from '../scoring/recorded-changes.js';
import { decodeScoreState } from '../scoring/score-state-codec.js';
import type { Database } from '../storage/database-schema.js';
import { activeModel } from './active-model.js';
import { nameChangeEvents } from './name-change-events.js';

export interface ContactScoreView {
  total: number;
  fit: number;
  engagement: number;
  grade: string;
  status: string;
  at: string;
  model: { name: string; version: number };
  contributions: Array<{ ruleId: string; kind: string; points: number; decayed: number; eventId?: string; at: string }>;
}

export type ContactScoreResult =
  | { ok: true; score: ContactScoreView }
  | { ok: false; reason: 'no_contact' | 'no_model' };

/**
 * A contact's score at `at` under the active model, with every contribution (decayed to `at`) that adds up to it.
 * @example await contactScore(db, workspaceId, contactId, Date.parse('2026-03-01'))
 */
export async function contactScore(
  db: Kysely<Database>,
  workspaceId: string,
  contactId: string,
  at: number,
): Promise<ContactScoreResult> {
  const contact = await db
    .selectFrom('contacts')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', contactId)
    .executeTakeFirst();
  if (!contact) return { ok: false, reason: 'no_contact' };
  const active = await activeModel(db, workspaceId);
  if (!active) return { ok: false, reason: 'no_model' };
  const [stateRow, changes] = await Promise.all([
    db
      .selectFrom('contact_scores')
      .select(['state', 'packed_changes', 'change_log'])
      .where('workspace_id', '=', workspaceId)
      .where('model_version', '=', active.version)
      .where('contact_id', '=', contactId)
      .executeTakeFirst(),
    db
      .selectFrom('score_changes')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('model_version', '=', active.version)
      .where('contact_id', '=', contactId)
      .orderBy('seq')
      .execute(),
  ]);
  const state = stateRow ? decodeScoreState(stateRow.state) : null;
  // A rescore's changes come packed, their events named here; live scoring's rows follow them.
  const recorded = stateRow
    ? await nameChangeEvents(db, workspaceId, contactId, active.model, recordedChanges(stateRow))
    : [];
  const explained = explainScore(
    active.model,
    recorded.concat(
      changes.map((c) => ({
        ruleId: c.rule_id,
        kind: c.kind as 'fit' | 'engagement',
        group: c.rule_group,
        points: c.points,
        halfLifeDays: c.half_life_days,
        eventId: c.event_id,
        at: Number(c.at),
      })),
    ),
    at,
    state?.category != null,
  );
  return {
    ok: true,
    score: {
      total: explained.total,
      fit: explained.fit,
      engagement: explained.engagement,
      grade: explained.grade,
      status: explained.status,
      at: new Date(at).toISOString(),
      model: { name: active.model.name, version: active.version },
      contributions: explained.contributions.map((c) => ({
        ruleId: c.ruleId,
        kind: c.kind,
        points: c.points,
        decayed: c.decayed,
        ...(c.eventId ? { eventId: c.eventId } : {}),
        at: new Date(c.at).toISOString(),
      })),
    },
  };
}
