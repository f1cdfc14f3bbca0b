import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../src/storage/database-schema.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { createWorkspace, driveLoad, type RunningServer, startServer } from './crash-harness.js';
import type { TestDatabase } from './test-storage.js';

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

export interface CrashRounds {
  kills: number;
  clients: number;
  /** Milliseconds of load before each kill: from `minMs` up to `minMs + spreadMs`. */
  minMs: number;
  spreadMs: number;
  prefix: string;
  onKill?: (kill: number) => void;
}

/**
 * Runs `kerma serve` on `database` under load, SIGKILLs and restarts it `kills` times, stops the load, then checks
 * every acknowledged messageId. The CI test and `npm run bench:crash` both run this.
 */
export async function runCrashRounds(database: TestDatabase, rounds: CrashRounds) {
  const ws = await createWorkspace(database.cliArgs);
  let server: RunningServer = await startServer(database.cliArgs);
  const stop = new AbortController();
  const load = driveLoad(() => server.url, ws.writeKey, rounds.prefix, rounds.clients, stop.signal);
  for (let kill = 1; kill <= rounds.kills; kill++) {
    await new Promise((r) => setTimeout(r, rounds.minMs + Math.random() * rounds.spreadMs));
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    rounds.onKill?.(kill);
    server = await startServer(database.cliArgs);
  }
  await new Promise((r) => setTimeout(r, 500));
  stop.abort();
  const result = await load;
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  const storage = await openStorage(database.config);
  try {
    return { sent: result.sent, ...(await checkAfterCrashes(storage.db, ws.id, result.acked)) };
  } finally {
    await storage.close();
  }
}
