import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KpiRow } from '../../src/reports/kpi-math.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

/** The API's KPI row, as JSON. */
type Kpi = KpiRow;

describe(`KPI report (${testEngine})`, () => {
  let t: TestApp;
  let seq = 0;
  const ingest = async (batch: object[]) => {
    const r = await t.sendBatch(batch.map((m) => ({ messageId: `kpi-${++seq}`, ...m })));
    expect(r.statusCode).toBe(200);
  };
  const api = (method: 'GET' | 'POST', url: string, body?: unknown) => t.api(method, url, body);
  const page = (anonymousId: string, path: string, at: string) => ({
    type: 'page',
    anonymousId,
    timestamp: at,
    context: { page: { url: `https://example.com${path}`, path: path.split('?')[0] } },
  });

  beforeAll(async () => {
    t = await createTestApp({ exchangeRates: { base: 'EUR', rates: { USD: 2 } } });
    const ad = '/?utm_source=google&utm_medium=cpc&utm_campaign=brand';
    await ingest([
      // Paid search: three sessions, two reach /pricing; one of those converts.
      page('v1', ad, '2026-03-02T10:00:00Z'),
      page('v1', '/pricing', '2026-03-02T10:01:00Z'),
      {
        type: 'identify',
        anonymousId: 'v1',
        userId: 'p1',
        traits: { email: 'p1@example.com' },
        timestamp: '2026-03-02T10:02:00Z',
      },
      page('v2', ad, '2026-03-02T11:00:00Z'),
      page('v2', '/pricing', '2026-03-02T11:01:00Z'),
      page('v3', ad, '2026-03-03T09:00:00Z'),
      page('v3', '/blog', '2026-03-03T09:01:00Z'),
      // Direct: reaches /pricing and converts.
      page('v4', '/', '2026-03-04T09:00:00Z'),
      page('v4', '/pricing', '2026-03-04T09:01:00Z'),
      {
        type: 'identify',
        anonymousId: 'v4',
        userId: 'p2',
        traits: { email: 'p2@example.com' },
        timestamp: '2026-03-04T09:02:00Z',
      },
      // Email: 4 delivered, 1 opened, 1 clicked.
      ...['Email Delivered', 'Email Delivered', 'Email Opened', 'Email Link Clicked'].map((event, i) => ({
        type: 'track',
        userId: 'p1',
        event,
        timestamp: `2026-03-05T10:0${i}:00Z`,
      })),
      ...['Email Delivered', 'Email Delivered'].map((event) => ({
        type: 'track',
        userId: 'p2',
        event,
        timestamp: '2026-03-05T11:00:00Z',
      })),
    ]);
    const crm = await api('POST', '/api/crm/stages', {
      updates: [
        { crmId: 'p1', stage: 'sql', at: '2026-03-03T00:00:00Z' },
        { crmId: 'p1', stage: 'won', at: '2026-03-10T00:00:00Z', value: 1000 },
        { crmId: 'p2', stage: 'mql', at: '2026-03-04T12:00:00Z' },
      ],
    });
    expect(crm.json()).toMatchObject({ applied: 3, failed: 0 });
    const spend = await api('POST', '/api/spend', {
      rows: [
        {
          date: '2026-03-02',
          source: 'google',
          medium: 'cpc',
          campaign: 'brand',
          cost: 100,
          impressions: 1000,
          clicks: 50,
        },
        {
          date: '2026-03-03',
          source: 'google',
          medium: 'cpc',
          campaign: 'brand',
          cost: 50,
          currency: 'USD',
          impressions: 500,
          clicks: 10,
        },
        { date: '2026-03-03', source: 'google', cost: -1 },
      ],
    });
    expect(spend.statusCode).toBe(207);
    expect(spend.json()).toMatchObject({
      stored: 2,
      rejected: [{ index: 2, reason: expect.stringMatching(/^rows\[2\]\.cost: /) }],
    });
  });
  afterAll(async () => t.close());

  it('computes every KPI per channel and in total from spend, sessions and the funnel, in the workspace currency', async () => {
    const r = await api('GET', '/api/reports/kpis?from=2026-03-01&to=2026-03-31');
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json() as { rows: Kpi[]; total: Kpi; email: Record<string, number>; currency: string };
    expect(body.currency).toBe('EUR');
    const paid = body.rows.find((x) => x.key === 'Paid Search')!;
    // 100 EUR + 50 USD at 2 USD per EUR.
    expect(paid).toMatchObject({
      cost: 125,
      impressions: 1500,
      clicks: 60,
      sessions: 3,
      contacts: 1,
      mql: 1,
      sql: 1,
      won: 1,
      revenue: 1000,
    });
    expect(paid.ctr).toBeCloseTo(60 / 1500, 12);
    expect(paid.cpc).toBeCloseTo(125 / 60, 12);
    expect(paid.visitToContact).toBeCloseTo(1 / 3, 12);
    expect([paid.cpl, paid.costPerMql, paid.costPerSql, paid.cac]).toEqual([125, 125, 125, 125]);
    expect([paid.roas, paid.roi, paid.mqlPerSql, paid.winRate]).toEqual([8, 7, 1, 1]);
    expect([paid.averageOrderValue, paid.ltv, paid.leadQuality]).toEqual([1000, 1000, 100]);
    expect([paid.qualifiedSessions, paid.qualifiedVisitAbandonment]).toEqual([2, 0.5]);

    const direct = body.rows.find((x) => x.key === 'Direct')!;
    expect(direct).toMatchObject({ cost: 0, sessions: 1, contacts: 1, mql: 1, sql: 0, won: 0, qualifiedSessions: 1 });
    // No spend, nothing to divide by: "no data", never NaN or Infinity.
    expect([direct.cpl, direct.cac, direct.roas, direct.roi, direct.ctr, direct.mqlPerSql]).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(direct.qualifiedVisitAbandonment).toBe(0);
    expect(direct.leadQuality).toBe(0);

    expect(body.total).toMatchObject({
      key: 'all',
      cost: 125,
      sessions: 4,
      contacts: 2,
      mql: 2,
      sql: 1,
      won: 1,
      revenue: 1000,
    });
    expect(body.total.costPerMql).toBe(62.5);
    expect(body.total.qualifiedVisitAbandonment).toBeCloseTo(1 / 3, 12);
    expect(body.email).toEqual({ delivered: 4, opened: 1, clicked: 1, openRate: 0.25, clickRate: 0.25 });
    expect(JSON.stringify(body)).not.toMatch(/NaN|Infinity/);
  });

  it('by campaign and source as well; the funnel on last touch', async () => {
    const byPageResponse = await api('GET', '/api/reports/kpis?from=2026-03-01&to=2026-03-31&by=landingPage');
    expect(byPageResponse.statusCode, byPageResponse.body).toBe(200);
    const byPage = byPageResponse.json();
    // Spend has no landing page: it counts in the total, and no page carries its cost.
    expect(byPage.total).toMatchObject({ cost: 125, sessions: 4 });
    expect(byPage.rows.map((x: Kpi) => [x.key, x.cost, x.sessions])).toEqual([['/', 0, 4]]);
    const byCampaign = (await api('GET', '/api/reports/kpis?from=2026-03-01&to=2026-03-31&by=campaign')).json();
    expect(byCampaign.rows.find((x: Kpi) => x.key === 'brand')).toMatchObject({ cost: 125, contacts: 1, won: 1 });
    const funnel = (await api('GET', '/api/reports/funnel?from=2026-03-01&to=2026-03-31&by=source&touch=last')).json();
    expect(funnel.rows.map((x: { key: string; contacts: number }) => [x.key, x.contacts])).toEqual([
      ['(direct)', 1],
      ['google', 1],
    ]);
  });

  it('refuses a currency without a rate, naming it, and an empty or inverted range', async () => {
    const gbp = await api('POST', '/api/spend', {
      rows: [{ date: '2026-04-02', source: 'bing', medium: 'cpc', cost: 10, currency: 'GBP' }],
    });
    expect(gbp.statusCode).toBe(200);
    const r = await api('GET', '/api/reports/kpis?from=2026-04-01&to=2026-04-30');
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toBe(
      'spend is in GBP but there is no exchange rate for GBP to EUR; add it to exchangeRates in the config',
    );
    const inverted = await api('GET', '/api/reports/kpis?from=2026-03-31&to=2026-03-01');
    expect(inverted.statusCode).toBe(400);
    expect(inverted.json().error.message).toBe('empty date range: from (2026-03-31) is after to (2026-03-01)');
    const bad = await api('GET', '/api/reports/funnel?from=2026-02-30');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('from: 2026-02-30 is not a calendar date (YYYY-MM-DD)');
  });

  it('headline: traffic, contacts and leads of the last N days vs the N before, spikes and trend', async () => {
    const views: object[] = [];
    const days = ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05', '2026-05-06', '2026-05-07'];
    for (const day of days) {
      const visitors = day === '2026-05-05' ? 20 : 2;
      for (let i = 0; i < visitors; i++) views.push(page(`h-${day}-${i}`, '/', `${day}T12:00:00Z`));
    }
    for (let i = 0; i < 3; i++) views.push(page(`h-prev-${i}`, '/', '2026-04-25T12:00:00Z'));
    views.push({ type: 'identify', anonymousId: 'h-2026-05-02-0', userId: 'h1', timestamp: '2026-05-02T12:05:00Z' });
    views.push({ type: 'identify', anonymousId: 'h-2026-05-06-0', userId: 'h2', timestamp: '2026-05-06T12:05:00Z' });
    await ingest(views);
    expect(
      (await api('POST', '/api/crm/stages', { crmId: 'h1', stage: 'mql', at: '2026-05-03T08:00:00Z' })).statusCode,
    ).toBe(200);

    const r = await api('GET', '/api/reports/headline?days=7&to=2026-05-07');
    expect(r.statusCode, r.body).toBe(200);
    const h = r.json();
    expect([h.from, h.to, h.previousFrom, h.previousTo]).toEqual([
      '2026-05-01',
      '2026-05-07',
      '2026-04-24',
      '2026-04-30',
    ]);
    expect(h.traffic).toMatchObject({ current: 32, previous: 3, trendPerDayWithoutSpikes: 0 });
    expect(h.traffic.changePct).toBeCloseTo(((32 - 3) / 3) * 100, 10);
    // Least squares over [2, 2, 2, 2, 20, 2, 2]: Σ(x − 3)·y = 18, Σ(x − 3)² = 28.
    expect(h.traffic.trendPerDay).toBeCloseTo(18 / 28, 12);
    expect(h.contacts).toMatchObject({ current: 2, previous: 0, changePct: null });
    expect(h.leads).toMatchObject({ current: 1, previous: 0 });
    expect(h.daily).toHaveLength(7);
    expect(h.daily[2]).toEqual({ date: '2026-05-03', traffic: 2, contacts: 0, leads: 1 });
    // median 2, MAD 0 (taken as 1): above 5 is a spike.
    expect(h.spikes).toEqual([{ date: '2026-05-05', metric: 'traffic', value: 20, baseline: 2, threshold: 5 }]);
    const bad = await api('GET', '/api/reports/headline?days=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/days: /);
  });
});
