import type { Kysely } from 'kysely';
import type { Database } from '../storage/database-schema.js';

const BATCH = 5_000;

/**
 * Deletes a workspace's raw events older than `days` days (by event time), a batch at a time so ingest is never
 * held up for long. Rollups, contacts, scores and stage history stay: reports keep their counts. (Old events are
 * not a person's erasure: the space is left to SQLite's reuse and PostgreSQL's autovacuum.)
 * @example await applyRetention(db, workspaceId, 365, Date.now()) // { deleted: 1234 }
 */
export async function applyRetention(
  db: Kysely<Database>,
  workspaceId: string,
  days: number,
  now: number,
): Promise<{ deleted: number; before: string }> {
  const cutoff = now - days * 86_400_000;
  let deleted = 0;
  for (;;) {
    const ids = await db
      .selectFrom('events')
      .select('message_id')
      .where('workspace_id', '=', workspaceId)
      .where('timestamp', '<', cutoff)
      .limit(BATCH)
      .execute();
    if (ids.length === 0) break;
    const r = await db
      .deleteFrom('events')
      .where('workspace_id', '=', workspaceId)
      .where(
        'message_id',
        'in',
        ids.map((i) => i.message_id),
      )
      .executeTakeFirst();
    deleted += Number(r.numDeletedRows);
  }
  return { deleted, before: new Date(cutoff).toISOString() };
}
