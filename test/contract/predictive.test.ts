import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePredictionOutcome } from '../../src/predictions/prediction-outcome.js';
import {
  activatePredictiveModel,
  loadPredictiveModel,
  savePredictiveModel,
} from '../../src/predictions/predictive-model-store.js';
import { scorePredictions } from '../../src/predictions/score-predictions.js';
import { trainFromContacts } from '../../src/predictions/train-from-contacts.js';
import { seededRandom } from '../../src/seeded-random.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const DAY = 86_400_000;
const RULES = `name: rules
fit:
  - id: big-company
    when: { trait: company_size, between: [200, 10000] }
    points: 20
engagement:
  - id: pricing
    when: { event: page, path: { prefix: /pricing } }
    points: 10
thresholds: { mql: 1000 }
`;
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * 400 leads with an industry and page views; software leads that look at pricing win most often. 300 are won or
 * lost through CRM updates, 100 are still open.
 */
async function seed(t: TestApp) {
  const random = seededRandom(11);
  const events: object[] = [];
  const outcomes: Array<{ email: string; stage: 'won' | 'lost'; at: string }> = [];
  for (let i = 0; i < 400; i++) {
    const email = `lead${i}@example.com`;
    const industry = ['software', 'retail', 'finance'][i % 3]!;
    const created = NOW - (60 + Math.floor(random() * 30)) * DAY;
    const pricing = Math.floor(random() * 5);
    events.push({
      type: 'identify',
      userId: `u${i}`,
      anonymousId: `a${i}`,
      traits: { email, industry, company_size: 10 + Math.floor(random() * 500) },
      timestamp: iso(created),
      messageId: `id-${i}`,
    });
    const utm = i % 2 ? 'utm_source=google&utm_medium=cpc' : 'utm_source=newsletter&utm_medium=email';
    events.push({
      type: 'page',
      userId: `u${i}`,
      anonymousId: `a${i}`,
      properties: { path: '/', url: `https://example.com/?${utm}&utm_campaign=spring` },
      timestamp: iso(created + 1000),
      messageId: `land-${i}`,
    });
    for (let p = 0; p < pricing; p++)
      events.push({
        type: 'page',
        userId: `u${i}`,
        anonymousId: `a${i}`,
        properties: { path: '/pricing', url: 'https://example.com/pricing' },
        timestamp: iso(created + (p + 1) * DAY),
        messageId: `pg-${i}-${p}`,
      });
    events.push({
      type: 'page',
      userId: `u${i}`,
      anonymousId: `a${i}`,
      properties: { path: '/blog/post', url: 'https://example.com/blog/post' },
      timestamp: iso(created + 2 * DAY),
      messageId: `blog-${i}`,
    });
    if (i >= 300) continue;
    const chance = 0.15 + (industry === 'software' ? 0.4 : 0) + 0.08 * pricing;
    outcomes.push({ email, stage: random() < chance ? 'won' : 'lost', at: iso(created + 20 * DAY) });
  }
  for (let i = 0; i < events.length; i += 200) {
    const r = await t.sendBatch(events.slice(i, i + 200));
    expect(r.statusCode, r.body).toBe(200);
  }
  const r = await t.api('POST', '/api/crm/stages', { updates: outcomes });
  expect(r.statusCode, r.body).toBe(200);
  return outcomes;
}

describe(`predictive scoring on contacts (${testEngine})`, () => {
  let t: TestApp;
  let outcomes: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    t = await createTestApp();
    await t.applyModel(RULES);
    outcomes = await seed(t);
  });
  afterAll(async () => t.close());

  const db = () => t.runtime.storage.db;
  const contactId = async (email: string) =>
    (await t.read<{ contacts: Array<{ id: string }> }>(`/api/contacts?email=${encodeURIComponent(email)}`)).contacts[0]!
      .id;

  it('answers 404 with what to do while no model is active', async () => {
    const r = await t.api('GET', `/api/contacts/${await contactId('lead1@example.com')}/prediction`);
    expect(r.statusCode).toBe(404);
    expect(r.json().error.message).toMatch(
      /no predictive model is active in this workspace; train one with `kerma train/,
    );
  });

  it('trains on the contacts whose outcome is known, with traits, touch, rule fit and behaviour as inputs', async () => {
    const outcome = parsePredictionOutcome('won');
    if (!outcome.ok) throw new Error(outcome.message);
    const steps = new Set<string>();
    const result = await trainFromContacts(db(), {
      workspaceId: t.workspaceId,
      outcome: outcome.value,
      outcomeText: 'won',
      kind: 'logistic',
      exclude: [],
      onProgress: (step) => steps.add(step),
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.open).toBe(100);
    const { card, behaviour } = result.model;
    expect(card.rows).toBe(300);
    expect(card.positives).toBe(outcomes.filter((o) => o.stage === 'won').length);
    expect(card.columns, JSON.stringify(card)).toEqual(
      expect.arrayContaining(['industry', 'company_size', 'touch.channel', 'rules.fit', 'behaviour.page:/pricing']),
    );
    expect(card.columns).not.toContain('email');
    expect(behaviour?.pageGroups).toEqual(expect.arrayContaining(['/pricing', '/blog']));
    expect(card.topFactors[0]!.column).toMatch(/industry|behaviour.page:\/pricing|behaviour.page_views/);
    // 60 validation rows (and contact ids, so the split, differ per run): only that it learned something.
    expect(card.validation.auc).toBeGreaterThan(0.5);
    expect([...steps]).toEqual(
      expect.arrayContaining(['reading contacts', 'choosing the penalty on the validation rows']),
    );
    const version = await savePredictiveModel(db(), t.workspaceId, result.model, {
      source: 'contacts',
      activate: true,
    });
    expect(version).toBe(1);
    const scored = await scorePredictions(db(), t.workspaceId, { all: true });
    expect(scored).toEqual({ version: 1, scored: 400 });
  });

  it('every contact carries its probability; the prediction API explains it', async () => {
    const { contacts } = await t.read<{ contacts: Array<{ id: string; probability: number | null }> }>(
      '/api/contacts?limit=500',
    );
    expect(contacts).toHaveLength(400);
    expect(contacts.every((c) => c.probability !== null && c.probability > 0 && c.probability < 1)).toBe(true);
    const id = await contactId('lead0@example.com');
    const p = (await t.read(`/api/contacts/${id}/prediction?factors=50`)) as {
      probability: number;
      base: number;
      logit: number;
      positive: Array<{ column: string; value: unknown; contribution: number }>;
      negative: Array<{ column: string; value: unknown; contribution: number }>;
      stored: { probability: number };
    };
    // Recency inputs (days since the last event) moved on by the milliseconds between the pass and this request.
    expect(p.probability).toBeCloseTo(p.stored.probability, 6);
    const all = [...p.positive, ...p.negative];
    expect(p.base + all.reduce((s, f) => s + f.contribution, 0)).toBeCloseTo(p.logit, 9);
    expect(all.find((f) => f.column === 'industry')).toMatchObject({ value: 'software' });
    const nobody = await t.api('GET', '/api/contacts/c_nobody/prediction');
    expect(nobody.statusCode, nobody.body).toBe(404);
    expect((await t.api('GET', `/api/contacts/${id}/prediction?factors=0`)).statusCode).toBe(400);
  });

  it('the debounced pass scores only contacts whose data changed since their last prediction', async () => {
    expect(await scorePredictions(db(), t.workspaceId)).toEqual({ version: 1, scored: 0 });
    const id = await contactId('lead350@example.com');
    const before = (await t.read<{ stored: { at: number } }>(`/api/contacts/${id}/prediction`)).stored.at;
    const visits = [0, 1, 2, 3, 4, 5].map((k) => ({
      type: 'page',
      userId: 'u350',
      properties: { path: '/pricing', url: 'https://example.com/pricing' },
      timestamp: iso(NOW - 1000 * (k + 1)),
      messageId: `late-${k}`,
    }));
    expect((await t.sendBatch(visits)).statusCode).toBe(200);
    expect(await scorePredictions(db(), t.workspaceId, { now: Date.now() + 1 })).toEqual({ version: 1, scored: 1 });
    const after = await t.read<{ stored: { at: number; probability: number }; probability: number }>(
      `/api/contacts/${id}/prediction`,
    );
    expect(after.stored.at).toBeGreaterThan(before);
    expect(after.stored.probability).toBeCloseTo(after.probability, 6);
  });

  it('lists versions and cards, and rescoring follows the active version', async () => {
    const second = await trainFromContacts(db(), {
      workspaceId: t.workspaceId,
      outcome: { kind: 'won' },
      outcomeText: 'won',
      kind: 'gbdt',
      exclude: ['industry'],
    });
    if (!second.ok) throw new Error(second.message);
    expect(second.model.card.columns).not.toContain('industry');
    await savePredictiveModel(db(), t.workspaceId, second.model, { source: 'contacts', activate: false });
    const { models } = await t.read<{ models: Array<{ version: number; active: boolean; kind: string }> }>(
      '/api/predictive/models',
    );
    expect(models.map((m) => [m.version, m.active, m.kind])).toEqual([
      [2, false, 'gbdt'],
      [1, true, 'logistic'],
    ]);
    const card = await t.read<{ version: number; card: { rows: number } }>('/api/predictive/models/active');
    expect(card).toMatchObject({ version: 1, card: { rows: 300 } });
    expect((await t.api('GET', '/api/predictive/models/7')).statusCode).toBe(404);
    await activatePredictiveModel(db(), t.workspaceId, 2);
    expect((await loadPredictiveModel(db(), t.workspaceId, 'active'))?.version).toBe(2);
    expect(await scorePredictions(db(), t.workspaceId)).toEqual({ version: 2, scored: 400 });
  });

  it('lists the leads the rules and the model disagree on', async () => {
    const d = await t.read<{
      modelVersion: number;
      leads: number;
      modelHigherThanRules: Array<{ scorePercentile: number; probabilityPercentile: number }>;
    }>('/api/predictive/disagreements?limit=5');
    expect(d).toMatchObject({ modelVersion: 2, leads: 400 });
    for (const x of d.modelHigherThanRules) {
      expect(x.probabilityPercentile).toBeGreaterThanOrEqual(0.8);
      expect(x.scorePercentile).toBeLessThan(0.5);
    }
  });

  it('--within: contacts past the window without the outcome count as a no, so all 400 are decided', async () => {
    const r = await trainFromContacts(db(), {
      workspaceId: t.workspaceId,
      outcome: { kind: 'won' },
      outcomeText: 'won within 30 days',
      kind: 'logistic',
      exclude: [],
      withinDays: 30,
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.open).toBe(0);
    expect(r.model.card).toMatchObject({ rows: 400, positives: outcomes.filter((o) => o.stage === 'won').length });
  });

  it('refuses to train on too few decided outcomes, saying how many it has and needs', async () => {
    const r = await trainFromContacts(db(), {
      workspaceId: t.workspaceId,
      outcome: { kind: 'column', column: 'Converted' },
      outcomeText: 'column:Converted',
      kind: 'gbdt',
      exclude: [],
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toBe(
      'not enough data to train: it has 0 rows with 0 positive and 0 negative outcomes; training needs at least 200 rows and 40 of each outcome (400 contacts whose outcome is not known yet were left out)',
    );
  });
});
