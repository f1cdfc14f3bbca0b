import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open-storage.js';
import { createWorkspace, type RunningServer, startServer } from '../support/crash-harness.js';
import { kerma } from '../support/run-kerma.js';
import { createTestDatabase, type TestDatabase } from '../support/test-storage.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const MODEL = `name: two-instances
half_life_days: null
engagement:
  - id: demo
    when: { event: Demo Requested }
    points: 60
thresholds: { mql: 50 }
triggers:
  - id: hot
    when: { score: { crosses_above: 50 } }
    then: [ { webhook: sales } ]
`;
const LEADS = 200;

describe('two kerma serve processes on one PostgreSQL deliver each trigger once', () => {
  let database: TestDatabase;
  let dir: string;
  const servers: RunningServer[] = [];
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    database = await createTestDatabase({}, 'postgres');
    dir = mkdtempSync(join(tmpdir(), 'kerma-two-'));
  });
  afterAll(async () => {
    for (const s of servers) s.child.kill('SIGKILL');
    await receiver.down();
    await database.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${LEADS} leads crossing the threshold through both instances: ${LEADS} deliveries, each received once`, async () => {
    const ws = await createWorkspace(database.cliArgs);
    const modelFile = join(dir, 'model.yaml');
    writeFileSync(modelFile, MODEL);
    expect(kerma(['model', 'apply', modelFile, ...database.cliArgs]).code).toBe(0);
    // Answers that take a moment, as a real endpoint's do: one instance's pass cannot then drain every delivery
    // between two polls of the other (on a busy machine it did, and the other claimed none; with 25 ms it still did
    // once, while the other test files ran beside it: 200 answers at 8 at a time took well under a second).
    receiver.delayMs = 100;
    await receiver.up();
    const added = kerma(['webhooks', 'add', 'sales', receiver.url, '--json', ...database.cliArgs]);
    expect(added.code, added.stderr).toBe(0);
    receiver.secret = JSON.parse(added.stdout).secret;
    for (let i = 0; i < 2; i++) servers.push(await startServer(database.cliArgs, { KERMA_DELIVERY_INTERVAL_MS: '50' }));

    await Promise.all(
      Array.from({ length: LEADS }, async (_, i) => {
        const server = servers[i % 2]!;
        const r = await fetch(`${server.url}/v1/batch`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
          body: JSON.stringify({
            batch: [{ type: 'track', userId: `lead-${i}`, event: 'Demo Requested', messageId: `two-${i}` }],
          }),
        });
        expect(r.status).toBe(200);
      }),
    );
    const until = Date.now() + 30_000;
    while (receiver.received.length < LEADS && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    // Time for any duplicate to show up.
    await new Promise((r) => setTimeout(r, 1000));

    expect(receiver.rejected).toEqual([]);
    expect(receiver.received).toHaveLength(LEADS);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(LEADS);
    expect(new Set(receiver.received.map((r) => r.body.data.contactId)).size).toBe(LEADS);
    const storage = await openStorage(database.config);
    try {
      const deliveries = await storage.db.selectFrom('deliveries').select(['status', 'attempts']).execute();
      expect(deliveries).toHaveLength(LEADS);
      expect(deliveries.every((d) => d.status === 'delivered' && Number(d.attempts) === 1)).toBe(true);
      const workers = await storage.db.selectFrom('delivery_attempts').select('worker').distinct().execute();
      expect(workers).toHaveLength(2);
    } finally {
      await storage.close();
    }
  });
});
