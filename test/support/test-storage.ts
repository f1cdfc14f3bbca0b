import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config.js';

export type TestEngine = 'sqlite' | 'postgres';

export const testEngine: TestEngine = process.env['KERMA_TEST_ENGINE'] === 'postgres' ? 'postgres' : 'sqlite';
const basePostgresUrl = process.env['KERMA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/kerma_test';

export interface TestDatabase {
  config: Config;
  /** The --db / --database-url arguments for a CLI run against this database. */
  cliArgs: string[];
  cleanup(): Promise<void>;
}

/** Refuses any database whose name does not say it is for tests, so a wrong URL can never wipe real data. */
export function assertTestDatabaseName(url: string): string {
  const name = new URL(url).pathname.replace(/^\//, '');
  if (!name.includes('test')) {
    throw new Error(
      `refusing to use database "${name}" for tests: its name must contain "test" (KERMA_TEST_POSTGRES_URL)`,
    );
  }
  return name;
}

/**
 * A fresh, empty database for one test file: a new SQLite file, or a new PostgreSQL database named after
 * KERMA_TEST_POSTGRES_URL's database plus a random suffix (dropped again by cleanup).
 */
export async function createTestDatabase(
  overrides: Partial<Config> = {},
  engine: TestEngine = testEngine,
): Promise<TestDatabase> {
  const base = loadConfig({}, {});
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kerma-test-'));
    const file = join(dir, 'kerma.db');
    return {
      config: { ...base, logLevel: 'silent', ...overrides, storage: { kind: 'sqlite', file } },
      cliArgs: ['--db', file],
      async cleanup() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const baseName = assertTestDatabaseName(basePostgresUrl);
  const name = `${baseName}_${randomBytes(5).toString('hex')}`;
  const admin = new URL(basePostgresUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  const url = new URL(basePostgresUrl);
  url.pathname = `/${name}`;
  return {
    config: { ...base, logLevel: 'silent', ...overrides, storage: { kind: 'postgres', url: url.toString() } },
    cliArgs: ['--database-url', url.toString()],
    async cleanup() {
      assertTestDatabaseName(url.toString());
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
