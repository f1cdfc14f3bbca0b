import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { Database } from '../storage/database-schema.js';

/**
 * Takes the workspace's write lock inside `trx`, before anything is read: on PostgreSQL the advisory lock ingest takes;
 * on SQLite the database's single write lock, taken by a write that changes nothing (a transaction that read first
 * and wrote later could find its snapshot outdated by an ingest commit and fail).
 */
export async function lockWorkspace(trx: Transaction<Database>, workspaceId: string): Promise<void> {
  if (trx.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`select pg_advisory_xact_lock(hashtextextended(${workspaceId}, 0))`.execute(trx);
  } else {
    await sql`update workspaces set name = name where id = ${workspaceId}`.execute(trx);
  }
}
