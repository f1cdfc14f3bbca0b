import type { ScoreState } from './score-state.js';
import type { ScoringModel } from './scoring-model.js';

const DAY_MS = 86_400_000;

/**
 * Points left of `points` earned at `from`, seen at `to`: halved every half-life, as e^(−ln 2 · t / half-life). The
 * exponential, not `2 ** (−t / half-life)`: a power took three times as long (45 against 15 ns a call), and a rescore
 * decays a bucket for every point it awards; the two differ by less than 1e-14 of the value (5e-15 at most over a
 * million spans of up to 400 days and half-lives of 7 to 90 days).
 */
export function decay(points: number, halfLifeDays: number | null, from: number, to: number): number {
  if (halfLifeDays === null || to <= from) return points;
  return points * Math.exp(((from - to) / (halfLifeDays * DAY_MS)) * Math.LN2);
}

export interface ScoreReading {
  total: number;
  fit: number;
  engagement: number;
  grade: string;
  status: 'mql' | 'nurture' | 'unqualified';
}

export function clampToCap(model: ScoringModel, group: string, sum: number): number {
  const cap = model.caps.get(group);
  return cap ? Math.min(cap.max, Math.max(cap.min, sum)) : sum;
}

export function fitLetter(model: ScoringModel, fit: number): string {
  const g = model.fitGrades;
  return fit >= g.A ? 'A' : fit >= g.B ? 'B' : fit >= g.C ? 'C' : 'D';
}

export function engagementLevel(model: ScoringModel, engagement: number): number {
  const l = model.engagementLevels;
  return engagement >= l[1] ? 1 : engagement >= l[2] ? 2 : engagement >= l[3] ? 3 : 4;
}

/** A lead's status for a score; a lead category (customer, competitor…) keeps it out of MQL. */
export function statusOf(model: ScoringModel, total: number, excluded: boolean): ScoreReading['status'] {
  const { mql, unqualified } = model.thresholds;
  if (total >= mql && !excluded) return 'mql';
  if (unqualified !== null && total < unqualified) return 'unqualified';
  return 'nurture';
}

/**
 * A contact's score at time `at` from its running state: fit as is, engagement decayed, each group held to its cap.
 * @example scoreAt(model, state, Date.now()).total
 */
export function scoreAt(model: ScoringModel, state: ScoreState, at: number): ScoreReading {
  // Replays read the score after every matched event; without caps there are no groups to sum separately.
  if (model.caps.size === 0) {
    let fit = 0;
    for (const rule of model.fit) fit += state.fit[rule.id] ?? 0;
    let engagement = 0;
    for (const b of state.buckets) engagement += decay(b.value, b.halfLifeDays, b.at, at);
    return readingOf(model, fit, engagement, state.category !== null);
  }
  const fitGroups = new Map<string, number>();
  for (const rule of model.fit) {
    const points = state.fit[rule.id];
    if (points !== undefined) fitGroups.set(rule.group, (fitGroups.get(rule.group) ?? 0) + points);
  }
  let fit = 0;
  for (const [group, sum] of fitGroups) fit += clampToCap(model, group, sum);
  const groups = new Map<string, number>();
  for (const b of state.buckets)
    groups.set(b.group, (groups.get(b.group) ?? 0) + decay(b.value, b.halfLifeDays, b.at, at));
  let engagement = 0;
  for (const [group, sum] of groups) engagement += clampToCap(model, group, sum);
  return readingOf(model, fit, engagement, state.category !== null);
}

/** Total, grade and status from capped fit and engagement: one meaning for live scores and explanations. */
export function readingOf(model: ScoringModel, fit: number, engagement: number, excluded: boolean): ScoreReading {
  const total = fit + engagement;
  return {
    total,
    fit,
    engagement,
    grade: `${fitLetter(model, fit)}${engagementLevel(model, engagement)}`,
    status: statusOf(model, total, excluded),
  };
}
