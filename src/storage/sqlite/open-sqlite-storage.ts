import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../database-schema.js';
import { migrateToLatest } from '../migrations.js';
import type { Storage, StorageOptions } from '../storage.js';
import { createSqliteIngestWriter } from './sqlite-ingest-writer.js';

function openConnection(file: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  // FULL: every commit's WAL frame is fsynced, so an acknowledged event survives power loss, not just a crash.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 15000');
  db.pragma('foreign_keys = ON');
  // Deleted content is overwritten with zeros, so an erased person cannot be read back from free pages.
  db.pragma('secure_delete = ON');
  db.pragma('cache_size = -65536');
  // Pages are read through a memory map of up to 2 GB (SQLite's default ceiling) instead of a read call each: reading
  // 5,000,000 events by contact went from 23.8 s to 17.7 s, system time from 6.4 s to 1.0 s (bench/RESULTS.md).
  db.pragma('mmap_size = 2147418112');
  db.pragma('wal_autocheckpoint = 8000');
  return db;
}

/**
 * SQLite storage: one file, WAL. Reads go through Kysely on one connection; ingest writes through prepared statements
 * on a second connection, one IMMEDIATE transaction per group commit. (A writer thread was measured and was slower:
 * the insert and commit cost is the limit, and copying events to a thread only added to it.)
 * @example const storage = await openSqliteStorage('./kerma.db', options)
 */
export async function openSqliteStorage(file: string, options: StorageOptions): Promise<Storage> {
  const readerConnection = openConnection(file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: readerConnection }) });
  await migrateToLatest(db as Kysely<unknown>);
  const writer = openConnection(file);
  const write = createSqliteIngestWriter(writer, options);

  return {
    engine: 'sqlite',
    db,
    async ingest(batches) {
      return write(batches);
    },
    async ping() {
      try {
        readerConnection.prepare('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await db.destroy();
      writer.close();
    },
  };
}
