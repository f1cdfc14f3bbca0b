import type pg from 'pg';
import type { IngestPlan } from '../../ingest/plan-ingest.js';
import { compileStoredModel, storedModelCached } from '../../scoring/compile-stored-model.js';
import { needsHistory } from '../../scoring/plan-live-scoring.js';
import {
  collectTouched,
  type HistoryEventRow,
  type LoadedContactScore,
  planBatchScoringRows,
  touchedContacts,
} from '../live-scoring-rows.js';
import { CONTACT_SCORE_COLUMNS } from './contact-score-columns.js';
import { type Column, unnestInsert } from './unnest-insert.js';

// Live scoring writes a contact's state, not a rescore's change logs (a replay clears those below).
const SCORE_COLUMNS = CONTACT_SCORE_COLUMNS.filter(([name]) => name !== 'packed_changes' && name !== 'change_log');
const CHANGE_COLUMNS: Column[] = [
  ['workspace_id', 'text'],
  ['model_version', 'integer'],
  ['contact_id', 'text'],
  ['seq', 'integer'],
  ['rule_id', 'text'],
  ['kind', 'text'],
  ['rule_group', 'text'],
  ['points', 'double precision'],
  ['half_life_days', 'double precision'],
  ['event_id', 'text'],
  ['at', 'bigint'],
];
const OUTBOX_COLUMNS: Column[] = [
  ['workspace_id', 'text'],
  ['id', 'text'],
  ['kind', 'text'],
  ['source_id', 'text'],
  ['contact_id', 'text'],
  ['payload', 'text'],
  ['created_at', 'bigint'],
  ['attempts', 'integer'],
  ['next_at', 'bigint'],
  ['delivered_at', 'bigint'],
];

/**
 * Live scoring on PostgreSQL, inside the ingest transaction (which holds the workspace's advisory lock): the same plan
 * as on SQLite, written with one statement per table.
 */
export function createPostgresLiveScoring() {
  return async (
    client: pg.PoolClient,
    workspaceId: string,
    timeZone: string,
    plan: IngestPlan,
    inserted: Set<string>,
    newContacts: Set<string>,
    now: number,
  ): Promise<void> => {
    const active = await client.query<{ version: number }>(
      'SELECT version FROM scoring_models WHERE workspace_id = $1 AND active = 1',
      [workspaceId],
    );
    const version = active.rows[0]?.version;
    if (version === undefined) return;
    let model = storedModelCached(workspaceId, version);
    if (!model) {
      const source = await client.query<{ source: string }>(
        'SELECT source FROM scoring_models WHERE workspace_id = $1 AND version = $2',
        [workspaceId, version],
      );
      model = compileStoredModel(workspaceId, version, source.rows[0]!.source);
    }
    const summaries = collectTouched(plan, inserted);
    if (summaries.size === 0) return;
    const loaded = await client.query<LoadedContactScore>(
      `SELECT c.id, c.traits, c.stage, cs.state, cs.next_seq FROM contacts c
       LEFT JOIN contact_scores cs ON cs.workspace_id = c.workspace_id AND cs.model_version = $1 AND cs.contact_id = c.id
       WHERE c.workspace_id = $2 AND c.id = ANY($3::text[])`,
      [version, workspaceId, [...summaries.keys()]],
    );
    const touched = touchedContacts(summaries, loaded.rows, now);
    const replay = touched.filter((c) => needsHistory(c, newContacts.has(c.contactId)));
    const historyRows =
      replay.length === 0
        ? []
        : (
            await client.query<HistoryEventRow>(
              `SELECT contact_id, message_id, type, name, path, url, properties, timestamp FROM events
               WHERE workspace_id = $1 AND contact_id = ANY($2::text[]) AND is_bot = 0`,
              [workspaceId, replay.map((c) => c.contactId)],
            )
          ).rows;
    const rows = planBatchScoringRows(model, version, workspaceId, timeZone, touched, replay, historyRows, now);
    if (rows.replaced.length > 0) {
      await client.query(
        'DELETE FROM score_changes WHERE workspace_id = $1 AND model_version = $2 AND contact_id = ANY($3::text[])',
        [workspaceId, version, rows.replaced],
      );
      // A replay rewrites the contact's changes from seq 0 as rows.
      await client.query(
        'UPDATE contact_scores SET packed_changes = NULL, change_log = NULL WHERE workspace_id = $1 AND model_version = $2 AND contact_id = ANY($3::text[])',
        [workspaceId, version, rows.replaced],
      );
    }
    await unnestInsert(
      client,
      'contact_scores',
      SCORE_COLUMNS,
      rows.scores,
      `ON CONFLICT (workspace_id, model_version, contact_id) DO UPDATE SET state = excluded.state, total = excluded.total,
         fit = excluded.fit, engagement = excluded.engagement, grade = excluded.grade, status = excluded.status,
         next_seq = excluded.next_seq, scored_at = excluded.scored_at`,
    );
    if (rows.scores.length > 0) {
      await client.query(
        `UPDATE current_scores c SET score = s.total, fit = s.fit, engagement = s.engagement, grade = s.grade
         FROM unnest($2::text[], $3::double precision[], $4::double precision[], $5::double precision[], $6::text[])
           AS s(id, total, fit, engagement, grade)
         WHERE c.workspace_id = $1 AND c.contact_id = s.id`,
        [
          workspaceId,
          rows.scores.map((r) => r.contact_id),
          rows.scores.map((r) => r.total),
          rows.scores.map((r) => r.fit),
          rows.scores.map((r) => r.engagement),
          rows.scores.map((r) => r.grade),
        ],
      );
    }
    await unnestInsert(client, 'score_changes', CHANGE_COLUMNS, rows.changes, '');
    await unnestInsert(client, 'outbox', OUTBOX_COLUMNS, rows.outbox, '');
    for (const p of rows.promotions) {
      await client.query(
        `INSERT INTO stage_changes (workspace_id, contact_id, seq, from_stage, to_stage, at, source, reason)
         SELECT workspace_id, id, coalesce((SELECT max(seq) FROM stage_changes s WHERE s.workspace_id = c.workspace_id AND s.contact_id = c.id), 0) + 1,
                stage, 'mql', $1, $2, $3 FROM contacts c WHERE workspace_id = $4 AND id = $5`,
        [p.at, 'score', p.reason, workspaceId, p.contactId],
      );
      await client.query("UPDATE contacts SET stage = 'mql' WHERE workspace_id = $1 AND id = $2", [
        workspaceId,
        p.contactId,
      ]);
    }
  };
}
