import { describe, expect, it } from 'vitest';
import { contactLabel } from '../../src/predictions/prediction-outcome.js';
import { behaviourFeatures, learnVocabulary, pageGroup } from '../../src/predictive/behaviour-features.js';
import { buildFeatureSpec } from '../../src/predictive/build-feature-spec.js';
import { encodeRow } from '../../src/predictive/encode-row.js';
import { evaluatePredictions } from '../../src/predictive/evaluate-predictions.js';
import { findDisagreements } from '../../src/predictive/find-disagreements.js';
import { DEFAULT_GBDT_OPTIONS, gbdtContributions, trainGbdt } from '../../src/predictive/gradient-boosting.js';
import { logisticContributions, trainLogistic } from '../../src/predictive/logistic-regression.js';
import { minimizeLbfgs } from '../../src/predictive/minimize-lbfgs.js';
import { fitPlattScaling } from '../../src/predictive/platt-scaling.js';
import { predict } from '../../src/predictive/predictive-model.js';
import type { RawRow } from '../../src/predictive/raw-row.js';
import { sigmoid } from '../../src/predictive/sigmoid.js';
import { DEFAULT_TRAINING, trainPredictiveModel } from '../../src/predictive/train-predictive-model.js';
import { seededRandom } from '../../src/seeded-random.js';

const DAY = 86_400_000;

/** n rows of two numeric inputs; the outcome follows a known logistic model (or XOR of their signs). */
function synthetic(n: number, seed: number, kind: 'linear' | 'xor') {
  const random = seededRandom(seed);
  const matrix = new Float64Array(n * 2);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = random() * 4 - 2;
    const b = random() * 4 - 2;
    matrix[2 * i] = a;
    matrix[2 * i + 1] = b;
    const p = kind === 'linear' ? sigmoid(1.5 * a - 2 * b + 0.5) : a * b > 0 ? 0.95 : 0.05;
    labels[i] = random() < p ? 1 : 0;
  }
  return { matrix, labels };
}

function auc(scores: number[], labels: ArrayLike<number>): number {
  return evaluatePredictions(scores, Array.from(labels, Boolean)).auc;
}

describe('L-BFGS', () => {
  it('finds the minimum of a badly scaled quadratic', () => {
    const r = minimizeLbfgs((x, g) => {
      g[0] = 2 * (x[0]! - 3);
      g[1] = 2000 * (x[1]! + 1);
      return (x[0]! - 3) ** 2 + 1000 * (x[1]! + 1) ** 2;
    }, new Float64Array(2));
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(3, 6);
    expect(r.x[1]).toBeCloseTo(-1, 6);
  });
});

describe('logistic regression', () => {
  it('converges: the penalised gradient, computed independently, is zero at its answer', () => {
    const { matrix, labels } = synthetic(2000, 1, 'linear');
    const l2 = 1e-3;
    const model = trainLogistic(matrix, labels, 2, { l2 });
    expect(model.converged).toBe(true);
    // Gradient of mean log loss + l2/2·|w|² in standardised space, from scratch.
    const grad = [0, 0, 0];
    for (let i = 0; i < 2000; i++) {
      const z = [0, 1].map((j) => (matrix[2 * i + j]! - model.means[j]!) / model.scales[j]!);
      const p = sigmoid(model.intercept + model.weights[0]! * z[0]! + model.weights[1]! * z[1]!);
      grad[0]! += (p - labels[i]!) / 2000;
      grad[1]! += ((p - labels[i]!) * z[0]!) / 2000;
      grad[2]! += ((p - labels[i]!) * z[1]!) / 2000;
    }
    grad[1]! += l2 * model.weights[0]!;
    grad[2]! += l2 * model.weights[1]!;
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-5);
    // The raw-scale coefficients come back near the generating ones (1.5, −2, 0.5).
    const raw = model.weights.map((w, j) => w / model.scales[j]!);
    expect(raw[0]).toBeCloseTo(1.5, 0);
    expect(raw[1]).toBeCloseTo(-2, 0);
  });

  it('explains each prediction exactly: intercept + contributions = log-odds', () => {
    const { matrix, labels } = synthetic(500, 2, 'linear');
    const model = trainLogistic(matrix, labels, 2, { l2: 1e-2 });
    const x = Float64Array.of(1.2, -0.7);
    const { logit, base, contributions } = logisticContributions(model, x);
    expect(base + contributions[0]! + contributions[1]!).toBeCloseTo(logit, 12);
    expect(contributions[0]).toBeGreaterThan(0);
    expect(contributions[1]).toBeGreaterThan(0);
  });
});

describe('gradient-boosted trees', () => {
  it('learns an interaction a linear model cannot (XOR): AUC near 1 against near 0.5', () => {
    const fit = synthetic(3000, 3, 'xor');
    const validation = synthetic(1000, 4, 'xor');
    const trees = trainGbdt(fit, validation, 2);
    const linear = trainLogistic(fit.matrix, fit.labels, 2, { l2: 1e-3 });
    const rows = Array.from({ length: 1000 }, (_, i) => validation.matrix.subarray(2 * i, 2 * i + 2));
    const treeAuc = auc(
      rows.map((x) => gbdtContributions(trees, x).logit),
      validation.labels,
    );
    const linearAuc = auc(
      rows.map((x) => logisticContributions(linear, x).logit),
      validation.labels,
    );
    expect(treeAuc).toBeGreaterThan(0.85);
    expect(linearAuc).toBeLessThan(0.6);
  });

  it('splits a step at the midpoint between the two sides, with the leaf values of the log loss', () => {
    // x ≤ 5 → 10 % positive, x > 5 → 90 %: one stump, threshold 5.5 (between 5 and 6).
    const xs = Array.from({ length: 200 }, (_, i) => (i % 10) + 1);
    const labels = Uint8Array.from(xs, (x, i) => (x <= 5 ? (i % 100 < 10 ? 1 : 0) : i % 100 < 90 ? 1 : 0));
    const data = { matrix: Float64Array.from(xs), labels };
    const model = trainGbdt(data, data, 1, { ...DEFAULT_GBDT_OPTIONS, maxLeafNodes: 2, maxIterations: 1, l2: 0 });
    expect(model.trees[0]!.feature[0]).toBe(0);
    expect(model.trees[0]!.threshold[0]).toBe(5.5);
  });

  it('stops early when the validation loss stops improving, and is deterministic', () => {
    const fit = synthetic(1500, 5, 'linear');
    const validation = synthetic(500, 6, 'linear');
    const a = trainGbdt(fit, validation, 2, { ...DEFAULT_GBDT_OPTIONS, maxIterations: 1000 });
    const b = trainGbdt(fit, validation, 2, { ...DEFAULT_GBDT_OPTIONS, maxIterations: 1000 });
    expect(a.iterations).toBeLessThan(1000);
    expect(a.trees).toHaveLength(a.iterations);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('explains each prediction exactly: base + path contributions = log-odds', () => {
    const fit = synthetic(1000, 7, 'xor');
    const model = trainGbdt(fit, synthetic(300, 8, 'xor'), 2);
    for (const x of [Float64Array.of(1, 1), Float64Array.of(-1, 1), Float64Array.of(0.1, -1.9)]) {
      const { logit, base, contributions } = gbdtContributions(model, x);
      expect(base + contributions[0]! + contributions[1]!).toBeCloseTo(logit, 10);
    }
  });
});

describe('feature encoding', () => {
  const rows: RawRow[] = [
    ...Array.from({ length: 30 }, (_, i) => ({ source: 'Google', visits: String(i), constant: 'x', id: `p${i}` })),
    ...Array.from({ length: 20 }, (_, i) => ({ source: 'Email', visits: '', constant: 'x', id: `q${i}` })),
    ...Array.from({ length: 3 }, (_, i) => ({ source: 'Fax', visits: 'n/a', constant: 'x', id: `r${i}` })),
    ...Array.from({ length: 12 }, (_, i) => ({ source: '', visits: 'NaN', constant: 'x', id: `s${i}` })),
  ];
  const spec = buildFeatureSpec(rows, ['source', 'visits', 'constant', 'id']);

  it('keeps frequent levels and blank, pools rare ones, ignores constants and identifiers, and says so', () => {
    expect(spec.columns.find((c) => c.name === 'source')).toEqual({
      kind: 'categorical',
      name: 'source',
      levels: ['Google', 'Email', '(blank)'],
      other: true,
    });
    expect(spec.ignored).toEqual([
      { name: 'constant', reason: 'constant (always "x")' },
      { name: 'id', reason: 'an identifier (every value is distinct)' },
    ]);
    expect(spec.warnings.join('\n')).toMatch(/source: 1 rare level\(s\) pooled into \(other\)/);
  });

  it('treats text in a numeric column as missing and warns; NaN and Infinity are missing too', () => {
    const visits = spec.columns.find((c) => c.name === 'visits');
    // 30 numbers, 3 "n/a" and 12 "NaN" among 45 filled: under 95 % numbers, so the column would be categorical…
    expect(visits?.kind).toBe('categorical');
    // 60 numbers and 2 that are not among 62 filled cells: numeric, the two count as missing.
    const numbers = Array.from({ length: 60 }, (_, i) => ({ visits: i % 30 }));
    const numeric = buildFeatureSpec(
      [...numbers, { visits: 'lots' }, { visits: 'Infinity' }, ...rows.slice(30, 50)],
      ['visits'],
    );
    expect(numeric.columns[0]).toMatchObject({ kind: 'numeric', median: 14.5, missingIndicator: true });
    expect(numeric.warnings[0]).toMatch(
      /visits: 2 value\(s\) that are not numbers \("lots", "Infinity"\) count as missing/,
    );
    const encoded = encodeRow(numeric, { visits: 'Infinity' });
    expect(Array.from(encoded.inputs)).toEqual([14.5, 1]);
    expect(encoded.invalid).toEqual(['visits']);
  });

  it('scores an unseen level as (other) and a column the row lacks as missing', () => {
    const encoded = encodeRow(spec, { source: 'Carrier pigeon' });
    const at = spec.inputs.indexOf('source=(other)');
    expect(encoded.inputs[at]).toBe(1);
    expect(encoded.absent).toEqual(['visits']);
  });
});

describe('training', () => {
  function leads(n: number, seed: number) {
    const random = seededRandom(seed);
    const rows: RawRow[] = [];
    const labels: boolean[] = [];
    for (let i = 0; i < n; i++) {
      const industry = ['software', 'retail', 'finance', 'education'][Math.floor(random() * 4)]!;
      const visits = Math.floor(random() * 20);
      const t = (industry === 'software' ? 1.5 : industry === 'retail' ? -1 : 0) + 0.15 * (visits - 10);
      rows.push({ industry, visits: random() < 0.1 ? '' : visits, note: 'same' });
      labels.push(random() < sigmoid(t));
    }
    return { rows, labels };
  }

  it('refuses too little data, saying how much it has and needs', () => {
    const { rows, labels } = leads(150, 1);
    const r = trainPredictiveModel(rows, labels, ['industry', 'visits'], {
      kind: 'logistic',
      outcome: 'won',
      ...DEFAULT_TRAINING,
    });
    expect(r).toEqual({
      ok: false,
      message: expect.stringMatching(
        /^not enough data to train: it has 150 rows with \d+ positive and \d+ negative outcomes; training needs at least 200 rows and 40 of each outcome$/,
      ),
    });
    const allNo = trainPredictiveModel(rows.concat(rows), [...labels, ...labels].fill(false), ['industry'], {
      kind: 'gbdt',
      outcome: 'won',
      ...DEFAULT_TRAINING,
    });
    expect(allNo.ok).toBe(false);
    expect(!allNo.ok && allNo.message).toMatch(/with 0 positive and 300 negative outcomes/);
  });

  it('refuses when no column is usable', () => {
    const { rows, labels } = leads(400, 2);
    const r = trainPredictiveModel(rows, labels, ['note'], { kind: 'gbdt', outcome: 'won', ...DEFAULT_TRAINING });
    expect(r).toEqual({
      ok: false,
      message: 'no column can be used as a model input (note: constant (always "same"))',
    });
  });

  for (const kind of ['logistic', 'gbdt'] as const) {
    it(`${kind}: learns the generating pattern, is calibrated, explains itself, never returns NaN`, () => {
      const train = leads(3000, 3);
      const test = leads(1000, 4);
      const r = trainPredictiveModel(train.rows, train.labels, ['industry', 'visits', 'note'], {
        kind,
        outcome: 'won',
        ...DEFAULT_TRAINING,
      });
      if (!r.ok) throw new Error(r.message);
      const model = r.model;
      expect(model.card.ignored).toEqual([{ name: 'note', reason: 'constant (always "same")' }]);
      expect(model.card.topFactors.map((f) => f.column).sort()).toEqual(['industry', 'visits']);
      const predictions = test.rows.map((row) => predict(model, row));
      const metrics = evaluatePredictions(
        predictions.map((p) => p.probability),
        test.labels,
      );
      // The generating model itself scores 0.757 on these rows (knowing every visits value, which the data hides 10 % of).
      expect(metrics.auc).toBeGreaterThan(0.73);
      // Calibrated: the mean predicted probability is within 3 points of the observed rate.
      const mean = predictions.reduce((s, p) => s + p.probability, 0) / predictions.length;
      expect(Math.abs(mean - metrics.positives / metrics.rows)).toBeLessThan(0.03);
      const software = predict(model, { industry: 'software', visits: 10 });
      expect(software.factors[0]!.column).toBe('industry');
      expect(software.factors[0]!.contribution).toBeGreaterThan(0);
      expect(software.base + software.factors.reduce((s, f) => s + f.contribution, 0)).toBeCloseTo(software.logit, 9);
      for (const odd of [{}, { industry: 'mining', visits: 'many' }, { visits: Number.NaN }, { visits: Infinity }]) {
        expect(Number.isFinite(predict(model, odd).probability)).toBe(true);
      }
      expect(predict(model, { visits: 'many' }).invalid).toEqual(['visits']);
    });
  }
});

describe('calibration and metrics', () => {
  it('Platt scaling undoes an over-confident scale', () => {
    const random = seededRandom(9);
    const n = 5000;
    const logits = new Float64Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const t = random() * 6 - 3;
      labels[i] = random() < sigmoid(t) ? 1 : 0;
      logits[i] = 3 * t; // three times too sure
    }
    const { a, b } = fitPlattScaling(logits, labels);
    expect(a).toBeCloseTo(1 / 3, 1);
    expect(Math.abs(b)).toBeLessThan(0.1);
  });

  it('log loss, Brier, AUC, gains and precision/recall by hand', () => {
    const m = evaluatePredictions([0.9, 0.8, 0.3, 0.2], [true, false, true, false]);
    expect(m.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.2) + Math.log(0.3) + Math.log(0.8)) / 4, 12);
    expect(m.brier).toBeCloseTo((0.01 + 0.64 + 0.49 + 0.04) / 4, 12);
    expect(m.auc).toBe(0.75);
    const half = m.precisionRecall.find((r) => r.threshold === 0.5)!;
    expect(half).toMatchObject({ flagged: 2, precision: 0.5, recall: 0.5 });
    expect(m.gains.at(-1)!.cumulativeGain).toBe(1);
  });
});

describe('behaviour features', () => {
  const now = Date.UTC(2026, 5, 1);
  const events = [
    { type: 'page', name: null, path: '/pricing/teams', at: now - 2 * DAY },
    { type: 'page', name: null, path: '/pricing', at: now - 2 * DAY + 60_000 },
    { type: 'track', name: 'Demo Requested', path: null, at: now - 20 * DAY },
    { type: 'page', name: null, path: '/blog/x', at: now - 60 * DAY },
    { type: 'identify', name: null, path: null, at: now - 60 * DAY },
    { type: 'page', name: null, path: '/pricing', at: now + DAY },
  ];

  it('counts over windows as of a moment, never what came after', () => {
    const vocabulary = learnVocabulary([events]);
    expect(vocabulary).toEqual({ pageGroups: ['/blog', '/pricing'], eventNames: ['Demo Requested'] });
    const row = behaviourFeatures(events, now - 90 * DAY, now, vocabulary);
    expect(row).toMatchObject({
      'behaviour.page_views_7d': 2,
      'behaviour.page_views_30d': 2,
      'behaviour.page_views_90d': 3,
      'behaviour.track_events_30d': 1,
      'behaviour.active_days_90d': 3,
      'behaviour.sessions': 3,
      'behaviour.days_since_last_event': 2 - 1 / 1440,
      'behaviour.days_since_created': 90,
      'behaviour.page:/pricing': 2,
      'behaviour.page:/pricing:30d': 2,
      'behaviour.page:/blog': 1,
      'behaviour.page:/blog:30d': 0,
      'behaviour.event:Demo Requested': 1,
    });
    expect(pageGroup('/Pricing/x?y=1')).toBe('/pricing');
    expect(pageGroup(null)).toBe('/');
  });
});

describe('disagreements', () => {
  it('lists leads the model ranks far above the rules, and the reverse', () => {
    const leads = Array.from({ length: 10 }, (_, i) => ({
      id: `c${i}`,
      email: null,
      score: i * 10,
      probability: i / 10,
    }));
    leads[1]!.probability = 0.99; // rules: bottom; model: top
    leads[9]!.probability = 0.01; // rules: top; model: bottom
    const d = findDisagreements(leads, 5);
    expect(d.modelHigherThanRules.map((x) => x.id)).toEqual(['c1']);
    expect(d.rulesHigherThanModel.map((x) => x.id)).toEqual(['c9']);
  });
});

describe('outcome labels', () => {
  const created = Date.UTC(2026, 0, 1);
  const contact = (reached: Record<string, number>, traits: Record<string, unknown> = {}) => ({
    id: 'c',
    stage: 'lost' in reached ? 'lost' : 'contact',
    reached: new Map(Object.entries(reached)),
    rejected: false,
    traits,
    createdAt: created,
    events: [],
  });
  const now = created + 100 * DAY;

  it('ever: reached is a yes when reached, lost is a no when lost, the rest are open', () => {
    expect(contactLabel({ kind: 'won' }, contact({ won: created + 5 * DAY }), now)).toEqual({
      label: true,
      at: created + 5 * DAY,
    });
    expect(contactLabel({ kind: 'won' }, contact({ lost: created + 9 * DAY }), now)).toEqual({
      label: false,
      at: created + 9 * DAY,
    });
    expect(contactLabel({ kind: 'won' }, contact({ mql: created + DAY }), now)).toBeNull();
    expect(contactLabel({ kind: 'column', column: 'Converted' }, contact({}, { converted: 'yes' }), now)).toEqual({
      label: true,
      at: now,
    });
  });

  it('within N days: a yes only if reached by the deadline; a no at the deadline once it has passed', () => {
    const mql = { kind: 'stage' as const, stage: 'mql' };
    expect(contactLabel(mql, contact({ mql: created + 10 * DAY }), now, 30)).toEqual({
      label: true,
      at: created + 10 * DAY,
    });
    expect(contactLabel(mql, contact({ mql: created + 40 * DAY }), now, 30)).toEqual({
      label: false,
      at: created + 30 * DAY,
    });
    expect(contactLabel(mql, contact({}), now, 30)).toEqual({ label: false, at: created + 30 * DAY });
    expect(contactLabel(mql, contact({ lost: created + 3 * DAY }), now, 30)).toEqual({
      label: false,
      at: created + 3 * DAY,
    });
    // Younger than the window and not there yet: still open.
    expect(contactLabel(mql, contact({}), created + 10 * DAY, 30)).toBeNull();
  });
});
