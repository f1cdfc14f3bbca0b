import { rocAuc } from '../scoring/backtest-metrics.js';

export interface CalibrationRow {
  /** Predicted-probability bin [from, to). */
  from: number;
  to: number;
  rows: number;
  meanPredicted: number | null;
  observedRate: number | null;
}

export interface GainsRow {
  decile: number;
  rows: number;
  positives: number;
  rate: number;
  /** Share of all positives found in this decile and the ones above it. */
  cumulativeGain: number;
  lift: number;
}

export interface PrecisionRecallRow {
  threshold: number;
  flagged: number;
  precision: number | null;
  recall: number;
  f1: number | null;
}

export interface PredictionMetrics {
  rows: number;
  positives: number;
  auc: number;
  logLoss: number;
  brier: number;
  calibration: CalibrationRow[];
  gains: GainsRow[];
  precisionRecall: PrecisionRecallRow[];
}

/**
 * How good a set of probabilities is against what happened: ROC AUC (as scikit-learn's roc_auc_score), log loss
 * (probabilities clipped to [1e-15, 1 − 1e-15], as scikit-learn's log_loss), Brier score, a ten-bin calibration table,
 * gains and lift by decile, and precision / recall / F1 at thresholds 0.1 … 0.9.
 * @example evaluatePredictions([0.9, 0.2], [true, false]).auc // 1
 */
export function evaluatePredictions(
  probabilities: ArrayLike<number>,
  outcomes: ArrayLike<boolean | number>,
): PredictionMetrics {
  const n = probabilities.length;
  const labels = Array.from({ length: n }, (_, i) => Boolean(outcomes[i]));
  const positives = labels.filter(Boolean).length;
  let logLoss = 0;
  let brier = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(probabilities[i]!, 1e-15), 1 - 1e-15);
    logLoss -= labels[i] ? Math.log(p) : Math.log(1 - p);
    brier += (probabilities[i]! - (labels[i] ? 1 : 0)) ** 2;
  }
  const auc = rocAuc(labels.map((positive, i) => ({ score: probabilities[i]!, positive, at: 0 })));
  const calibration: CalibrationRow[] = [];
  for (let b = 0; b < 10; b++) {
    const from = b / 10;
    const to = (b + 1) / 10;
    let rows = 0;
    let sum = 0;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const p = probabilities[i]!;
      if (p >= from && (p < to || (b === 9 && p <= 1))) {
        rows++;
        sum += p;
        if (labels[i]) hits++;
      }
    }
    calibration.push({
      from,
      to,
      rows,
      meanPredicted: rows ? sum / rows : null,
      observedRate: rows ? hits / rows : null,
    });
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probabilities[b]! - probabilities[a]!);
  const gains: GainsRow[] = [];
  const baseRate = n ? positives / n : 0;
  let found = 0;
  for (let d = 0; d < 10 && n > 0; d++) {
    const slice = order.slice(Math.floor((d * n) / 10), Math.floor(((d + 1) * n) / 10));
    const hits = slice.filter((i) => labels[i]).length;
    found += hits;
    const rate = slice.length ? hits / slice.length : 0;
    gains.push({
      decile: d + 1,
      rows: slice.length,
      positives: hits,
      rate,
      cumulativeGain: positives ? found / positives : 0,
      lift: baseRate > 0 ? rate / baseRate : 0,
    });
  }
  const precisionRecall: PrecisionRecallRow[] = [];
  for (let t = 1; t <= 9; t++) {
    const threshold = t / 10;
    let flagged = 0;
    let truePositives = 0;
    for (let i = 0; i < n; i++) {
      if (probabilities[i]! >= threshold) {
        flagged++;
        if (labels[i]) truePositives++;
      }
    }
    const precision = flagged ? truePositives / flagged : null;
    const recall = positives ? truePositives / positives : 0;
    const f1 = precision !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null;
    precisionRecall.push({ threshold, flagged, precision, recall, f1 });
  }
  return {
    rows: n,
    positives,
    auc,
    logLoss: n ? logLoss / n : 0,
    brier: n ? brier / n : 0,
    calibration,
    gains,
    precisionRecall,
  };
}
