import type { Kysely } from 'kysely';
import { assignChangeEvents, unnamedChangeTimes } from '../scoring/assign-change-events.js';
import type { ScoreChange, ScoringEvent } from '../scoring/scoring-event.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { Database } from '../storage/database-schema.js';
import { scoringEventFromRow } from '../storage/live-scoring-rows.js';

// Times per lookup: well inside both engines' limits on bound values.
const TIMES_PER_QUERY = 500;

/**
 * A contact's recorded changes with the event behind each engagement change named (`assignChangeEvents`), looking up
 * only the contact's events at the times of changes recorded without one: those of a full rescore's change log.
 * @example await nameChangeEvents(db, workspaceId, contactId, model, recordedChanges(row))
 */
export async function nameChangeEvents(
  db: Kysely<Database>,
  workspaceId: string,
  contactId: string,
  model: ScoringModel,
  changes: ScoreChange[],
): Promise<ScoreChange[]> {
  const times = unnamedChangeTimes(changes);
  if (times.length === 0) return changes;
  const events: ScoringEvent[] = [];
  for (let i = 0; i < times.length; i += TIMES_PER_QUERY) {
    const rows = await db
      .selectFrom('events')
      .select(['message_id', 'type', 'name', 'path', 'url', 'properties', 'timestamp'])
      .where('workspace_id', '=', workspaceId)
      .where('contact_id', '=', contactId)
      .where('timestamp', 'in', times.slice(i, i + TIMES_PER_QUERY))
      .where('is_bot', '=', 0)
      .execute();
    for (const row of rows) events.push(scoringEventFromRow(row));
  }
  return assignChangeEvents(model, changes, events);
}
