import type BetterSqlite3 from 'better-sqlite3';
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

/**
 * Live scoring on SQLite, inside the ingest transaction: loads the touched contacts' running scores, replays the few
 * that need their full history, and writes scores, explanations, trigger outbox rows and MQL promotions.
 */
export function createSqliteLiveScoring(writer: BetterSqlite3.Database) {
  const selActive = writer.prepare('SELECT version FROM scoring_models WHERE workspace_id = ? AND active = 1');
  const selSource = writer.prepare('SELECT source FROM scoring_models WHERE workspace_id = ? AND version = ?').pluck();
  const selContacts = writer.prepare(
    `SELECT c.id, c.traits, c.stage, cs.state, cs.next_seq FROM contacts c
     LEFT JOIN contact_scores cs ON cs.workspace_id = c.workspace_id AND cs.model_version = ? AND cs.contact_id = c.id
     WHERE c.workspace_id = ? AND c.id IN (SELECT value FROM json_each(?))`,
  );
  const selHistory = writer.prepare(
    `SELECT contact_id, message_id, type, name, path, url, properties, timestamp FROM events
     WHERE workspace_id = ? AND contact_id IN (SELECT value FROM json_each(?)) AND is_bot = 0`,
  );
  const upScore = writer.prepare(
    `INSERT INTO contact_scores (workspace_id, model_version, contact_id, state, total, fit, engagement, grade, status, next_seq, scored_at)
     VALUES (@workspace_id, @model_version, @contact_id, @state, @total, @fit, @engagement, @grade, @status, @next_seq, @scored_at)
     ON CONFLICT (workspace_id, model_version, contact_id) DO UPDATE SET state = excluded.state, total = excluded.total,
       fit = excluded.fit, engagement = excluded.engagement, grade = excluded.grade, status = excluded.status,
       next_seq = excluded.next_seq, scored_at = excluded.scored_at`,
  );
  const delChanges = writer.prepare(
    'DELETE FROM score_changes WHERE workspace_id = ? AND model_version = ? AND contact_id = ?',
  );
  const clearPacked = writer.prepare(
    'UPDATE contact_scores SET packed_changes = NULL, change_log = NULL WHERE workspace_id = ? AND model_version = ? AND contact_id = ?',
  );
  const insChange = writer.prepare(
    `INSERT INTO score_changes (workspace_id, model_version, contact_id, seq, rule_id, kind, rule_group, points, half_life_days, event_id, at)
     VALUES (@workspace_id, @model_version, @contact_id, @seq, @rule_id, @kind, @rule_group, @points, @half_life_days, @event_id, @at)`,
  );
  const insOutbox = writer.prepare(
    `INSERT INTO outbox (workspace_id, id, kind, source_id, contact_id, payload, created_at, attempts, next_at, delivered_at)
     VALUES (@workspace_id, @id, @kind, @source_id, @contact_id, @payload, @created_at, @attempts, @next_at, @delivered_at)`,
  );
  const updContact = writer.prepare(
    'UPDATE current_scores SET score = ?, fit = ?, engagement = ?, grade = ? WHERE workspace_id = ? AND contact_id = ?',
  );
  const insStage = writer.prepare(
    `INSERT INTO stage_changes (workspace_id, contact_id, seq, from_stage, to_stage, at, source, reason)
     SELECT workspace_id, id, coalesce((SELECT max(seq) FROM stage_changes s WHERE s.workspace_id = c.workspace_id AND s.contact_id = c.id), 0) + 1,
            stage, 'mql', ?, ?, ? FROM contacts c WHERE workspace_id = ? AND id = ?`,
  );
  const promote = writer.prepare("UPDATE contacts SET stage = 'mql' WHERE workspace_id = ? AND id = ?");

  return (
    workspaceId: string,
    timeZone: string,
    plan: IngestPlan,
    inserted: Set<string>,
    newContacts: Set<string>,
    now: number,
  ): void => {
    const active = selActive.get(workspaceId) as { version: number } | undefined;
    if (!active) return;
    const version = active.version;
    const model =
      storedModelCached(workspaceId, version) ??
      compileStoredModel(workspaceId, version, selSource.get(workspaceId, version) as string);
    const summaries = collectTouched(plan, inserted);
    if (summaries.size === 0) return;
    const loaded = selContacts.all(version, workspaceId, JSON.stringify([...summaries.keys()])) as LoadedContactScore[];
    const touched = touchedContacts(summaries, loaded, now);
    const replay = touched.filter((c) => needsHistory(c, newContacts.has(c.contactId)));
    const historyRows =
      replay.length === 0
        ? []
        : (selHistory.all(workspaceId, JSON.stringify(replay.map((c) => c.contactId))) as HistoryEventRow[]);
    const rows = planBatchScoringRows(model, version, workspaceId, timeZone, touched, replay, historyRows, now);
    // A replay rewrites the contact's changes from seq 0 as rows.
    for (const id of rows.replaced) {
      delChanges.run(workspaceId, version, id);
      clearPacked.run(workspaceId, version, id);
    }
    for (const row of rows.scores) {
      upScore.run(row);
      updContact.run(row.total, row.fit, row.engagement, row.grade, workspaceId, row.contact_id);
    }
    for (const row of rows.changes) insChange.run(row);
    for (const row of rows.outbox) insOutbox.run(row);
    for (const p of rows.promotions) {
      insStage.run(p.at, 'score', p.reason, workspaceId, p.contactId);
      promote.run(workspaceId, p.contactId);
    }
  };
}
