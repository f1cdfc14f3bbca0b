import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open-storage.js';
import { checkAfterCrashes } from '../support/crash-check.js';
import { createWorkspace, driveLoad, type RunningServer, startServer } from '../support/crash-harness.js';
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
    const ws = await createWorkspace(database.cliArgs);
    let server: RunningServer = await startServer(database.cliArgs);
    const stop = new AbortController();
    const load = driveLoad(() => server.url, ws.writeKey, 'crash', 4, stop.signal);
    for (let kill = 0; kill < KILLS; kill++) {
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 600));
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      server = await startServer(database.cliArgs);
    }
    await new Promise((r) => setTimeout(r, 500));
    stop.abort();
    const result = await load;
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));

    const storage = await openStorage(database.config);
    try {
      const check = await checkAfterCrashes(storage.db, ws.id, result.acked);
      expect(check.acked).toBeGreaterThan(500);
      expect(check.lost).toBe(0);
      expect(check.duplicated).toBe(0);
      expect(check.rollupPageViews).toBe(check.storedPageViews);
    } finally {
      await storage.close();
    }
  }, 120_000);
});
