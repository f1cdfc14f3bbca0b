import type { BacktestResult, ModelBacktest } from '../models/run-backtest.js';
import type { Recommendation, ThresholdRow } from '../scoring/backtest-metrics.js';

const pct = (v: number | null) => (v === null ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)}%`);
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

function thresholdLine(r: ThresholdRow): string {
  return `  ${num(r.threshold).padStart(9)} ${String(r.above).padStart(7)} ${pct(r.precision)} ${pct(r.recall)} ${r.f1 === null ? '   -  ' : r.f1.toFixed(3).padStart(6)} ${r.leadsPerWeek.toFixed(1).padStart(9)}`;
}

function recommendation(label: string, rec: Recommendation | null): string[] {
  if (!rec) return [];
  return rec.ok
    ? [
        `${label}: threshold ${num(rec.threshold)} (precision ${pct(rec.row.precision).trim()}, recall ${pct(rec.row.recall).trim()}, ${rec.row.leadsPerWeek.toFixed(1)} leads/week)`,
      ]
    : [`${label}: ${rec.reason}`];
}

function modelSection(m: ModelBacktest): string[] {
  const x = m.metrics;
  // Ten evenly spaced rows of the threshold table plus every row that is one of the model's own thresholds.
  const step = Math.max(1, Math.floor(x.thresholds.length / 10));
  const shown = x.thresholds.filter((_, i) => i % step === 0);
  return [
    `model ${m.name}`,
    `  ROC AUC ${x.rocAuc.toFixed(4)}  (${x.contacts} contacts, ${x.positives} with the outcome, base rate ${pct(x.baseRate).trim()}, over ${x.weeks.toFixed(1)} weeks)`,
    '  threshold   above  precis  recall     F1  leads/wk',
    ...shown.map(thresholdLine),
    '  lift by decile (1 = highest scores)',
    ...x.deciles.map(
      (d) =>
        `    ${String(d.decile).padStart(2)}  scores ${num(d.minScore)}..${num(d.maxScore)}  rate ${pct(d.outcomeRate)}  lift ${d.lift.toFixed(2)}`,
    ),
    '  outcome rate per band',
    ...x.bands.map(
      (b) => `    ${b.band.padEnd(12)} ${String(b.contacts).padStart(7)} contacts  rate ${pct(b.outcomeRate)}`,
    ),
    ...recommendation('  for the target precision', m.forPrecision),
    ...recommendation('  for the sales capacity', m.forCapacity),
  ];
}

/** The backtest as text for a person; `--json` prints the result object instead. */
export function formatBacktest(result: Extract<BacktestResult, { ok: true }>): string {
  const lines = [
    `${result.contacts} contacts, ${result.unknownOutcome} without a known outcome left out${result.neverMql ? `, ${result.neverMql} that never became an MQL left out` : ''}`,
  ];
  for (const m of result.models) lines.push('', ...modelSection(m));
  if (result.models.length === 2) {
    const [a, b] = result.models as [ModelBacktest, ModelBacktest];
    lines.push(
      '',
      `ROC AUC ${a.name} ${a.metrics.rocAuc.toFixed(4)} vs ${b.name} ${b.metrics.rocAuc.toFixed(4)} (difference ${(b.metrics.rocAuc - a.metrics.rocAuc).toFixed(4)})`,
    );
  }
  return `${lines.join('\n')}\n`;
}
