import type { PredictiveModel } from '../predictive/predictive-model.js';

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

/** A model card as text for the terminal. */
export function formatModelCard(version: number, model: PredictiveModel): string {
  const c = model.card;
  const v = c.validation;
  const lines = [
    `predictive model ${version}: ${c.kind === 'gbdt' ? 'gradient-boosted trees' : 'logistic regression'} for ${c.outcome}`,
    `  data: ${c.rows} rows, ${c.positives} positive (${pct(c.positives / c.rows)})${c.dateRange ? `, created ${c.dateRange.from} … ${c.dateRange.to}` : ''}`,
    `  inputs: ${c.columns.length} columns → ${c.inputs} inputs; trained in ${(c.training.ms / 1000).toFixed(1)} s (${c.training.iterations} ${c.kind === 'gbdt' ? 'trees' : 'iterations'}${c.training.l2 !== undefined ? `, L2 ${c.training.l2}` : ''}, seed ${c.training.seed})`,
    `  validation (${c.validationRows} held-out rows): ROC AUC ${v.auc.toFixed(4)}, log loss ${v.logLoss.toFixed(4)}, Brier ${v.brier.toFixed(4)}`,
    '  calibration (predicted → observed):',
    ...v.calibration
      .filter((b) => b.rows > 0)
      .map(
        (b) =>
          `    ${pct(b.from)}–${pct(b.to)}: ${b.rows} rows, predicted ${pct(b.meanPredicted)}, observed ${pct(b.observedRate)}`,
      ),
    '  gains by decile (top first):',
    ...v.gains.map(
      (g) =>
        `    ${g.decile}: ${g.positives}/${g.rows} positive (${pct(g.rate)}), lift ${g.lift.toFixed(2)}, cumulative gain ${pct(g.cumulativeGain)}`,
    ),
    '  precision / recall by threshold:',
    ...v.precisionRecall.map(
      (r) =>
        `    ≥ ${r.threshold.toFixed(1)}: ${r.flagged} flagged, precision ${pct(r.precision)}, recall ${pct(r.recall)}`,
    ),
    '  top factors (mean |log-odds| share):',
    ...c.topFactors.map((f) => `    ${f.column}: ${f.importance.toFixed(3)}`),
  ];
  if (c.ignored.length) lines.push('  ignored columns:', ...c.ignored.map((i) => `    ${i.name}: ${i.reason}`));
  if (c.warnings.length) lines.push('  notes:', ...c.warnings.map((w) => `    ${w}`));
  return `${lines.join('\n')}\n`;
}
