import { Kysely, SqliteDialect } from 'kysely';
import { KermaError } from '../../errors.js';
import type { Database } from '../database-schema.js';
import { migrateToLatest } from '../migrations.js';
import type { Storage, StorageOptions } from '../storage.js';
import { cacheStatements } from './cache-statements.js';
import { openSqliteConnection } from './open-sqlite-connection.js';
import { createSqliteIngestWriter } from './sqlite-ingest-writer.js';

/** The configured file's first connection: one that cannot be opened is the user's setting, said as such. */
function openUserFile(file: string) {
  try {
    return openSqliteConnection(file);
  } catch (error) {
    throw new KermaError(
      'invalid_config',
      `cannot open the SQLite database "${file}": ${(error as Error).message}; --db (KERMA_DB) must name a Kerma SQLite file, or a new one in an existing folder Kerma can write to`,
    );
  }
}

/**
 * SQLite storage: one file, WAL. Reads go through Kysely on one connection; ingest writes through prepared statements
 * on a second connection, one IMMEDIATE transaction per group commit. (A writer thread was measured and was slower:
 * the insert and commit cost is the limit, and copying events to a thread only added to it.)
 * @example const storage = await openSqliteStorage('./kerma.db', options)
 */
export async function openSqliteStorage(file: string, options: StorageOptions): Promise<Storage> {
  const readerConnection = openUserFile(file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cacheStatements(readerConnection) }) });
  await migrateToLatest(db as Kysely<unknown>);
  const writer = openSqliteConnection(file);
  const write = createSqliteIngestWriter(writer, options);

  return {
    engine: 'sqlite',
    db,
    // An in-memory database is this connection's alone.
    file: file === ':memory:' || file === '' ? null : file,
    bulkScores: null,
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
