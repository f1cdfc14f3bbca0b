import type { Recommendation, ThresholdRow } from '../../src/scoring/backtest-metrics.js';
import { ApiError, api, status } from '../api.js';
import { lineChart } from '../charts.js';
import { empty, h, replace, table } from '../dom.js';
import { dec, pct } from '../format.js';

interface ActiveModel {
  version: number;
  name: string;
  activatedAt: string | null;
  source: string;
  model: {
    fit?: Array<{ id: string; points: number; when: unknown }>;
    engagement?: Array<{ id: string; points: number; when: unknown; limit?: unknown; half_life_days?: number }>;
    thresholds?: Record<string, number>;
    half_life_days?: number;
  };
}
interface Backtest {
  contacts: number;
  unknownOutcome: number;
  models: Array<{
    name: string;
    metrics: {
      contacts: number;
      positives: number;
      rocAuc: number;
      thresholds: ThresholdRow[];
      deciles: Array<{ decile: number; lift: number; outcomeRate: number }>;
    };
    forPrecision: Recommendation | null;
    forCapacity: Recommendation | null;
  }>;
}
interface Card {
  version: number;
  kind: string;
  outcome: string;
  card: {
    rows: number;
    positives: number;
    validation: { auc: number; logLoss: number };
    topFactors: Array<{ column: string; importance: number }>;
  };
}

/** Model: the active rules, a backtest with lift and precision/recall charts and a recommended threshold, the predictive model. */
export async function modelPage(root: HTMLElement): Promise<void> {
  const has = await status();
  const [active, predictive] = await Promise.all([
    has.scoringModel ? api<ActiveModel>('/api/models/active') : null,
    has.predictiveModel ? api<Card>('/api/predictive/models/active') : null,
  ]);
  root.append(h('h1', {}, 'Scoring model'));
  if (!active) {
    root.append(
      empty(
        'No scoring model is active: `kerma model apply FILE.yaml` applies one (see the README for the file format).',
      ),
    );
  } else {
    const rule = (kind: string, r: { id: string; points: number; when: unknown }) => [
      kind,
      r.id,
      r.points,
      h('code', {}, JSON.stringify(r.when)),
    ];
    root.append(
      h(
        'p',
        {},
        `"${active.name}", version ${active.version}${active.activatedAt ? `, active since ${active.activatedAt.slice(0, 10)}` : ''}. Thresholds: ${
          Object.entries(active.model.thresholds ?? {})
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none'
        }.`,
      ),
      table(
        'Rules',
        ['Kind', 'Rule', 'Points', 'When'],
        [
          ...(active.model.fit ?? []).map((r) => rule('fit', r)),
          ...(active.model.engagement ?? []).map((r) => rule('engagement', r)),
        ],
        { id: 'rules-table' },
      ),
      backtestForm(active.source),
    );
  }
  root.append(h('h2', {}, 'Predictive model'));
  root.append(
    predictive
      ? h(
          'div',
          {},
          h(
            'p',
            {},
            `Version ${predictive.version} (${predictive.kind}) predicts ${predictive.outcome}: trained on ${predictive.card.rows} rows, ${predictive.card.positives} positive; validation ROC AUC ${predictive.card.validation.auc.toFixed(3)}, log loss ${predictive.card.validation.logLoss.toFixed(3)}.`,
          ),
          table(
            'What drives it most',
            ['Column', 'Mean |log-odds|'],
            predictive.card.topFactors.map((f) => [f.column, Number(f.importance.toFixed(3))]),
          ),
        )
      : empty('No predictive model is active: `kerma train --outcome won` trains one on won/lost history.'),
  );
}

function backtestForm(source: string): HTMLElement {
  const out = h('div', { id: 'backtest-result' });
  const outcome = h('input', { id: 'bt-outcome', list: 'bt-outcomes', value: 'won', required: true });
  const outcomes = h(
    'datalist',
    { id: 'bt-outcomes' },
    ['won', 'sql', 'stage:meeting', 'trait:converted'].map((o) => h('option', { value: o })),
  );
  const at = h(
    'select',
    { id: 'bt-at' },
    [
      ['days:30', '30 days after creation'],
      ['mql', 'when it became an MQL'],
      ['now', 'now'],
    ].map(([v, l]) => h('option', { value: v! }, l!)),
  );
  const precision = h('input', {
    id: 'bt-precision',
    type: 'number',
    min: '0.05',
    max: '1',
    step: '0.05',
    value: '0.5',
  });
  const capacity = h('input', { id: 'bt-capacity', type: 'number', min: '1', step: '1', value: '40' });
  const run = async (e: Event) => {
    e.preventDefault();
    replace(out, h('p', { class: 'loading' }, 'Replaying history…'));
    try {
      const r = await api<Backtest>('/api/models/backtest', {
        method: 'POST',
        body: {
          model: source,
          outcome: outcome.value,
          at: at.value,
          precision: Number(precision.value),
          capacity: Number(capacity.value),
        },
      });
      showBacktest(out, r);
    } catch (error) {
      replace(out, empty(error instanceof ApiError ? error.message : String(error)));
    }
  };
  return h(
    'section',
    {},
    h('h2', {}, 'Backtest on history'),
    h(
      'form',
      { class: 'filters', onsubmit: run },
      h('span', { class: 'filter' }, h('label', { for: 'bt-outcome' }, 'Outcome '), outcome, outcomes),
      h('span', { class: 'filter' }, h('label', { for: 'bt-at' }, 'Score taken '), at),
      h('span', { class: 'filter' }, h('label', { for: 'bt-precision' }, 'Target precision '), precision),
      h('span', { class: 'filter' }, h('label', { for: 'bt-capacity' }, 'Sales capacity (leads/week) '), capacity),
      h('button', { type: 'submit' }, 'Run backtest'),
    ),
    out,
  );
}

function showBacktest(out: HTMLElement, r: Backtest): void {
  const m = r.models[0]!;
  const say = (label: string, rec: Recommendation | null) =>
    rec === null
      ? null
      : h(
          'li',
          {},
          rec.ok
            ? `${label}: threshold ${rec.threshold} (${pct(rec.row.precision)} precision, ${pct(rec.row.recall)} recall, ${dec(rec.row.leadsPerWeek)} leads a week)`
            : `${label}: ${rec.reason}`,
        );
  const lift = h('div', { class: 'chart', role: 'img', 'aria-label': 'Lift by score decile' });
  const pr = h('div', { class: 'chart', role: 'img', 'aria-label': 'Precision and recall by threshold' });
  replace(
    out,
    h(
      'p',
      {},
      `${m.metrics.contacts} contacts with a known outcome (${m.metrics.positives} positive), ROC AUC ${m.metrics.rocAuc.toFixed(3)}.`,
    ),
    h(
      'ul',
      { id: 'recommendation' },
      say('For the target precision', m.forPrecision),
      say('For the sales capacity', m.forCapacity),
    ),
    h('h3', {}, 'Lift by decile (1 = highest scores)'),
    lift,
    h('h3', {}, 'Precision and recall by threshold'),
    pr,
  );
  lineChart(
    lift,
    'decile',
    m.metrics.deciles.map((d) => d.decile),
    [{ label: 'lift', values: m.metrics.deciles.map((d) => d.lift) }],
    true,
  );
  lineChart(
    pr,
    'threshold',
    m.metrics.thresholds.map((t) => t.threshold),
    [
      { label: 'precision', values: m.metrics.thresholds.map((t) => t.precision) },
      { label: 'recall', values: m.metrics.thresholds.map((t) => t.recall) },
    ],
  );
}
