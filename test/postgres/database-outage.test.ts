import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open-storage.js';
import { checkAfterCrashes } from '../support/crash-check.js';
import { createWorkspace, driveLoad, type RunningServer, startServer } from '../support/crash-harness.js';
import { type CuttableProxy, cuttableProxy } from '../support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/test-storage.js';

describe('PostgreSQL outage during ingest', () => {
  let database: TestDatabase;
  let proxy: CuttableProxy;
  let server: RunningServer;
  beforeAll(async () => {
    database = await createTestDatabase({}, 'postgres');
    const url = new URL((database.config.storage as { url: string }).url);
    proxy = await cuttableProxy(url.hostname, Number(url.port || 5432));
    url.host = `127.0.0.1:${proxy.port}`;
    database.cliArgs = ['--database-url', url.toString()];
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await proxy.close();
    await database.cleanup();
  });

  it('answers 503 with Retry-After while the database is away, recovers by itself, loses nothing acknowledged', async () => {
    const ws = await createWorkspace(database.cliArgs);
    server = await startServer(database.cliArgs);
    const send = () =>
      fetch(`${server.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
        body: JSON.stringify({
          batch: [{ type: 'track', event: 'Probe', userId: 'probe', messageId: `probe-${Math.random()}` }],
        }),
      });
    expect((await send()).status).toBe(200);

    const stop = new AbortController();
    const load = driveLoad(() => server.url, ws.writeKey, 'outage', 4, stop.signal);
    await new Promise((r) => setTimeout(r, 700));
    proxy.cut();
    await new Promise((r) => setTimeout(r, 300));
    const during = await send().catch((error: Error) => {
      throw new Error(`${error.message}; server stderr:\n${server.stderr()}`);
    });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await during.json()) as { error: { message: string } }).error.message).toMatch(/nothing was saved/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    await new Promise((r) => setTimeout(r, 1500));
    proxy.restore();

    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      recovered = (await send()).status === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    stop.abort();
    const result = await load;
    expect(result.failed).toBeGreaterThan(0);

    const storage = await openStorage(database.config);
    try {
      const check = await checkAfterCrashes(storage.db, ws.id, result.acked);
      expect(check.lost).toBe(0);
      expect(check.duplicated).toBe(0);
      expect(check.rollupPageViews).toBe(check.storedPageViews);
    } finally {
      await storage.close();
    }
  }, 60_000);
});
