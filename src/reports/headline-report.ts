import { type Kysely, sql } from 'kysely';
import { addDays, localDay, localDaysRange } from '../ingest/local-day.js';
import type { Database } from '../storage/database-schema.js';
import { changePct, findSpikes, type Spike, slopePerDay } from './headline-math.js';

const METRICS = ['traffic', 'contacts', 'leads'] as const;
type Metric = (typeof METRICS)[number];

export interface HeadlineMetric {
  current: number;
  previous: number;
  changePct: number | null;
  /** Least-squares change per day over the window, and the same with the spike days left out. */
  trendPerDay: number | null;
  trendPerDayWithoutSpikes: number | null;
}

export interface HeadlineReport {
  days: number;
  from: string;
  to: string;
  previousFrom: string;
  previousTo: string;
  traffic: HeadlineMetric;
  contacts: HeadlineMetric;
  leads: HeadlineMetric;
  daily: Array<{ date: string; traffic: number; contacts: number; leads: number }>;
  spikes: Spike[];
}

/**
 * Traffic (new visitors), Contacts (new contacts) and Leads (contacts that first became an MQL) for the `days` days
 * ending `to` against the `days` before, with the daily series, spikes (median + 3 × MAD) and the trend with and
 * without them. Traffic and contacts come from the rollups; leads from the contacts' first MQL time (kept from the
 * stage history).
 */
export async function headlineReport(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string },
  query: { days: number; to: string },
): Promise<HeadlineReport> {
  const from = addDays(query.to, -(query.days - 1));
  const previousFrom = addDays(from, -query.days);
  const previousTo = addDays(from, -1);
  const span = localDaysRange(previousFrom, query.to, workspace.timeZone);
  const [rollups, mqls] = await Promise.all([
    db
      .selectFrom('daily_rollups')
      .select(['day', sql<number>`sum(new_visitors)`.as('traffic'), sql<number>`sum(new_contacts)`.as('contacts')])
      .where('workspace_id', '=', workspace.id)
      .where('day', '>=', previousFrom)
      .where('day', '<=', query.to)
      .groupBy('day')
      .execute(),
    // When each contact first reached MQL: kept on the contact from its stage history.
    db
      .selectFrom('contacts')
      .select('mql_at as at')
      .where('workspace_id', '=', workspace.id)
      .where('mql_at', '>=', span.start)
      .where('mql_at', '<', span.end)
      .execute(),
  ]);
  const byDay = new Map<string, Record<Metric, number>>();
  const get = (day: string) => {
    const row = byDay.get(day) ?? { traffic: 0, contacts: 0, leads: 0 };
    byDay.set(day, row);
    return row;
  };
  for (const r of rollups) {
    const row = get(r.day);
    row.traffic += Number(r.traffic);
    row.contacts += Number(r.contacts);
  }
  for (const m of mqls) get(localDay(Number(m.at), workspace.timeZone)).leads++;
  const window = (start: string) =>
    Array.from({ length: query.days }, (_, i) => {
      const date = addDays(start, i);
      return { date, ...(byDay.get(date) ?? { traffic: 0, contacts: 0, leads: 0 }) };
    });
  const daily = window(from);
  const previous = window(previousFrom);
  const spikes: Spike[] = [];
  const metric = (name: Metric): HeadlineMetric => {
    const series = daily.map((d) => ({ date: d.date, value: d[name] }));
    const found = findSpikes(name, series);
    spikes.push(...found);
    const spikeDays = new Set(found.map((s) => s.date));
    const sum = (rows: typeof daily) => rows.reduce((s, d) => s + d[name], 0);
    const current = sum(daily);
    const before = sum(previous);
    return {
      current,
      previous: before,
      changePct: changePct(current, before),
      trendPerDay: slopePerDay(series.map((s) => s.value)),
      trendPerDayWithoutSpikes: slopePerDay(series.map((s) => (spikeDays.has(s.date) ? null : s.value))),
    };
  };
  const [traffic, contacts, leads] = METRICS.map(metric) as [HeadlineMetric, HeadlineMetric, HeadlineMetric];
  spikes.sort((a, b) => a.date.localeCompare(b.date) || a.metric.localeCompare(b.metric));
  return { days: query.days, from, to: query.to, previousFrom, previousTo, traffic, contacts, leads, daily, spikes };
}
