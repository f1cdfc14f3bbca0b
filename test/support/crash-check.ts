import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../src/storage/database-schema.js';

export interface CrashCheck {
  acked: number;
  lost: number;
  stored: number;
  duplicated: number;
  rollupPageViews: number;
  storedPageViews: number;
}

/** Every acknowledged messageId must be stored exactly once, and the rollups must agree with the stored events. */
export async function checkAfterCrashes(
  db: Kysely<Database>,
  workspaceId: string,
  acked: Set<string>,
): Promise<CrashCheck> {
  const rows = await db.selectFrom('events').select('message_id').where('workspace_id', '=', workspaceId).execute();
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.message_id, (counts.get(r.message_id) ?? 0) + 1);
  let lost = 0;
  for (const id of acked) if (!counts.has(id)) lost++;
  const duplicated = [...counts.values()].filter((n) => n > 1).length;
  const rollup = await db
    .selectFrom('daily_rollups')
    .select(sql<number>`coalesce(sum(page_views), 0)`.as('n'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  const views = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('type', '=', 'page')
    .where('is_bot', '=', 0)
    .executeTakeFirstOrThrow();
  return {
    acked: acked.size,
    lost,
    stored: rows.length,
    duplicated,
    rollupPageViews: Number(rollup.n),
    storedPageViews: Number(views.n),
  };
}
