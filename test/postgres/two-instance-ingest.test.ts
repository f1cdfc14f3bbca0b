import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/seeded-random.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { createWorkspace, type RunningServer, startServer } from '../support/crash-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/test-storage.js';

const CLIENTS = 6;
const BATCHES = 40;
const PER_BATCH = 20;
const VISITORS = 300;

/**
 * Retries across instances: several clients send every batch three times — once, then twice at the same moment to
 * both `kerma serve` processes on one PostgreSQL — and the database ends with each event once and exact rollups.
 */
describe('two kerma serve processes on one PostgreSQL, every batch sent three times from several clients', () => {
  let database: TestDatabase;
  const servers: RunningServer[] = [];
  beforeAll(async () => {
    database = await createTestDatabase({}, 'postgres');
  });
  afterAll(async () => {
    for (const s of servers) s.child.kill('SIGKILL');
    await database.cleanup();
  });

  it(`${CLIENTS * BATCHES * PER_BATCH} events: stored once each, page views and new visitors exact`, async () => {
    const ws = await createWorkspace(database.cliArgs);
    for (let i = 0; i < 2; i++) servers.push(await startServer(database.cliArgs));
    const day = Date.UTC(2026, 9, 5, 8);
    const seen = new Set<number>();
    let accepted = 0;
    let duplicates = 0;
    const statuses: number[] = [];
    const send = async (server: RunningServer, body: string) => {
      const r = await fetch(`${server.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
        body,
      });
      statuses.push(r.status);
      const json = (await r.json()) as { accepted: number; duplicates: number };
      accepted += json.accepted;
      duplicates += json.duplicates;
    };
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const random = seededRandom(c + 1);
        for (let b = 0; b < BATCHES; b++) {
          const batch = Array.from({ length: PER_BATCH }, (_, k) => {
            const visitor = Math.floor(random() * VISITORS);
            seen.add(visitor);
            return {
              type: 'page',
              anonymousId: `v-${visitor}`,
              properties: { path: `/p${k}`, url: `https://example.com/p${k}?utm_source=retry&utm_medium=cpc` },
              timestamp: new Date(day + (c * BATCHES + b) * 1000 + k).toISOString(),
              messageId: `m-${c}-${b}-${k}`,
            };
          });
          const body = JSON.stringify({ batch });
          await send(servers[(c + b) % 2]!, body);
          await Promise.all([send(servers[0]!, body), send(servers[1]!, body)]);
        }
      }),
    );
    const total = CLIENTS * BATCHES * PER_BATCH;
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect({ accepted, duplicates }).toEqual({ accepted: total, duplicates: 2 * total });
    const storage = await openStorage(database.config);
    try {
      const db = storage.db;
      const events = await db
        .selectFrom('events')
        .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.count<string>('message_id').distinct().as('ids')])
        .executeTakeFirstOrThrow();
      expect({ n: Number(events.n), ids: Number(events.ids) }).toEqual({ n: total, ids: total });
      const rollups = await db
        .selectFrom('daily_rollups')
        .select((eb) => [eb.fn.sum<string>('page_views').as('views'), eb.fn.sum<string>('new_visitors').as('visitors')])
        .executeTakeFirstOrThrow();
      expect({ views: Number(rollups.views), visitors: Number(rollups.visitors) }).toEqual({
        views: total,
        visitors: seen.size,
      });
      const visitors = await db
        .selectFrom('visitors')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(visitors.n)).toBe(seen.size);
    } finally {
      await storage.close();
    }
  }, 120_000);
});
