import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactDetail, ContactView } from '../../src/contacts/contact-wire.js';
import type { TrafficReport } from '../../src/reports/traffic-report.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let seq = 0;
const mid = () => `m-${++seq}-${Math.random().toString(36).slice(2)}`;
const iso = (ms: number) => new Date(ms).toISOString();

function page(anonymousId: string, at: number, url: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'page',
    messageId: mid(),
    anonymousId,
    properties: { url, path: new URL(url).pathname, referrer: extra['referrer'] ?? '' },
    context: { userAgent: CHROME, ip: '203.0.113.7' },
    timestamp: iso(at),
    ...extra,
  };
}

describe(`ingest over HTTP (${testEngine})`, () => {
  let t: TestApp;
  const basic = () => `Basic ${Buffer.from(`${t.writeKey}:`).toString('base64')}`;
  const send = (body: unknown, headers: Record<string, string> = {}, url = '/v1/batch') =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', authorization: basic(), ...headers },
      payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const traffic = (query: string) => t.read<TrafficReport>(`/api/reports/traffic?${query}`);
  const contactByEmail = async (email: string) =>
    (await t.read<{ contacts: ContactView[] }>(`/api/contacts?email=${encodeURIComponent(email)}`)).contacts[0];

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  describe('auth', () => {
    it('accepts the write key as Basic user, body writeKey, ?writeKey= and X-Write-Key', async () => {
      const ev = () => ({ batch: [{ type: 'track', event: 'Auth', userId: 'auth-user', messageId: mid() }] });
      expect((await send(ev())).statusCode).toBe(200);
      expect((await send({ ...ev(), writeKey: t.writeKey }, { authorization: '' })).statusCode).toBe(200);
      expect((await send(ev(), { authorization: '' }, `/v1/batch?writeKey=${t.writeKey}`)).statusCode).toBe(200);
      expect((await send(ev(), { authorization: '', 'x-write-key': t.writeKey })).statusCode).toBe(200);
    });

    it('answers 401 with a message for a missing or unknown key', async () => {
      const none = await send({ batch: [] }, { authorization: '' });
      expect(none.statusCode).toBe(401);
      expect(none.json().error.message).toMatch(/write key/);
      const wrong = await send({ batch: [] }, { authorization: `Basic ${Buffer.from('nope:').toString('base64')}` });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error.code).toBe('unauthorized');
    });

    it('lets only the secret key read; a write key gets 403', async () => {
      const asWrite = await t.app.inject({
        method: 'GET',
        url: '/api/contacts',
        headers: { authorization: `Bearer ${t.writeKey}` },
      });
      expect(asWrite.statusCode).toBe(403);
      const none = await t.app.inject({ method: 'GET', url: '/api/contacts' });
      expect(none.statusCode).toBe(401);
    });
  });

  describe('bad input', () => {
    it('400 for invalid JSON, saying so', async () => {
      const r = await send('{"batch": [');
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'invalid_json' });
      expect(r.json().error.message).toMatch(/not valid JSON/);
    });

    it('413 for a batch over 500 KB, decompressed size counted', async () => {
      const big = {
        batch: [{ type: 'track', event: 'Big', userId: 'u', properties: { blob: 'x'.repeat(600 * 1024) } }],
      };
      expect((await send(big)).statusCode).toBe(413);
      const gz = gzipSync(JSON.stringify(big));
      expect(gz.length).toBeLessThan(50_000);
      const r = await send(gz, { 'content-encoding': 'gzip' });
      expect(r.statusCode).toBe(413);
      expect(r.json().error.message).toMatch(/limit is 512000 bytes/);
    });

    it('keeps the valid events of a batch and names each rejected one by index', async () => {
      const good1 = { type: 'track', event: 'Kept', userId: 'partial-user', messageId: mid() };
      const tooBig = {
        type: 'track',
        event: 'TooBig',
        userId: 'partial-user',
        messageId: mid(),
        properties: { blob: 'y'.repeat(40_000) },
      };
      const noName = { type: 'track', userId: 'partial-user', messageId: mid() };
      const noId = { type: 'page', messageId: mid(), anonymousId: 'null' };
      const badType = { type: 'explode', userId: 'x' };
      const good2 = {
        type: 'identify',
        userId: 'partial-user',
        traits: { email: 'partial@example.com' },
        messageId: mid(),
      };
      const r = await send({ batch: [good1, tooBig, noName, noId, badType, good2] });
      expect(r.statusCode).toBe(200);
      const body = r.json();
      expect(body.accepted).toBe(2);
      expect(body.rejected.map((x: { index: number }) => x.index)).toEqual([1, 2, 3, 4]);
      expect(body.rejected[0].reason).toMatch(/limit is 32768 bytes/);
      expect(body.rejected[1].reason).toMatch(/event/);
      expect(body.rejected[2].reason).toMatch(/placeholder/);
      expect(body.rejected[3].reason).toMatch(/expected one of/);
      expect(await contactByEmail('partial@example.com')).toBeDefined();
    });

    it('400 when nothing in the request is acceptable', async () => {
      const r = await send({ batch: [{ type: 'track', userId: 'u' }] });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.rejected[0].index).toBe(0);
    });

    it('400 for a bad read-API query, naming the field', async () => {
      const r = await t.app.inject({
        method: 'GET',
        url: '/api/contacts?limit=0&sort=nope',
        headers: { authorization: `Bearer ${t.secretKey}` },
      });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.message).toMatch(/limit/);
      expect(r.json().error.message).toMatch(/sort/);
      const range = await t.app.inject({
        method: 'GET',
        url: '/api/reports/traffic?from=2026-02-01&to=2026-01-01',
        headers: { authorization: `Bearer ${t.secretKey}` },
      });
      expect(range.statusCode).toBe(400);
      expect(range.json().error.message).toMatch(/after/);
      const missing = await t.app.inject({
        method: 'GET',
        url: '/api/contacts/c_nope',
        headers: { authorization: `Bearer ${t.secretKey}` },
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.message).toContain('c_nope');
    });
  });

  describe('wire details', () => {
    it('gunzips whatever the Content-Type says (RudderStack sends form-urlencoded)', async () => {
      const body = gzipSync(
        JSON.stringify({ batch: [{ type: 'track', event: 'Gz', userId: 'gz-user', messageId: mid() }] }),
      );
      const r = await send(body, { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' });
      expect(r.statusCode).toBe(200);
      expect(r.json().accepted).toBe(1);
    });

    it('merges batch-level context into each message and corrects clock skew', async () => {
      const receivedBefore = Date.now();
      const original = receivedBefore + 3_600_000; // the device clock runs an hour ahead
      const r = await send({
        batch: [
          {
            type: 'track',
            event: 'Skewed',
            userId: 'skew-user',
            messageId: 'skew-1',
            originalTimestamp: iso(original - 5000),
          },
        ],
        context: { library: { name: 'batch-lib' }, ip: '198.51.100.23' },
        sentAt: iso(original),
      });
      expect(r.statusCode).toBe(200);
      const row = await t.runtime.storage.db
        .selectFrom('events')
        .select(['timestamp', 'library', 'ip'])
        .where('message_id', '=', 'skew-1')
        .executeTakeFirstOrThrow();
      expect(row.library).toBe('batch-lib');
      expect(row.ip).toBe('198.51.100.0');
      expect(Number(row.timestamp)).toBeGreaterThanOrEqual(receivedBefore - 5000 - 50);
      expect(Number(row.timestamp)).toBeLessThanOrEqual(Date.now() - 5000 + 50);
    });

    it('answers CORS preflight for browsers', async () => {
      const r = await t.app.inject({
        method: 'OPTIONS',
        url: '/v1/batch',
        headers: {
          origin: 'https://example.com',
          'access-control-request-headers': 'AnonymousId, SentAt, Authorization',
        },
      });
      expect(r.statusCode).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe('https://example.com');
      expect(String(r.headers['access-control-allow-headers'])).toContain('Authorization');
    });

    it('stores bots but never counts them as visitors; parses the user agent', async () => {
      const day = Date.UTC(2026, 0, 5, 12);
      const bot = page('bot-1', day, 'https://example.com/', {
        context: { userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' },
      });
      const human = page('human-1', day, 'https://example.com/');
      expect((await send({ batch: [bot, human] })).json().accepted).toBe(2);
      const report = await traffic('from=2026-01-05&to=2026-01-05');
      expect(report.totals[0]).toMatchObject({ newVisitors: 1, sessions: 1, pageViews: 1 });
      const rows = await t.runtime.storage.db
        .selectFrom('events')
        .select(['anonymous_id', 'is_bot', 'browser'])
        .where('anonymous_id', 'in', ['bot-1', 'human-1'])
        .orderBy('anonymous_id')
        .execute();
      expect(rows).toEqual([
        { anonymous_id: 'bot-1', is_bot: 1, browser: null },
        { anonymous_id: 'human-1', is_bot: 0, browser: 'Chrome' },
      ]);
    });

    it('serves /healthz, /metrics and /openapi.json', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ status: 'ok' });
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('kerma_ingest_events_total');
      const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/api/contacts', '/api/contacts/{id}', '/api/reports/traffic']),
      );
    });
  });

  describe('identity', () => {
    it('gives earlier anonymous events to the contact and keeps the first touch through identify', async () => {
      const a = 'anon-journey';
      const day = Date.UTC(2026, 1, 1, 10);
      await send({
        batch: [
          page(
            a,
            day,
            'https://example.com/pricing?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm&li_fat_id=abc',
          ),
          page(a, day + 2 * 86_400_000, 'https://example.com/blog'),
        ],
      });
      await send({
        batch: [
          {
            type: 'identify',
            anonymousId: a,
            messageId: mid(),
            traits: { email: 'Journey@Example.com ' },
            timestamp: iso(day + 2 * 86_400_000 + 60_000),
          },
        ],
      });
      await send({
        batch: [
          {
            type: 'track',
            anonymousId: a,
            event: 'Demo Requested',
            messageId: mid(),
            timestamp: iso(day + 2 * 86_400_000 + 70_000),
          },
        ],
      });
      const contact = (await contactByEmail('journey@example.com'))!;
      expect(contact.firstTouch).toMatchObject({
        source: 'linkedin',
        medium: 'paid_social',
        campaign: 'abm',
        channel: 'Paid Social',
        clickIds: { li_fat_id: 'abc' },
      });
      // A later direct visit does not replace the last non-direct touch.
      expect(contact.lastTouch).toMatchObject({ source: 'linkedin' });
      const detail = await t.read<ContactDetail>(`/api/contacts/${contact.id}`);
      expect(detail.events.map((e) => e.type)).toEqual(['track', 'identify', 'page', 'page']);
      expect(detail.sessions).toHaveLength(2);
      const report = await traffic('from=2026-02-01&to=2026-02-03&by=channel');
      expect(report.totals.find((r) => r.key === 'Paid Social')).toMatchObject({
        newVisitors: 1,
        sessions: 1,
        newContacts: 1,
      });
      expect(report.totals.find((r) => r.key === 'Direct')).toMatchObject({
        newVisitors: 0,
        sessions: 1,
        newContacts: 0,
      });
    });

    it('never merges an identified contact into another, nor on placeholder ids', async () => {
      const at = Date.UTC(2026, 2, 1);
      await send({
        batch: [
          {
            type: 'identify',
            anonymousId: 'shared-device',
            userId: 'alice',
            traits: { email: 'alice@example.com' },
            messageId: mid(),
            timestamp: iso(at),
          },
          {
            type: 'identify',
            anonymousId: 'shared-device',
            userId: 'bob',
            traits: { email: 'bob@example.com' },
            messageId: mid(),
            timestamp: iso(at + 1000),
          },
          {
            type: 'identify',
            anonymousId: 'undefined',
            userId: 'carol',
            traits: { email: 'carol@example.com' },
            messageId: mid(),
            timestamp: iso(at + 2000),
          },
          {
            type: 'identify',
            anonymousId: 'undefined',
            userId: 'dave',
            traits: { email: 'dave@example.com' },
            messageId: mid(),
            timestamp: iso(at + 3000),
          },
        ],
      });
      const alice = (await contactByEmail('alice@example.com'))!;
      const bob = (await contactByEmail('bob@example.com'))!;
      const carol = (await contactByEmail('carol@example.com'))!;
      const dave = (await contactByEmail('dave@example.com'))!;
      expect(new Set([alice.id, bob.id, carol.id, dave.id]).size).toBe(4);
      const aliceDetail = await t.read<ContactDetail>(`/api/contacts/${alice.id}`);
      expect(aliceDetail.identities.find((i) => i.kind === 'anonymous')?.value).toBe('shared-device');
      const carolDetail = await t.read<ContactDetail>(`/api/contacts/${carol.id}`);
      expect(carolDetail.identities.some((i) => i.kind === 'anonymous')).toBe(false);
    });

    it('alias links an anonymous id to a user', async () => {
      const at = Date.UTC(2026, 2, 2);
      await send({ batch: [page('alias-anon', at, 'https://example.com/?utm_source=newsletter&utm_medium=email')] });
      await send({
        batch: [
          {
            type: 'alias',
            previousId: 'alias-anon',
            userId: 'alias-user',
            messageId: mid(),
            timestamp: iso(at + 1000),
          },
        ],
      });
      await send({
        batch: [
          {
            type: 'identify',
            userId: 'alias-user',
            traits: { email: 'alias@example.com' },
            messageId: mid(),
            timestamp: iso(at + 2000),
          },
        ],
      });
      const contact = (await contactByEmail('alias@example.com'))!;
      expect(contact.firstTouch).toMatchObject({ channel: 'Email' });
    });
  });

  describe('sessions and rollups', () => {
    it('splits sessions on 30 minutes of inactivity and on a new campaign; counts new vs returning', async () => {
      const a = 'sessions-anon';
      const at = Date.UTC(2026, 3, 1, 8);
      await send({
        batch: [
          page(a, at, 'https://example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand'),
          page(a, at + 10 * 60_000, 'https://example.com/pricing', {
            properties: { url: 'https://example.com/pricing', path: '/pricing', referrer: 'https://example.com/' },
          }),
          page(a, at + 25 * 60_000, 'https://example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=april'),
          page(a, at + 90 * 60_000, 'https://example.com/docs'),
        ],
      });
      const report = await traffic('from=2026-04-01&to=2026-04-01&by=channel');
      const by = Object.fromEntries(report.totals.map((r) => [r.key, r]));
      expect(by['Paid Search']).toMatchObject({ newVisitors: 1, sessions: 1, pageViews: 2 });
      expect(by['Email']).toMatchObject({ newVisitors: 0, sessions: 1, pageViews: 1 });
      expect(by['Direct']).toMatchObject({ newVisitors: 0, sessions: 1, pageViews: 1 });
      const sessions = await t.runtime.storage.db
        .selectFrom('sessions')
        .select(['is_new_visitor'])
        .where('anonymous_id', '=', a)
        .orderBy('started_at')
        .execute();
      expect(sessions.map((s) => s.is_new_visitor)).toEqual([1, 0, 0]);
    });

    it('a batch sent three times, twice concurrently, changes nothing after the first', async () => {
      const at = Date.UTC(2026, 4, 1, 8);
      const batch = {
        batch: Array.from({ length: 50 }, (_, i) =>
          page(`retry-${i % 10}`, at + i * 1000, `https://example.com/p${i}?utm_source=bing&utm_medium=cpc`),
        ),
      };
      const first = await send(batch);
      expect(first.json().accepted).toBe(50);
      const [second, third] = await Promise.all([send(batch), send(batch)]);
      expect(second.json()).toMatchObject({ accepted: 0, duplicates: 50 });
      expect(third.json()).toMatchObject({ accepted: 0, duplicates: 50 });
      const report = await traffic('from=2026-05-01&to=2026-05-01');
      expect(report.totals[0]).toMatchObject({ newVisitors: 10, sessions: 10, pageViews: 50 });
    });

    it('counts days in the workspace time zone', async () => {
      const ws = await t.runtime.workspaces.create('NY', { timeZone: 'America/New_York' });
      const r = await t.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
        payload: JSON.stringify({ batch: [page('ny-anon', Date.UTC(2026, 0, 2, 3, 0), 'https://example.com/')] }),
      });
      expect(r.statusCode).toBe(200);
      const report = await t.app.inject({
        method: 'GET',
        url: '/api/reports/traffic?from=2026-01-01&to=2026-01-02',
        headers: { authorization: `Bearer ${ws.secretKey}` },
      });
      expect(report.json().daily).toEqual([
        { date: '2026-01-01', key: 'all', newVisitors: 1, sessions: 1, pageViews: 1, newContacts: 0 },
      ]);
    });

    it('pages through contacts with a cursor', async () => {
      const at = Date.UTC(2026, 6, 1);
      await send({
        batch: Array.from({ length: 7 }, (_, i) => ({
          type: 'identify',
          userId: `page-user-${i}`,
          traits: { email: `page${i}@paging.test` },
          messageId: mid(),
          timestamp: iso(at + i * 1000),
        })),
      });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/contacts?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const pageOf: { contacts: ContactView[]; next: string | null } = await t.read(url);
        seen.push(...pageOf.contacts.map((c) => c.id));
        cursor = pageOf.next;
      } while (cursor);
      const total = await t.runtime.storage.db
        .selectFrom('contacts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('workspace_id', '=', t.workspaceId)
        .executeTakeFirstOrThrow();
      expect(seen).toHaveLength(Number(total.n));
      expect(new Set(seen).size).toBe(seen.length);
    });
  });
});
