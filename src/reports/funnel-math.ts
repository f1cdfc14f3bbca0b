import { REJECTION_REASONS, type RejectionReason } from '../lifecycle/rejection-reasons.js';

/** What the database counts for a group of contacts: the row without its rates, which follow from the counts. */
export type FunnelTally = Omit<FunnelRow, 'rates'>;

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
  /** Won deal value in the workspace currency. */
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

/** No rejections, by every reason. */
export function noRejections(): FunnelRow['rejections'] {
  return {
    total: 0,
    byReason: Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<RejectionReason, number>,
  };
}

/** A group's funnel row: its tally with the conversion rates between stages. */
export function funnelRow(tally: FunnelTally): FunnelRow {
  const { key, contacts, mql, sql, meeting, won, lost, revenue } = tally;
  // The fields in the order the API and the CSV have always listed them.
  return {
    key,
    contacts,
    mql,
    sql,
    meeting,
    won,
    lost,
    revenue,
    rates: {
      contactToMql: ratio(mql, contacts),
      mqlToSql: ratio(sql, mql),
      sqlToMeeting: ratio(meeting, sql),
      meetingToWon: ratio(won, meeting),
      mqlToWon: ratio(won, mql),
      winRate: ratio(won, won + lost),
    },
    medianCycleDays: tally.medianCycleDays,
    medianDays: tally.medianDays,
    rejections: tally.rejections,
  };
}

/** The row of a group with no contacts. */
export function emptyFunnelRow(key: string): FunnelRow {
  const none = { contactToMql: null, mqlToSql: null, sqlToMeeting: null, meetingToWon: null };
  return funnelRow({
    key,
    ...{ contacts: 0, mql: 0, sql: 0, meeting: 0, won: 0, lost: 0, revenue: 0 },
    medianCycleDays: null,
    medianDays: none,
    rejections: noRejections(),
  });
}

/** Most MQLs first, then most contacts, then by key. */
export function sortFunnelRows(rows: FunnelRow[]): FunnelRow[] {
  return rows.sort((a, b) => b.mql - a.mql || b.contacts - a.contacts || a.key.localeCompare(b.key));
}
