import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrashRounds } from '../support/crash-check.js';
import { createTestDatabase, type TestDatabase, testEngine } from '../support/test-storage.js';

// The short CI version of the crash test (bench/crash-durability.ts does 20 kills per engine).
const KILLS = 3;

describe(`SIGKILL during ingest load (${testEngine})`, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.cleanup());

  it(`loses no acknowledged event and duplicates none over ${KILLS} kills`, async () => {
    const check = await runCrashRounds(database, {
      kills: KILLS,
      clients: 4,
      minMs: 400,
      spreadMs: 600,
      prefix: 'crash',
    });
    expect(check.acked).toBeGreaterThan(500);
    expect(check.lost).toBe(0);
    expect(check.duplicated).toBe(0);
    expect(check.rollupPageViews).toBe(check.storedPageViews);
  }, 120_000);
});
