import BetterSqlite3 from 'better-sqlite3';

/**
 * A connection to a Kerma SQLite file with the settings every connection to it uses: the storage's own and those
 * other threads open to read (a rescore's workers).
 * @example const db = openSqliteConnection('./kerma.db', { fileMustExist: true })
 */
export function openSqliteConnection(file: string, options: BetterSqlite3.Options = {}): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, options);
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
