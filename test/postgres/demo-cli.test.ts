import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kerma } from '../support/run-kerma.js';
import { createTestDatabase, type TestDatabase } from '../support/test-storage.js';

// The demo on PostgreSQL: its pipeline once sent fractional milliseconds, which SQLite stores in a bigint column and
// PostgreSQL refuses.
describe('kerma demo on PostgreSQL (built, run as a user would)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({}, 'postgres');
  });
  afterAll(async () => database.cleanup());

  it('fills a workspace with traffic, scores, sales decisions and deals, and the funnel reports them', () => {
    const demo = kerma(['demo', '--days', '30', '--visitors-per-day', '80', ...database.cliArgs]);
    expect(demo.code, demo.stderr).toBe(0);
    const summary = demo.stdout.match(/(\d+) became MQL; sales accepted (\d+) and rejected (\d+), (\d+) meetings/);
    expect(summary, demo.stdout).not.toBeNull();
    const [mql, accepted, rejected] = summary!.slice(1, 4).map(Number) as [number, number, number];
    expect(mql).toBeGreaterThan(0);
    expect(accepted + rejected).toBeGreaterThan(0);
    const funnel = kerma(['report', 'funnel', '--from', '2000-01-01', '--format', 'json', ...database.cliArgs]);
    expect(funnel.code, funnel.stderr).toBe(0);
    const report = JSON.parse(funnel.stdout) as { total: { mql: number; sql: number } };
    expect(report.total.mql).toBe(mql);
    expect(report.total.sql).toBe(accepted);
  });
});
