/** One contact in a backtest: its score at the cut point, whether the outcome happened, and when it was scored. */
export interface ScoredOutcome {
  score: number;
  positive: boolean;
  at: number;
}

export interface ThresholdRow {
  threshold: number;
  above: number;
  truePositives: number;
  precision: number | null;
  recall: number;
  f1: number | null;
  leadsPerWeek: number;
}

export interface DecileRow {
  decile: number;
  contacts: number;
  minScore: number;
  maxScore: number;
  outcomeRate: number;
  lift: number;
}

export interface BandRow {
  band: string;
  from: number | null;
  to: number | null;
  contacts: number;
  positives: number;
  outcomeRate: number | null;
}

export interface BacktestMetrics {
  contacts: number;
  positives: number;
  baseRate: number;
  rocAuc: number;
  /** Weeks between the first and last cut point (at least one), the denominator of leads per week. */
  weeks: number;
  thresholds: ThresholdRow[];
  deciles: DecileRow[];
  bands: BandRow[];
}

/** Fewer outcomes than this on either side and ROC AUC and precision mean little; the backtest refuses. */
export const MIN_OUTCOMES_PER_CLASS = 20;

const WEEK_MS = 7 * 86_400_000;

/**
 * ROC AUC as the Mann–Whitney statistic with average ranks for ties: the chance that a random positive outscores a
 * random negative (ties count half). Equals scikit-learn's roc_auc_score.
 * @example rocAuc([{ score: 1, positive: true, at: 0 }, { score: 0, positive: false, at: 0 }]) // 1
 */
export function rocAuc(rows: ScoredOutcome[]): number {
  const sorted = [...rows].sort((a, b) => a.score - b.score);
  let rankSumPositive = 0;
  let positives = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j]!.score === sorted[i]!.score) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (sorted[k]!.positive) {
        rankSumPositive += averageRank;
        positives++;
      }
    }
    i = j;
  }
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function thresholdRow(rows: ScoredOutcome[], threshold: number, totalPositives: number, weeks: number): ThresholdRow {
  let above = 0;
  let truePositives = 0;
  for (const r of rows) {
    if (r.score >= threshold) {
      above++;
      if (r.positive) truePositives++;
    }
  }
  const precision = above === 0 ? null : truePositives / above;
  const recall = totalPositives === 0 ? 0 : truePositives / totalPositives;
  const f1 = precision === null || precision + recall === 0 ? null : (2 * precision * recall) / (precision + recall);
  return { threshold, above, truePositives, precision, recall, f1, leadsPerWeek: above / weeks };
}

/**
 * Everything a backtest reports: ROC AUC, precision/recall/F1 and leads per week at each threshold (the model's own
 * thresholds plus every distinct score, capped to a readable number of quantile points), lift by decile and the
 * outcome rate per status band.
 */
export function backtestMetrics(
  rows: ScoredOutcome[],
  bands: Array<{ band: string; from: number | null; to: number | null }>,
  extraThresholds: number[] = [],
): BacktestMetrics {
  const positives = rows.filter((r) => r.positive).length;
  const times = rows.map((r) => r.at);
  const weeks = Math.max(1, rows.length === 0 ? 1 : (Math.max(...times) - Math.min(...times)) / WEEK_MS);
  const distinct = [...new Set(rows.map((r) => r.score))].sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(distinct.length / 200));
  const candidates = new Set<number>(extraThresholds);
  for (let i = 0; i < distinct.length; i += step) candidates.add(distinct[i]!);
  const thresholds = [...candidates].sort((a, b) => a - b).map((t) => thresholdRow(rows, t, positives, weeks));

  const byScore = [...rows].sort((a, b) => b.score - a.score);
  const baseRate = rows.length === 0 ? 0 : positives / rows.length;
  const deciles: DecileRow[] = [];
  for (let d = 0; d < 10; d++) {
    const slice = byScore.slice(Math.floor((d * byScore.length) / 10), Math.floor(((d + 1) * byScore.length) / 10));
    if (slice.length === 0) continue;
    const rate = slice.filter((r) => r.positive).length / slice.length;
    deciles.push({
      decile: d + 1,
      contacts: slice.length,
      minScore: slice[slice.length - 1]!.score,
      maxScore: slice[0]!.score,
      outcomeRate: rate,
      lift: baseRate === 0 ? 0 : rate / baseRate,
    });
  }
  const bandRows = bands.map(({ band, from, to }) => {
    const inBand = rows.filter((r) => (from === null || r.score >= from) && (to === null || r.score < to));
    const hits = inBand.filter((r) => r.positive).length;
    return {
      band,
      from,
      to,
      contacts: inBand.length,
      positives: hits,
      outcomeRate: inBand.length === 0 ? null : hits / inBand.length,
    };
  });
  return {
    contacts: rows.length,
    positives,
    baseRate,
    rocAuc: rocAuc(rows),
    weeks,
    thresholds,
    deciles,
    bands: bandRows,
  };
}

export type Recommendation = { ok: true; threshold: number; row: ThresholdRow } | { ok: false; reason: string };

/**
 * The lowest threshold whose precision reaches `target` (the most leads at that quality).
 * @example recommendForPrecision(metrics, 0.8)
 */
export function recommendForPrecision(metrics: BacktestMetrics, target: number): Recommendation {
  const row = metrics.thresholds.find((r) => r.precision !== null && r.precision >= target && r.above > 0);
  if (!row) {
    const best = Math.max(...metrics.thresholds.map((r) => r.precision ?? 0));
    return { ok: false, reason: `no threshold reaches precision ${target}; the best is ${best.toFixed(3)}` };
  }
  return { ok: true, threshold: row.threshold, row };
}

/**
 * The lowest threshold whose flow fits sales capacity ("sales can take 40 leads a week").
 * @example recommendForCapacity(metrics, 40)
 */
export function recommendForCapacity(metrics: BacktestMetrics, leadsPerWeek: number): Recommendation {
  const row = metrics.thresholds.find((r) => r.leadsPerWeek <= leadsPerWeek && r.above > 0);
  if (!row) return { ok: false, reason: `even the highest threshold yields more than ${leadsPerWeek} leads a week` };
  return { ok: true, threshold: row.threshold, row };
}
