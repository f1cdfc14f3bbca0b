import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe(`offline conversions export (${testEngine})`, () => {
  let t: TestApp;
  let seq = 0;
  const ingest = async (batch: object[]) => {
    const r = await t.sendBatch(batch.map((m) => ({ messageId: `oc-${++seq}`, ...m })));
    expect(r.statusCode).toBe(200);
  };
  const api = (url: string, body?: unknown) => t.api(body ? 'POST' : 'GET', url, body);
  /** A visitor who lands from an ad click, fills a form, and later becomes a deal. */
  const visitor = async (name: string, landing: string, traits: Record<string, unknown>, at: string) => {
    await ingest([
      {
        type: 'page',
        anonymousId: `anon-${name}`,
        timestamp: at,
        context: { page: { url: `https://example.com${landing}`, path: landing.split('?')[0] } },
      },
      { type: 'identify', anonymousId: `anon-${name}`, userId: name, traits, timestamp: at },
    ]);
  };

  beforeAll(async () => {
    t = await createTestApp();
    await visitor(
      'g1',
      '/pricing?gclid=CjwKCAgoogle1&utm_source=google',
      { email: ' Ada@Example.com ' },
      '2026-02-01T09:00:00Z',
    );
    await visitor(
      'g2',
      '/?gclid=CjwKCAgoogle2',
      { email: 'bo@example.com', phone: '+49 (0)30 1234-567' },
      '2026-02-02T09:00:00Z',
    );
    await visitor(
      'm1',
      '/?fbclid=IwAR0meta1',
      { email: 'cy@example.com', lead_id: '1234567890123456' },
      '2026-02-03T09:00:00Z',
    );
    await visitor('n1', '/', {}, '2026-02-03T10:00:00Z');
    await visitor('old', '/?gclid=CjwKCAold', { email: 'old@example.com' }, '2025-06-01T09:00:00Z');
    const r = await api('/api/crm/stages', {
      updates: [
        { crmId: 'g1', stage: 'won', at: '2026-02-10T12:30:00Z', value: 1500, currency: 'USD' },
        { crmId: 'g2', stage: 'sql', at: '2026-02-11T08:00:00Z' },
        { crmId: 'm1', stage: 'won', at: '2026-02-12T16:00:00Z', value: 900 },
        { crmId: 'n1', stage: 'won', at: '2026-02-13T16:00:00Z', value: 100 },
        { crmId: 'old', stage: 'won', at: '2026-02-14T16:00:00Z', value: 50 },
        { crmId: 'g2', stage: 'won', at: '2026-03-05T10:00:00Z', value: 700 },
      ],
    });
    expect(r.json()).toMatchObject({ applied: 6, failed: 0 });
  });
  afterAll(async () => t.close());

  it('Google Ads CSV: one row per gclid conversion in the range; no click or a click over 90 days old is left out', async () => {
    const r = await api('/api/exports/offline-conversions?format=google-ads&stage=won&from=2026-02-01&to=2026-02-28');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    expect(r.body).toBe(
      [
        'Parameters:TimeZone=+0000',
        'Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency',
        'CjwKCAgoogle1,Kerma Won,2026-02-10 12:30:00,1500,USD',
        '',
      ].join('\n'),
    );
    expect(r.headers['x-kerma-exported']).toBe('1');
    // m1 came from Meta, n1 from nowhere; old clicked in June 2025.
    expect(JSON.parse(String(r.headers['x-kerma-skipped']))).toEqual({ noClickId: 2, clickTooOld: 1 });
    // SQL reached: g2 directly, and every won contact counts as having reached SQL (skipped stage).
    const sql = await api(
      '/api/exports/offline-conversions?format=google-ads&stage=sql&from=2026-02-11&to=2026-02-11&name=Qualified',
    );
    expect(sql.body.split('\n').slice(2, -1)).toEqual(['CjwKCAgoogle2,Qualified,2026-02-11 08:00:00,,']);
  });

  it('Meta CAPI JSON: hashed normalised email and phone, lead id, fbc, stable event_id, value in the workspace currency', async () => {
    const url = '/api/exports/offline-conversions?format=meta&stage=won&from=2026-02-12&to=2026-02-12';
    const r = await api(url);
    expect(r.statusCode).toBe(200);
    const { data } = r.json();
    expect(data).toHaveLength(1);
    const contact = (await t.read<{ contacts: Array<{ id: string }> }>('/api/contacts?email=cy%40example.com'))
      .contacts[0]!;
    const clickAt = Date.parse('2026-02-03T09:00:00Z');
    expect(data[0]).toEqual({
      event_name: 'Kerma Won',
      event_time: Date.parse('2026-02-12T16:00:00Z') / 1000,
      action_source: 'system_generated',
      event_id: `kerma.${contact.id}.won`,
      user_data: { em: [sha('cy@example.com')], lead_id: '1234567890123456', fbc: `fb.1.${clickAt}.IwAR0meta1` },
      custom_data: { value: 900, currency: 'EUR', event_source: 'crm', lead_event_source: 'Kerma' },
    });
    expect((await api(url)).body).toBe(r.body);
    const sql = (
      await api('/api/exports/offline-conversions?format=meta&stage=sql&from=2026-02-11&to=2026-02-11')
    ).json();
    expect(sql.data[0].user_data).toEqual({ em: [sha('bo@example.com')], ph: [sha('49301234567')] });
    expect(sql.data[0].custom_data).toEqual({ event_source: 'crm', lead_event_source: 'Kerma' });
    const all = await api('/api/exports/offline-conversions?format=meta&stage=won&from=2026-01-01&to=2026-12-31');
    expect(all.json().data).toHaveLength(4);
    expect(JSON.parse(String(all.headers['x-kerma-skipped']))).toEqual({ noMatchKey: 1 });
  });

  it('says what is wrong with the options', async () => {
    const bad = await api('/api/exports/offline-conversions?format=tiktok&stage=won&from=2026-02-01&to=2026-01-01');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/format: Invalid option: expected one of "google-ads"\|"meta"/);
    const backwards = await api('/api/exports/offline-conversions?format=meta&stage=won&from=2026-02-01&to=2026-01-01');
    expect(backwards.json().error.message).toMatch(/from: from must not be after to/);
  });
});
