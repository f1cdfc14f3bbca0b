import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyModel } from '../../src/models/apply-model.js';
import { parseModelFile } from '../../src/scoring/parse-model-file.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const MODEL = `name: api
fit:
  - id: software
    when: { trait: industry, equals: software }
    points: 10
  - id: big
    when: { trait: employees, between: [100, 10000] }
    points: 5
thresholds: { mql: 10 }
`;

describe(`model API (${testEngine})`, () => {
  let t: TestApp;
  const post = (url: string, body: string, key = t.secretKey) =>
    t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload: body });

  beforeAll(async () => {
    t = await createTestApp();
    // 80 contacts: software converts 3 times in 4, others 1 in 4; employees are noise.
    const batch = Array.from({ length: 80 }, (_, i) => ({
      type: 'identify',
      messageId: `api-${i}`,
      userId: `u-${i}`,
      traits: {
        industry: i % 2 === 0 ? 'software' : 'retail',
        employees: (i * 37) % 500,
        converted: (i % 2 === 0 ? i % 8 !== 0 : i % 8 === 1) ? 'Yes' : 'No',
      },
    }));
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString('base64')}` },
      payload: JSON.stringify({ batch }),
    });
    expect(r.statusCode).toBe(200);
  });
  afterAll(async () => t.close());

  it('validates a model body, and answers 400 with every error and its line', async () => {
    const ok = await post('/api/models/validate', MODEL);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ valid: true, name: 'api', fit: 2, engagement: 0, triggers: 0 });
    const bad = await post('/api/models/validate', MODEL.replace('between: [100, 10000]', 'betwen: [100, 10000]'));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.errors[0]).toMatchObject({
      path: ['fit', 1, 'when', 'betwen'],
      line: 7,
      message: 'unknown operator "betwen"',
    });
    expect((await post('/api/models/validate', MODEL, t.writeKey)).statusCode).toBe(403);
  });

  it('backtests over HTTP with the same numbers a pairwise count gives', async () => {
    const r = await post(
      '/api/models/backtest',
      JSON.stringify({ model: MODEL, outcome: 'trait:converted', at: 'now', precision: 0.7 }),
    );
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json() as {
      contacts: number;
      models: Array<{
        metrics: { rocAuc: number; positives: number };
        forPrecision: { ok: boolean; threshold: number };
      }>;
    };
    expect(body.contacts).toBe(80);
    // Independent count over the same rule: scores and outcomes from the generator above.
    const rows = Array.from({ length: 80 }, (_, i) => ({
      score: (i % 2 === 0 ? 10 : 0) + ((i * 37) % 500 >= 100 ? 5 : 0),
      positive: i % 2 === 0 ? i % 8 !== 0 : i % 8 === 1,
    }));
    let wins = 0;
    let pairs = 0;
    for (const p of rows.filter((x) => x.positive))
      for (const q of rows.filter((x) => !x.positive)) {
        pairs++;
        wins += p.score > q.score ? 1 : p.score === q.score ? 0.5 : 0;
      }
    expect(body.models[0]!.metrics.rocAuc).toBeCloseTo(wins / pairs, 12);
    expect(body.models[0]!.metrics.positives).toBe(rows.filter((x) => x.positive).length);
    expect(body.models[0]!.forPrecision).toMatchObject({ ok: true, threshold: 10 });
  });

  it('says how many outcomes it needs, and which field is wrong', async () => {
    const few = await post('/api/models/backtest', JSON.stringify({ model: MODEL, outcome: 'won' }));
    expect(few.statusCode).toBe(400);
    expect(few.json().error).toMatchObject({ positives: 0, negatives: 0 });
    expect(few.json().error.message).toMatch(/needs at least 20 contacts with the outcome/);
    const badOutcome = await post('/api/models/backtest', JSON.stringify({ model: MODEL, outcome: 'revenue' }));
    expect(badOutcome.json().error.message).toMatch(/^outcome: unknown outcome "revenue"/);
    const badModel = await post('/api/models/backtest', JSON.stringify({ model: 'name: x', outcome: 'won' }));
    expect(badModel.json().error.message).toMatch(/^model: thresholds: /);
    const badJson = await post('/api/models/backtest', '{');
    expect(badJson.statusCode).toBe(400);
  });

  it('backtests at the moment each contact became an MQL (stage history), leaving out those that never did', async () => {
    const applied = MODEL.replace('mql: 10', 'mql: 5');
    const parsed = parseModelFile(applied);
    if (!parsed.ok) throw new Error('model');
    const result = await applyModel(t.runtime.storage.db, {
      workspaceId: t.workspaceId,
      timeZone: 'UTC',
      model: parsed.model,
      source: applied,
    });
    const r = await post(
      '/api/models/backtest',
      JSON.stringify({ model: MODEL, outcome: 'trait:converted', at: 'mql' }),
    );
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json() as { neverMql: number; models: Array<{ metrics: { contacts: number } }> };
    expect(body.models[0]!.metrics.contacts).toBe(result.promotedToMql);
    expect(body.neverMql).toBe(80 - result.promotedToMql);
  });

  it('stage outcomes come from the CRM stage history: won/lost gives the same backtest as the converted trait', async () => {
    const updates = Array.from({ length: 80 }, (_, i) => {
      const converted = i % 2 === 0 ? i % 8 !== 0 : i % 8 === 1;
      return { crmId: `u-${i}`, stage: converted ? 'won' : 'lost', at: '2026-01-15T00:00:00Z' };
    });
    const crm = await t.app.inject({
      method: 'POST',
      url: '/api/crm/stages',
      headers: { authorization: `Bearer ${t.secretKey}` },
      payload: JSON.stringify({ updates }),
    });
    expect(crm.json()).toMatchObject({ applied: 80, failed: 0 });
    const backtest = async (outcome: string) => {
      const r = await post('/api/models/backtest', JSON.stringify({ model: MODEL, outcome, at: 'now' }));
      expect(r.statusCode, r.body).toBe(200);
      return r.json().models[0].metrics as { rocAuc: number; positives: number; negatives: number };
    };
    const byTrait = await backtest('trait:converted');
    const byWon = await backtest('won');
    expect(byWon).toEqual(byTrait);
    // Every won contact reached SQL on the way (skipped stages count); lost ones never did.
    expect(await backtest('sql')).toEqual(byTrait);
    expect(await backtest('stage:meeting')).toEqual(byTrait);
    const bad = await post('/api/models/backtest', JSON.stringify({ model: MODEL, outcome: 'stage:negotiation' }));
    expect(bad.json().error.message).toMatch(
      /unknown outcome stage "negotiation"; expected one of mql, sql, meeting, won/,
    );
  });
});
