import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/database-schema.js';

export type TrafficDimension = 'channel' | 'source' | 'medium' | 'campaign' | 'landingPage';

export interface TrafficRow {
  date: string;
  key: string;
  newVisitors: number;
  sessions: number;
  pageViews: number;
  newContacts: number;
}

export interface TrafficReport {
  from: string;
  to: string;
  by: TrafficDimension | null;
  daily: TrafficRow[];
  totals: Array<Omit<TrafficRow, 'date'>>;
}

/** The daily_rollups (and spend) column of each report dimension. */
export const DIMENSION_COLUMN = {
  channel: 'channel',
  source: 'source',
  medium: 'medium',
  campaign: 'campaign',
  landingPage: 'landing_page',
} as const;

/**
 * Daily new visitors, sessions, page views and new contacts from the rollup table (never a raw-event scan),
 * for days `from`..`to` inclusive in the workspace time zone.
 * @example await trafficReport(db, ws, { from: '2026-01-01', to: '2026-01-31', by: 'channel' })
 */
export async function trafficReport(
  db: Kysely<Database>,
  workspaceId: string,
  query: { from: string; to: string; by: TrafficDimension | null },
): Promise<TrafficReport> {
  // PostgreSQL refuses a constant in GROUP BY, so without a dimension the key is added after grouping by day.
  const keyExpr = query.by ? sql<string>`${sql.ref(DIMENSION_COLUMN[query.by])}` : sql<string>`min('all')`;
  const groupBy = query.by ? ['day', sql.ref(DIMENSION_COLUMN[query.by])] : ['day'];
  const rows = await db
    .selectFrom('daily_rollups')
    .select([
      'day',
      keyExpr.as('key'),
      sql<number>`sum(new_visitors)`.as('new_visitors'),
      sql<number>`sum(sessions)`.as('sessions'),
      sql<number>`sum(page_views)`.as('page_views'),
      sql<number>`sum(new_contacts)`.as('new_contacts'),
    ])
    .where('workspace_id', '=', workspaceId)
    .where('day', '>=', query.from)
    .where('day', '<=', query.to)
    .groupBy(groupBy as never)
    .orderBy('day')
    .orderBy('key')
    .execute();
  const daily: TrafficRow[] = rows.map((r) => ({
    date: r.day,
    key: r.key === '' ? '(none)' : r.key,
    newVisitors: Number(r.new_visitors),
    sessions: Number(r.sessions),
    pageViews: Number(r.page_views),
    newContacts: Number(r.new_contacts),
  }));
  const totals = new Map<string, Omit<TrafficRow, 'date'>>();
  for (const row of daily) {
    const t = totals.get(row.key) ?? { key: row.key, newVisitors: 0, sessions: 0, pageViews: 0, newContacts: 0 };
    t.newVisitors += row.newVisitors;
    t.sessions += row.sessions;
    t.pageViews += row.pageViews;
    t.newContacts += row.newContacts;
    totals.set(row.key, t);
  }
  return {
    from: query.from,
    to: query.to,
    by: query.by,
    daily,
    totals: [...totals.values()].sort((a, b) => b.newVisitors - a.newVisitors || a.key.localeCompare(b.key)),
  };
}
