import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plannerStatistics } from '../../src/storage/postgres/planner-statistics.js';
import { createTestDatabase, type TestDatabase } from '../support/test-storage.js';

/** When PostgreSQL last analyzed each of these tables (null: never). */
async function lastAnalyzed(pool: pg.Pool, tables: string[]): Promise<Record<string, Date | null>> {
  const { rows } = await pool.query<{ relname: string; last_analyze: Date | null }>(
    'SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname = ANY($1)',
    [tables],
  );
  return Object.fromEntries(rows.map((r) => [r.relname, r.last_analyze]));
}

describe('planner statistics of growing tables (PostgreSQL)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    database = await createTestDatabase({}, 'postgres');
    if (database.config.storage.kind !== 'postgres') throw new Error('expected PostgreSQL');
    pool = new pg.Pool({ connectionString: database.config.storage.url, max: 3 });
  });
  afterAll(async () => {
    await pool.end();
    await database.cleanup();
  });

  it('analyzes a table that grew past what the planner knew, leaves one that barely changed, and is one check at a time', async () => {
    // Autovacuum stays out of it, so any analysis is the one under test.
    for (const table of ['grown', 'quiet']) {
      await pool.query(`CREATE TABLE ${table} (id integer PRIMARY KEY) WITH (autovacuum_enabled = false)`);
    }
    // A backend reports its change counts when it ends: write from a client of its own.
    const writer = new pg.Client({ connectionString: (database.config.storage as { url: string }).url });
    await writer.connect();
    await writer.query('INSERT INTO grown SELECT generate_series(1, 5000)');
    await writer.query('INSERT INTO quiet SELECT generate_series(1, 10)');
    await writer.end();

    let clock = 0;
    const statistics = plannerStatistics(pool, () => clock);
    const deadline = Date.now() + 20_000;
    while ((await lastAnalyzed(pool, ['grown']))['grown'] == null && Date.now() < deadline) {
      statistics.afterWrite();
      // A second call while the first check runs starts nothing.
      statistics.afterWrite();
      await statistics.close();
      clock += 1_000;
      await new Promise((r) => setTimeout(r, 200));
    }
    const analyzed = await lastAnalyzed(pool, ['grown', 'quiet']);
    expect(analyzed['grown']).toBeInstanceOf(Date);
    expect(analyzed['quiet']).toBeNull();
    const { rows } = await pool.query<{ reltuples: number }>("SELECT reltuples FROM pg_class WHERE relname = 'grown'");
    expect(rows[0]!.reltuples).toBe(5000);
  });

  it('checks at most once a second', async () => {
    let clock = 10_000;
    let queries = 0;
    // The real pool, its queries counted.
    const counting = new Proxy(pool, {
      get: (target, key) =>
        key === 'query'
          ? (...args: Parameters<pg.Pool['query']>) => {
              queries += 1;
              return target.query(...args);
            }
          : Reflect.get(target, key),
    });
    const statistics = plannerStatistics(counting, () => clock);
    statistics.afterWrite();
    await statistics.close();
    clock += 999;
    statistics.afterWrite();
    await statistics.close();
    expect(queries).toBe(1);
    clock += 1;
    statistics.afterWrite();
    await statistics.close();
    expect(queries).toBe(2);
  });
});
