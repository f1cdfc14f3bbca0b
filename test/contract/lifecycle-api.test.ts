import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STAGE_NAMES } from '../../src/lifecycle/stages.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const MODEL = `name: lifecycle
fit:
  - id: rejected-no-budget
    when: { trait: sales_rejection, equals: no_budget }
    points: -30
engagement:
  - id: demo
    when: { event: Demo Requested }
    points: 60
thresholds: { mql: 50 }
triggers:
  - id: to-mql
    when: { stage: { reaches: mql } }
    then: [ { webhook: sales } ]
  - id: to-sql
    when: { stage: { reaches: sql } }
    then: [ { webhook: sales } ]
  - id: rejected
    when: { sales: { rejects: [no_budget, competitor] } }
    then: [ { webhook: sales } ]
`;

describe(`CRM stages and sales decisions (${testEngine})`, () => {
  let t: TestApp;
  const post = (url: string, body: unknown) => t.api('POST', url, body);
  const track = async (userId: string, event: string, traits: Record<string, unknown> = {}) => {
    const r = await t.sendBatch([
      { type: 'identify', userId, traits, messageId: `${userId}-id` },
      { type: 'track', userId, event, messageId: `${userId}-${event}` },
    ]);
    expect(r.statusCode).toBe(200);
  };
  const contactOf = async (userId: string) =>
    t.read<{ contacts: Array<{ id: string; stage: string; owner: string | null }> }>(
      `/api/contacts?email=${encodeURIComponent(`${userId}@example.com`)}`,
    );
  const outbox = () =>
    t.runtime.storage.db
      .selectFrom('outbox')
      .select(['source_id', 'contact_id', 'payload'])
      .orderBy('created_at')
      .execute();

  beforeAll(async () => {
    t = await createTestApp({ stageNames: { ...DEFAULT_STAGE_NAMES, meeting: 'Demo held' } });
    await t.applyModel(MODEL);
  });
  afterAll(async () => t.close());

  it('straight to won records MQL, SQL and meeting as skipped, with value and owner; a retry is a duplicate', async () => {
    await track('crm-1', 'Page Viewed', { email: 'crm-1@example.com' });
    const body = {
      updateId: 'deal-1-won',
      crmId: 'crm-1',
      stage: 'won',
      at: '2026-01-05T10:00:00Z',
      value: 4800,
      currency: 'usd',
      owner: 'ana@sales.example',
      reason: 'signed',
    };
    const r = await post('/api/crm/stages', body);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      ok: true,
      status: 'applied',
      stage: 'won',
      skipped: ['mql', 'sql', 'meeting'],
      created: false,
    });
    const again = await post('/api/crm/stages', body);
    expect(again.json()).toMatchObject({ status: 'duplicate', stage: 'won' });
    const { contacts } = await contactOf('crm-1');
    expect(contacts[0]).toMatchObject({ stage: 'won', owner: 'ana@sales.example' });
    const detail = await t.read<{ stages: Array<Record<string, unknown>> }>(`/api/contacts/${contacts[0]!.id}`);
    expect(detail.stages.map((s) => [s.from, s.to, s.skipped, s.source])).toEqual([
      [null, 'contact', false, 'created'],
      ['contact', 'mql', true, 'crm'],
      ['mql', 'sql', true, 'crm'],
      ['sql', 'meeting', true, 'crm'],
      ['meeting', 'won', false, 'crm'],
    ]);
    expect(detail.stages[4]).toMatchObject({
      value: 4800,
      currency: 'USD',
      owner: 'ana@sales.example',
      reason: 'signed',
    });
  });

  it('won is terminal: a later change is refused with 409 unless it reopens; back-dated changes land in time order', async () => {
    const { contacts } = await contactOf('crm-1');
    const id = contacts[0]!.id;
    const refused = await post('/api/crm/stages', { contactId: id, stage: 'lost', at: '2026-01-06T00:00:00Z' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toMatch(/is won since 2026-01-05T10:00:00.000Z; .*"reopen": true/);
    const back = await post('/api/crm/stages', { contactId: id, stage: 'sql', at: '2026-01-06T00:00:00Z' });
    expect(back.json()).toMatchObject({ status: 'ignored', stage: 'won' });
    // Back-dated SQL before the win: it replaces the skipped SQL row.
    const earlier = await post('/api/crm/stages', { contactId: id, stage: 'SQL', at: '2026-01-02T00:00:00Z' });
    expect(earlier.json()).toMatchObject({ status: 'applied', stage: 'won', skipped: ['mql'] });
    const detail = await t.read<{ stages: Array<Record<string, unknown>> }>(`/api/contacts/${id}`);
    expect(detail.stages.slice(1).map((s) => [s.to, s.skipped, String(s.at).slice(0, 10)])).toEqual([
      ['mql', true, '2026-01-02'],
      ['sql', false, '2026-01-02'],
      ['meeting', true, '2026-01-05'],
      ['won', false, '2026-01-05'],
    ]);
    const reopened = await post('/api/crm/stages', {
      contactId: id,
      stage: 'demo held',
      reopen: true,
      at: '2026-01-07',
    });
    expect(reopened.json()).toMatchObject({ status: 'applied', stage: 'meeting' });
  });

  it('an unknown stage is 400 with the allowed list; an unknown contact 404 naming the key, or created on request', async () => {
    const bad = await post('/api/crm/stages', { email: 'x@example.com', stage: 'negotiation' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe(
      'stage: unknown stage "negotiation"; expected one of contact, mql, sql, meeting ("Demo held"), won, lost',
    );
    const missing = await post('/api/crm/stages', { email: 'nobody@example.com', stage: 'sql' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toMatch(/no contact with email "nobody@example.com".*createMissing/);
    const created = await post('/api/crm/stages', {
      updates: [{ email: 'nobody@example.com', crmId: 'crm-new', stage: 'sql', at: '2026-01-03' }],
      createMissing: true,
    });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ applied: 1, results: [{ created: true, stage: 'sql', skipped: ['mql'] }] });
    const { contacts } = await t.read<{ contacts: Array<{ stage: string; userId: string }> }>(
      '/api/contacts?email=nobody%40example.com',
    );
    expect(contacts).toMatchObject([{ stage: 'sql', userId: 'crm-new' }]);
  });

  it('one bad item in a batch is reported by index and the others are kept (207)', async () => {
    await track('crm-2', 'Page Viewed', { email: 'crm-2@example.com' });
    await track('crm-3', 'Page Viewed', { email: 'crm-3@example.com' });
    const r = await post('/api/crm/stages', {
      updates: [
        { crmId: 'crm-2', stage: 'mql', at: '2026-01-01' },
        { crmId: 'crm-3', stage: 'won', at: 'soon' },
        { crmId: 'crm-missing', stage: 'sql' },
        { crmId: 'crm-3', stage: 'lost', at: '2026-01-04', reason: 'went quiet' },
      ],
    });
    expect(r.statusCode).toBe(207);
    const body = r.json();
    expect(body).toMatchObject({ applied: 2, failed: 2 });
    expect(body.results[1]).toMatchObject({ index: 1, ok: false, error: { code: 'invalid_input' } });
    expect(body.results[1].error.message).toMatch(/^updates\[1\]\.at: "soon" is not a date/);
    expect(body.results[2]).toMatchObject({ index: 2, ok: false, error: { code: 'not_found' } });
    expect((await contactOf('crm-2')).contacts[0]!.stage).toBe('mql');
    expect((await contactOf('crm-3')).contacts[0]!.stage).toBe('lost');
  });

  it('sales accepts an MQL (SQL, trigger fired once) or rejects it with a reason that feeds scoring', async () => {
    await track('lead-a', 'Demo Requested', { email: 'lead-a@example.com' });
    await track('lead-b', 'Demo Requested', { email: 'lead-b@example.com' });
    const a = (await contactOf('lead-a')).contacts[0]!;
    const b = (await contactOf('lead-b')).contacts[0]!;
    expect([a.stage, b.stage]).toEqual(['mql', 'mql']);
    // The score's promotion to MQL is a stage change too: its trigger fired in the ingest commit.
    const promoted = (await outbox()).filter((o) => o.source_id === 'to-mql').map((o) => o.contact_id);
    expect(promoted).toEqual(expect.arrayContaining([a.id, b.id]));
    const before = (await outbox()).length;

    const accepted = await post(`/api/contacts/${a.id}/accept`, { owner: 'ana@sales.example' });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ decision: 'accepted', stage: 'sql' });
    const notMql = await post(`/api/contacts/${a.id}/reject`, { reason: 'no_budget' });
    expect(notMql.statusCode).toBe(409);

    const writeKey = await t.app.inject({
      method: 'POST',
      url: `/api/contacts/${b.id}/reject`,
      headers: { authorization: `Bearer ${t.writeKey}` },
      payload: JSON.stringify({ reason: 'no_budget' }),
    });
    expect(writeKey.statusCode).toBe(403);
    const badReason = await post(`/api/contacts/${b.id}/reject`, { reason: 'too_small' });
    expect(badReason.statusCode).toBe(400);
    expect(badReason.json().error.message).toMatch(/not_in_icp/);
    const rejected = await post(`/api/contacts/${b.id}/reject`, { reason: 'no_budget', note: 'next year' });
    expect(rejected.json()).toMatchObject({
      decision: 'rejected',
      stage: 'contact',
      rejection: { reason: 'no_budget' },
    });

    const fired = (await outbox()).slice(before);
    expect(fired.map((o) => [o.source_id, o.contact_id])).toEqual([
      ['to-sql', a.id],
      ['rejected', b.id],
    ]);
    expect(JSON.parse(fired[1]!.payload)).toMatchObject({ rejection: { reason: 'no_budget', note: 'next year' } });
    // The rejection is a trait the model subtracts points for: 60 − 30.
    const score = await t.read<{ total: number }>(`/api/contacts/${b.id}/score`);
    expect(score.total).toBeCloseTo(30, 1);
    const rows = await t.runtime.storage.db.selectFrom('sales_rejections').selectAll().execute();
    expect(rows).toMatchObject([{ contact_id: b.id, reason: 'no_budget', note: 'next year' }]);
    // Rejections count per channel (first touch; these leads came with no visit, so no channel).
    const report = await t.read<{
      total: number;
      rows: Array<{ key: string; rejections: number; byReason: Record<string, number> }>;
    }>('/api/reports/rejections?by=channel');
    expect(report.total).toBe(1);
    expect(report.rows).toMatchObject([{ key: '(none)', rejections: 1, byReason: { no_budget: 1, competitor: 0 } }]);
  });
});
