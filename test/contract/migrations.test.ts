import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateTo, migrateToLatest } from '../../src/storage/migrations.js';
import { createTestDatabase, type TestDatabase, testEngine } from '../support/test-storage.js';

/** The test database without the storage around it, which would bring it to the newest schema on opening. */
function unmigrated(database: TestDatabase): Kysely<unknown> {
  const storage = database.config.storage;
  return new Kysely<unknown>({
    dialect:
      storage.kind === 'sqlite'
        ? new SqliteDialect({ database: new BetterSqlite3(storage.file) })
        : new PostgresDialect({ pool: new pg.Pool({ connectionString: storage.url }) }),
  });
}

describe(`migration 0016, current scores in a table of their own (${testEngine})`, () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = unmigrated(database);
  });

  afterAll(async () => {
    await db.destroy();
    await database.cleanup();
  });

  const contact = (id: string, columns: string, values: unknown[]) =>
    sql`insert into contacts (workspace_id, id, traits, created_at, updated_at, last_seen_at${sql.raw(columns)})
      values ('ws', ${id}, '{}', 1, 1, 1${sql.join(
        values.map((v) => sql`, ${v}`),
        sql``,
      )})`.execute(db);
  const current = async () =>
    (
      await sql<{ contact_id: string; score: number; fit: number; engagement: number; grade: string | null }>`
        select contact_id, score, fit, engagement, grade from current_scores order by contact_id`.execute(db)
    ).rows.map((r) => ({ ...r, score: Number(r.score), fit: Number(r.fit), engagement: Number(r.engagement) }));

  it("moves every contact's score out of contacts, and keeps a row per contact after", async () => {
    await migrateTo(db, '0015-binary-score-state');
    await contact('c1', ', score, fit, engagement, grade', [42.5, 30, 12.5, 'A2']);
    await contact('c2', '', []);
    await migrateToLatest(db);
    expect(await current()).toEqual([
      { contact_id: 'c1', score: 42.5, fit: 30, engagement: 12.5, grade: 'A2' },
      { contact_id: 'c2', score: 0, fit: 0, engagement: 0, grade: null },
    ]);
    const columns =
      testEngine === 'sqlite'
        ? (await sql<{ name: string }>`select name from pragma_table_info('contacts')`.execute(db)).rows
        : (
            await sql<{ name: string }>`
              select column_name as name from information_schema.columns where table_name = 'contacts'`.execute(db)
          ).rows;
    expect(columns.map((c) => c.name)).not.toContain('score');
    expect(columns.map((c) => c.name)).not.toContain('grade');
    // Whatever code makes or deletes a contact, its current score comes and goes with it.
    await contact('c3', '', []);
    await sql`delete from contacts where id = 'c1'`.execute(db);
    expect((await current()).map((r) => r.contact_id)).toEqual(['c2', 'c3']);
  });
});

describe(`migration 0017, contact deletions counted per workspace (${testEngine})`, () => {
  let database: TestDatabase;
  let db: Kysely<unknown>;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = unmigrated(database);
    await migrateToLatest(db);
  });

  afterAll(async () => {
    await db.destroy();
    await database.cleanup();
  });

  it('counts every contact deleted, by whatever statement, in its own workspace only', async () => {
    for (const ws of ['w1', 'w2']) {
      await sql`insert into workspaces (id, name, time_zone, currency, created_at)
        values (${ws}, ${ws}, 'UTC', 'EUR', 1)`.execute(db);
      for (const id of ['a', 'b', 'c'])
        await sql`insert into contacts (workspace_id, id, traits, created_at, updated_at, last_seen_at)
          values (${ws}, ${id}, '{}', 1, 1, 1)`.execute(db);
    }
    const deleted = async () =>
      (
        await sql<{ id: string; n: number | string }>`
          select id, contacts_deleted as n from workspaces order by id`.execute(db)
      ).rows.map((r) => [r.id, Number(r.n)]);
    expect(await deleted()).toEqual([
      ['w1', 0],
      ['w2', 0],
    ]);
    await sql`delete from contacts where workspace_id = 'w1' and id in ('a', 'b')`.execute(db);
    await sql`delete from contacts where workspace_id = 'w1' and id = 'c'`.execute(db);
    await sql`delete from contacts where workspace_id = 'w1'`.execute(db);
    expect(await deleted()).toEqual([
      ['w1', 3],
      ['w2', 0],
    ]);
  });
});
