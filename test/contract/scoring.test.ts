import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactDetail } from '../../src/contacts/contact-queries.js';
import type { ContactView } from '../../src/contacts/contact-view.js';
import { applyModel } from '../../src/models/apply-model.js';
import type { ContactScoreView } from '../../src/models/contact-score.js';
import { parseModelFile } from '../../src/scoring/parse-model-file.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const DAY = 86_400_000;
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
let seq = 0;
const mid = () => `s-${++seq}-${Math.random().toString(36).slice(2)}`;

const MODEL = (factor: number) => `name: contract-${factor}
half_life_days: 10
fit:
  - id: senior
    when: { trait: title, matches: "(?i)\\\\b(cto|ceo)\\\\b" }
    points: ${20 * factor}
  - id: software
    when: { trait: industry, equals: software }
    points: ${10 * factor}
engagement:
  - id: pricing
    when: { event: page, path: { prefix: /pricing } }
    points: ${15 * factor}
    limit: { per: day, times: 1 }
  - id: demo
    when: { event: Demo Requested }
    points: ${30 * factor}
thresholds: { mql: 50, unqualified: 5 }
`;

function compiled(text: string) {
  const parsed = parseModelFile(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.model;
}

describe(`scoring models on stored history (${testEngine})`, () => {
  let t: TestApp;
  const send = (batch: object[]) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString('base64')}` },
      payload: JSON.stringify({ batch }),
    });
  const apply = (factor: number) =>
    applyModel(t.runtime.storage.db, {
      workspaceId: t.workspaceId,
      timeZone: 'UTC',
      model: compiled(MODEL(factor)),
      source: MODEL(factor),
    });
  const byEmail = async (email: string) =>
    (await t.read<{ contacts: ContactView[] }>(`/api/contacts?email=${encodeURIComponent(email)}`)).contacts[0]!;
  const score = (id: string, at?: number) =>
    t.read<ContactScoreView>(
      `/api/contacts/${id}/score${at === undefined ? '' : `?at=${encodeURIComponent(iso(at))}`}`,
    );

  beforeAll(async () => {
    t = await createTestApp();
    const anon = 'anon-hot';
    const pricingAt = NOW - 20 * DAY;
    const demoAt = NOW - 5 * DAY;
    const response = await send([
      {
        type: 'page',
        messageId: mid(),
        anonymousId: anon,
        properties: { url: 'https://x.test/pricing', path: '/pricing' },
        timestamp: iso(pricingAt),
      },
      {
        type: 'page',
        messageId: mid(),
        anonymousId: anon,
        properties: { url: 'https://x.test/pricing/team', path: '/pricing/team' },
        timestamp: iso(pricingAt + 1000),
      },
      {
        type: 'identify',
        messageId: mid(),
        anonymousId: anon,
        userId: 'hot',
        traits: { email: 'hot@acme.io', title: 'CTO', industry: 'Software' },
        timestamp: iso(NOW - 10 * DAY),
      },
      { type: 'track', messageId: mid(), userId: 'hot', event: 'Demo Requested', timestamp: iso(demoAt) },
      {
        type: 'identify',
        messageId: mid(),
        userId: 'cold',
        traits: { email: 'cold@acme.io', title: 'Intern' },
        timestamp: iso(NOW - 3 * DAY),
      },
      ...Array.from({ length: 60 }, (_, i) => ({
        type: 'identify',
        messageId: mid(),
        userId: `bulk-${i}`,
        traits: { email: `bulk-${i}@acme.io`, industry: i % 2 ? 'software' : 'retail' },
        timestamp: iso(NOW - 2 * DAY),
      })),
    ]);
    expect(response.statusCode).toBe(200);
  });
  afterAll(async () => t.close());

  it('answers 404 with what to do while no model is active', async () => {
    const hot = await byEmail('hot@acme.io');
    const r = await t.app.inject({
      method: 'GET',
      url: `/api/contacts/${hot.id}/score`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(r.statusCode).toBe(404);
    expect(r.json().error.message).toMatch(/no scoring model is active.*kerma model apply/);
  });

  it('rescores every contact from history on apply, counting anonymous history once identified', async () => {
    const result = await apply(1);
    expect(result).toMatchObject({ version: 1, contacts: 62, mql: 1, promotedToMql: 1 });
    const hot = await byEmail('hot@acme.io');
    const s = await score(hot.id);
    const pricing = 15 * 2 ** -((20 * DAY) / (10 * DAY));
    const demo = 30 * 2 ** -((5 * DAY) / (10 * DAY));
    expect(s.fit).toBe(30);
    expect(s.engagement).toBeCloseTo(pricing + demo, 2);
    expect(s.total).toBeCloseTo(30 + pricing + demo, 2);
    expect(s.contributions.reduce((sum, c) => sum + c.decayed, 0)).toBeCloseTo(s.total, 9);
    expect(s.contributions.map((c) => c.ruleId).sort()).toEqual(['demo', 'pricing', 'senior', 'software']);
    expect(s.contributions.find((c) => c.ruleId === 'demo')?.eventId).toBeTruthy();
    expect(s.model).toEqual({ name: 'contract-1', version: 1 });
    expect(hot.score).toBeGreaterThan(50);
    expect(hot.stage).toBe('mql');
    const detail = await t.read<ContactDetail>(`/api/contacts/${hot.id}`);
    expect(detail.stages.map((x) => [x.from, x.to, x.source])).toEqual([
      [null, 'contact', 'created'],
      ['contact', 'mql', 'model:1'],
    ]);
    const top = await t.read<{ contacts: ContactView[] }>('/api/contacts?sort=score&limit=1');
    expect(top.contacts[0]!.id).toBe(hot.id);
  });

  it('explains the score at a past date: before the demo request it had only fit and decayed pricing', async () => {
    const hot = await byEmail('hot@acme.io');
    const at = NOW - 6 * DAY;
    const s = await score(hot.id, at);
    expect(s.contributions.map((c) => c.ruleId).sort()).toEqual(['pricing', 'senior', 'software']);
    expect(s.total).toBeCloseTo(30 + 15 * 2 ** -(14 / 10), 6);
    expect(s.at).toBe(iso(at));
    const bad = await t.app.inject({
      method: 'GET',
      url: `/api/contacts/${hot.id}/score?at=yesterday`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/at: expected an ISO date/);
  });

  it('switches versions atomically: every read sees all old scores or all new ones', async () => {
    const sums = new Set<number>();
    let done = false;
    const reader = (async () => {
      while (!done) {
        const page = await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500');
        sums.add(Math.round(page.contacts.reduce((sum, c) => sum + c.score, 0) * 1000) / 1000);
      }
    })();
    const before = (await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500')).contacts.reduce(
      (s, c) => s + c.score,
      0,
    );
    const result = await apply(2);
    done = true;
    await reader;
    const after = (await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500')).contacts.reduce(
      (s, c) => s + c.score,
      0,
    );
    expect(result.version).toBe(2);
    expect(after).toBeCloseTo(before * 2, 3);
    for (const sum of sums) expect([Math.round(before * 1000) / 1000, Math.round(after * 1000) / 1000]).toContain(sum);
    const hot = await byEmail('hot@acme.io');
    const detail = await t.read<ContactDetail>(`/api/contacts/${hot.id}`);
    expect(detail.stages).toHaveLength(2); // already MQL: not promoted twice
  });
});
