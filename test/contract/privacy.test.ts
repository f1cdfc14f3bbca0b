import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../../src/privacy/apply-retention.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const EMAIL = 'zelda.quintessa@example.com';
const NAME = ['Zelda', 'Quintessa'];
const PHONE = '+4915123456789';
const IP = '203.0.113.77';
const NEEDLES = [EMAIL, ...NAME, PHONE, '15123456789', IP];

const MODEL = `name: privacy
fit:
  - id: has-phone
    when: { trait: phone, exists: true }
    points: 60
thresholds: { mql: 50 }
triggers:
  - id: hot
    when: { score: { crosses_above: 50 } }
    then: [ { webhook: sales } ]
`;

/** Every row of every table as text: what a dump of the database would show. */
async function dumpDatabase(t: TestApp): Promise<string> {
  const db = t.runtime.storage.db;
  const tables =
    t.runtime.storage.engine === 'postgres'
      ? (
          await sql<{
            name: string;
          }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(db)
        ).rows
      : (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows;
  let out = '';
  for (const { name } of tables) {
    const rows = (await sql`select * from ${sql.table(name)}`.execute(db)).rows;
    out += `${name}\n${JSON.stringify(rows)}\n`;
  }
  return out;
}

describe(`privacy: consent, export, erase that leaves nothing, retention (${testEngine})`, () => {
  let t: TestApp;
  let contactId: string;
  beforeAll(async () => {
    t = await createTestApp({ keepFullIp: true });
    await t.applyModel(MODEL);
    await t.api('POST', '/api/webhooks', { name: 'sales', url: 'http://127.0.0.1:9/hook' });
    const at = Date.now() - 3_600_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const ctx = { ip: IP, page: { url: `https://example.com/?utm_source=newsletter&email=${EMAIL}` } };
    const sent = await t.sendBatch([
      {
        type: 'page',
        anonymousId: 'anon-zelda',
        properties: { path: '/', url: ctx.page.url },
        context: ctx,
        timestamp: iso(at),
        messageId: 'z-1',
      },
      {
        type: 'page',
        anonymousId: 'anon-zelda',
        properties: { path: '/pricing' },
        context: { ip: IP },
        timestamp: iso(at + 60_000),
        messageId: 'z-2',
      },
      {
        type: 'identify',
        anonymousId: 'anon-zelda',
        userId: 'zelda-1',
        traits: { email: EMAIL, first_name: NAME[0], last_name: NAME[1], phone: PHONE },
        context: { ip: IP },
        timestamp: iso(at + 120_000),
        messageId: 'z-3',
      },
      {
        type: 'track',
        userId: 'zelda-1',
        event: 'Demo Requested',
        properties: { note: `call ${NAME.join(' ')} on ${PHONE}` },
        context: { ip: IP },
        timestamp: iso(at + 180_000),
        messageId: 'z-4',
      },
      {
        type: 'identify',
        userId: 'other-1',
        anonymousId: 'anon-other',
        traits: { email: 'someone.else@example.com' },
        context: { ip: '198.51.100.9' },
        timestamp: iso(at),
        messageId: 'o-1',
      },
      {
        type: 'page',
        anonymousId: 'anon-other',
        properties: { path: '/' },
        context: { ip: '198.51.100.9' },
        timestamp: iso(at),
        messageId: 'o-2',
      },
    ]);
    expect(sent.statusCode, sent.body).toBe(200);
    contactId = (await t.read<{ contacts: Array<{ id: string }> }>(`/api/contacts?email=${EMAIL}`)).contacts[0]!.id;
    const crm = await t.api('POST', '/api/crm/stages', {
      email: EMAIL,
      stage: 'sql',
      owner: 'rep@sales.example',
      reason: `qualified ${NAME[0]}`,
    });
    expect(crm.statusCode, crm.body).toBe(200);
    // A delivery with an attempt that failed, as the worker leaves them (its payload names the person).
    const db = t.runtime.storage.db;
    const outbox = await db
      .selectFrom('outbox')
      .select(['id', 'payload'])
      .where('contact_id', '=', contactId)
      .execute();
    expect(outbox.length).toBeGreaterThan(0);
    await db
      .insertInto('deliveries')
      .values({
        workspace_id: t.workspaceId,
        id: `${outbox[0]!.id}.0`,
        outbox_id: outbox[0]!.id,
        channel: 'webhook',
        target: 'sales',
        contact_id: contactId,
        payload: JSON.stringify({ email: EMAIL }),
        status: 'failed',
        attempts: 1,
        next_at: 0,
        lease_until: null,
        claimed_by: null,
        last_error: `refused for ${EMAIL}`,
        created_at: Date.now(),
        delivered_at: null,
      })
      .execute();
    await db
      .insertInto('delivery_attempts')
      .values({
        workspace_id: t.workspaceId,
        delivery_id: `${outbox[0]!.id}.0`,
        attempt: 1,
        at: Date.now(),
        status_code: null,
        error: `ECONNREFUSED ${EMAIL}`,
        duration_ms: 3,
        worker: 'w',
      })
      .execute();
  });
  afterAll(async () => t.close());

  it('records consent per contact and purpose, with its history; marketing consent sets the trait email follows', async () => {
    const given = await t.api('POST', `/api/privacy/contacts/${contactId}/consent`, {
      purpose: 'marketing',
      granted: true,
      source: 'form',
    });
    expect(given.statusCode, given.body).toBe(201);
    const withdrawn = await t.api('POST', `/api/privacy/contacts/${contactId}/consent`, {
      purpose: 'analytics',
      granted: false,
    });
    expect(withdrawn.json()).toMatchObject({ purpose: 'analytics', granted: false, seq: 2 });
    const contact = await t.read<{ traits: Record<string, unknown> }>(`/api/contacts/${contactId}`);
    expect(contact.traits['marketing_consent']).toBe(true);
    const bad = await t.api('POST', `/api/privacy/contacts/${contactId}/consent`, {
      purpose: 'Marketing!',
      granted: 'yes',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/purpose: a purpose is a lower-case word/);
    expect(
      (await t.api('POST', '/api/privacy/contacts/c_nobody/consent', { purpose: 'marketing', granted: true }))
        .statusCode,
    ).toBe(404);
  });

  it('exports everything held on the person as JSON', async () => {
    const r = await t.api('GET', `/api/privacy/contacts/${contactId}/export`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-disposition']).toMatch(/attachment; filename="kerma-contact-/);
    const data = r.json() as {
      contact: { email: string };
      identities: Array<{ kind: string; value: string }>;
      events: Array<{ messageId: string; ip: string }>;
      stageChanges: unknown[];
      consents: Array<{ purpose: string; granted: boolean }>;
      outbox: unknown[];
      deliveries: unknown[];
      deliveryAttempts: unknown[];
    };
    expect(data.contact.email).toBe(EMAIL);
    expect(data.identities.map((i) => i.kind).sort()).toEqual(['anonymous', 'email', 'user']);
    expect(data.events.map((e) => e.messageId).sort()).toEqual(['z-1', 'z-2', 'z-3', 'z-4']);
    expect(data.events[0]!.ip).toBe(IP);
    expect(data.stageChanges.length).toBeGreaterThan(0);
    expect(data.consents).toEqual([
      expect.objectContaining({ purpose: 'marketing', granted: true }),
      expect.objectContaining({ purpose: 'analytics', granted: false }),
    ]);
    expect(data.outbox.length).toBeGreaterThan(0);
    expect(data.deliveries).toHaveLength(1);
    expect(data.deliveryAttempts).toHaveLength(1);
  });

  it('erases the person: a dump of the whole database finds no email, name, phone or IP; rollup counts stay', async () => {
    const before = await dumpDatabase(t);
    for (const needle of NEEDLES) expect(before, needle).toContain(needle);
    const rollups = async () =>
      t.runtime.storage.db
        .selectFrom('daily_rollups')
        .select((eb) => [
          eb.fn.sum<number>('page_views').as('views'),
          eb.fn.sum<number>('new_visitors').as('visitors'),
          eb.fn.sum<number>('new_contacts').as('contacts'),
        ])
        .executeTakeFirstOrThrow();
    const counts = await rollups();
    const fileBytes = () => {
      if (t.runtime.config.storage.kind !== 'sqlite') return null;
      const file = t.runtime.config.storage.file;
      return Buffer.concat([readFileSync(file), ...(existsSync(`${file}-wal`) ? [readFileSync(`${file}-wal`)] : [])]);
    };
    expect(fileBytes()?.includes(Buffer.from(EMAIL)) ?? true).toBe(true);
    const r = await t.api('DELETE', `/api/privacy/contacts/${contactId}`);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().rows).toMatchObject({
      contact: 1,
      identities: 3,
      events: 4,
      deliveries: 1,
      deliveryAttempts: 1,
      consents: 2,
    });
    const after = await dumpDatabase(t);
    const hits = NEEDLES.filter((n) => after.includes(n));
    expect(hits).toEqual([]);
    expect(after).toContain('someone.else@example.com');
    expect(await rollups()).toEqual(counts);
    if (t.runtime.config.storage.kind === 'sqlite') {
      // Not even the file's free pages or the WAL keep a copy.
      const file = t.runtime.config.storage.file;
      const bytes = Buffer.concat([
        readFileSync(file),
        ...(existsSync(`${file}-wal`) ? [readFileSync(`${file}-wal`)] : []),
      ]);
      expect(NEEDLES.filter((n) => bytes.includes(Buffer.from(n)))).toEqual([]);
    }
    expect((await t.api('DELETE', `/api/privacy/contacts/${contactId}`)).statusCode).toBe(404);
    expect((await t.api('GET', `/api/privacy/contacts/${contactId}/export`)).statusCode).toBe(404);
  });

  it('retention deletes raw events older than the period and keeps the rollups', async () => {
    const old = new Date(Date.now() - 400 * 86_400_000).toISOString();
    expect(
      (
        await t.sendBatch([
          { type: 'page', anonymousId: 'anon-old', properties: { path: '/old' }, timestamp: old, messageId: 'old-1' },
        ])
      ).statusCode,
    ).toBe(200);
    const db = t.runtime.storage.db;
    const views = async () =>
      Number(
        (
          await db
            .selectFrom('daily_rollups')
            .select((eb) => eb.fn.sum<number>('page_views').as('v'))
            .executeTakeFirstOrThrow()
        ).v,
      );
    const before = await views();
    const r = await applyRetention(db, t.workspaceId, 365, Date.now());
    expect(r.deleted).toBe(1);
    expect(await db.selectFrom('events').select('message_id').where('message_id', '=', 'old-1').execute()).toEqual([]);
    expect(await db.selectFrom('events').select('message_id').where('message_id', '=', 'o-2').execute()).toHaveLength(
      1,
    );
    expect(await views()).toBe(before);
  });
});

describe(`rate limit per key (${testEngine})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ rateLimitPerMinute: 5 });
  });
  afterAll(async () => t.close());

  it('answers 429 with Retry-After once a key is over its limit, per key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await t.api('GET', '/api/contacts')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await t.api('GET', '/api/contacts');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json().error.message).toMatch(/too many requests with this key; retry in \d+ s/);
    // The write key has its own bucket.
    expect((await t.sendBatch([{ type: 'track', userId: 'u', event: 'X', messageId: 'rl-1' }])).statusCode).toBe(200);
  });
});
