import { median } from './funnel-math.js';

export interface Spike {
  date: string;
  metric: string;
  value: number;
  /** The median of the window. */
  baseline: number;
  /** median + 3 × MAD: above it a day is a spike. */
  threshold: number;
}

/** Median absolute deviation from the median. */
export function mad(values: number[]): number {
  const m = median(values) ?? 0;
  return median(values.map((v) => Math.abs(v - m))) ?? 0;
}

/**
 * Days far above the window's robust baseline: value > median + 3 × MAD. With counts a MAD of 0 (a flat series) is
 * taken as 1, so one extra visit on a quiet day is not a spike. A window whose median day is 0 (mostly empty: data
 * that starts inside it) has no baseline to stand out from, and reports none.
 */
export function findSpikes(metric: string, series: Array<{ date: string; value: number }>): Spike[] {
  const values = series.map((s) => s.value);
  const baseline = median(values) ?? 0;
  if (baseline === 0) return [];
  const threshold = baseline + 3 * Math.max(mad(values), 1);
  return series
    .filter((s) => s.value > threshold)
    .map((s) => ({ date: s.date, metric, value: s.value, baseline, threshold }));
}

/** Least-squares slope of a daily series (change per day), or null with fewer than two days. */
export function slopePerDay(values: Array<number | null>): number | null {
  const points = values.flatMap((v, i) => (v === null ? [] : [[i, v] as const]));
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx === 0 ? null : sxy / sxx;
}

/** Percent change from `previous` to `current`, or null when there was nothing before. */
export function changePct(current: number, previous: number): number | null {
  return previous > 0 ? ((current - previous) / previous) * 100 : null;
}
