import { REJECTION_REASONS, type RejectionReason } from '../lifecycle/rejection-reasons.js';

/** One contact of the cohort as the funnel counts it: when it first reached each stage, and its won revenue. */
export interface FunnelContact {
  key: string;
  createdAt: number;
  mql: number | null;
  sql: number | null;
  meeting: number | null;
  won: number | null;
  lost: number | null;
  /** Won deal value in the workspace currency (0 when won without a value). */
  revenue: number;
  rejections: RejectionReason[];
}

export interface FunnelRates {
  contactToMql: number | null;
  mqlToSql: number | null;
  sqlToMeeting: number | null;
  meetingToWon: number | null;
  /** Won ÷ MQL: how many leads became customers. */
  mqlToWon: number | null;
  /** Won ÷ (won + lost). */
  winRate: number | null;
}

export interface FunnelRow {
  key: string;
  contacts: number;
  mql: number;
  sql: number;
  meeting: number;
  won: number;
  lost: number;
  revenue: number;
  rates: FunnelRates;
  /** Median days from MQL to won: the sales cycle. */
  medianCycleDays: number | null;
  medianDays: {
    contactToMql: number | null;
    mqlToSql: number | null;
    sqlToMeeting: number | null;
    meetingToWon: number | null;
  };
  rejections: { total: number; byReason: Record<RejectionReason, number> };
}

const DAY = 86_400_000;

/** part ÷ whole, or null when there is nothing to divide by ("no data", never NaN or Infinity). */
export function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const days = (
  contacts: FunnelContact[],
  from: (c: FunnelContact) => number | null,
  to: (c: FunnelContact) => number | null,
) =>
  median(
    contacts.flatMap((c) => {
      const a = from(c);
      const b = to(c);
      return a !== null && b !== null ? [(b - a) / DAY] : [];
    }),
  );

/**
 * The funnel of a group of contacts: stage counts, conversion rates, revenue, median days between stages, rejections.
 * `cohortSize` is how many contacts the group has when `contacts` lists only those that reached a stage.
 */
export function funnelRow(key: string, contacts: FunnelContact[], cohortSize = contacts.length): FunnelRow {
  const count = (stage: 'mql' | 'sql' | 'meeting' | 'won' | 'lost') => contacts.filter((c) => c[stage] !== null).length;
  const [mql, sql, meeting, won, lost] = [count('mql'), count('sql'), count('meeting'), count('won'), count('lost')];
  const byReason = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<RejectionReason, number>;
  let rejections = 0;
  for (const c of contacts) {
    for (const r of c.rejections) {
      byReason[r]++;
      rejections++;
    }
  }
  return {
    key,
    contacts: cohortSize,
    mql,
    sql,
    meeting,
    won,
    lost,
    revenue: contacts.reduce((sum, c) => sum + (c.won !== null ? c.revenue : 0), 0),
    rates: {
      contactToMql: ratio(mql, cohortSize),
      mqlToSql: ratio(sql, mql),
      sqlToMeeting: ratio(meeting, sql),
      meetingToWon: ratio(won, meeting),
      mqlToWon: ratio(won, mql),
      winRate: ratio(won, won + lost),
    },
    medianCycleDays: days(
      contacts,
      (c) => c.mql,
      (c) => c.won,
    ),
    medianDays: {
      contactToMql: days(
        contacts,
        (c) => c.createdAt,
        (c) => c.mql,
      ),
      mqlToSql: days(
        contacts,
        (c) => c.mql,
        (c) => c.sql,
      ),
      sqlToMeeting: days(
        contacts,
        (c) => c.sql,
        (c) => c.meeting,
      ),
      meetingToWon: days(
        contacts,
        (c) => c.meeting,
        (c) => c.won,
      ),
    },
    rejections: { total: rejections, byReason },
  };
}

/**
 * One row per key (most MQLs first, then most contacts) and the total over all of them. `cohortSizes` (contacts per
 * key) is given when `contacts` holds only the contacts that reached a stage; otherwise every contact is listed.
 */
export function funnelRows(
  contacts: FunnelContact[],
  cohortSizes?: Map<string, number>,
): { rows: FunnelRow[]; total: FunnelRow } {
  const groups = new Map<string, FunnelContact[]>();
  for (const key of cohortSizes?.keys() ?? []) groups.set(key, []);
  for (const c of contacts) {
    const group = groups.get(c.key);
    if (group) group.push(c);
    else groups.set(c.key, [c]);
  }
  const size = (key: string, group: FunnelContact[]) => cohortSizes?.get(key) ?? group.length;
  const rows = [...groups].map(([key, group]) => funnelRow(key, group, size(key, group)));
  rows.sort((a, b) => b.mql - a.mql || b.contacts - a.contacts || a.key.localeCompare(b.key));
  const total = cohortSizes ? [...groups].reduce((sum, [key, group]) => sum + size(key, group), 0) : contacts.length;
  return { rows, total: funnelRow('all', contacts, total) };
}
