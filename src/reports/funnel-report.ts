import { type Kysely, sql } from 'kysely';
import type { Touch } from '../attribution/touch.js';
import { KermaError } from '../errors.js';
import { localDaysRange } from '../ingest/local-day.js';
import type { RejectionReason } from '../lifecycle/rejection-reasons.js';
import type { Database } from '../storage/database-schema.js';
import { parseJson } from '../storage/ingest-rows.js';
import { currencyConverter } from './convert-currency.js';
import { type FunnelContact, type FunnelRow, funnelRows } from './funnel-math.js';

export type FunnelDimension = 'channel' | 'source' | 'medium' | 'campaign' | 'landingPage';

export interface FunnelQuery {
  by: FunnelDimension;
  touch: 'first' | 'last';
  /** Cohort: contacts created on these days (workspace time zone), inclusive. */
  from: string;
  to: string;
}

export interface FunnelReport extends FunnelQuery {
  currency: string;
  rows: FunnelRow[];
  total: FunnelRow;
}

/** Contacts without a touch (imported without a source, or never seen on the site) are grouped here. */
export const NO_TOUCH = '(none)';
const STAGE_COLUMNS = ['mql', 'sql', 'meeting', 'won', 'lost'] as const;
const FIRST_COLUMN = {
  channel: 'first_channel',
  source: 'first_source',
  medium: 'first_medium',
  campaign: 'first_campaign',
  landingPage: 'first_landing_page',
} as const;

/**
 * The funnel of the contacts created in a date range, grouped by the channel (or source, medium, campaign, landing
 * page) of their first or last touch: how many reached MQL, SQL, meeting, won and lost (ever, from the stage history),
 * won revenue in the workspace currency, conversion rates, median days between stages and sales rejections by reason.
 */
export async function funnelReport(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string; currency: string },
  query: FunnelQuery,
  exchangeRates: { base: string; rates: Record<string, number> } | null,
): Promise<FunnelReport> {
  const { start: lo, end: hi } = localDaysRange(query.from, query.to, workspace.timeZone);
  const column = FIRST_COLUMN[query.by];
  // Stage rows, deals and rejections of the cohort: joined to their contact (primary key) and kept when it was
  // created in the range — measured faster on SQLite than an IN list of the cohort's ids.
  const stagesOfCohort = () =>
    db
      .selectFrom('stage_changes as s')
      .innerJoin('contacts as c', (j) =>
        j.onRef('c.workspace_id', '=', 's.workspace_id').onRef('c.id', '=', 's.contact_id'),
      )
      .where('s.workspace_id', '=', workspace.id)
      .where('c.created_at', '>=', lo)
      .where('c.created_at', '<', hi);
  const [sizes, staged, deals, rejections] = await Promise.all([
    // Contacts per key: counted in the database for the first touch (a column); the last touch is a JSON document.
    query.touch === 'first'
      ? db
          .selectFrom('contacts')
          .select([sql<string | null>`${sql.ref(column)}`.as('key'), (eb) => eb.fn.countAll<number>().as('n')])
          .where('workspace_id', '=', workspace.id)
          .where('created_at', '>=', lo)
          .where('created_at', '<', hi)
          .groupBy(sql.ref(column))
          .execute()
      : db
          .selectFrom('contacts')
          .select(['last_touch'])
          .where('workspace_id', '=', workspace.id)
          .where('created_at', '>=', lo)
          .where('created_at', '<', hi)
          .execute()
          .then((rows) => {
            const counts = new Map<string | null, number>();
            for (const r of rows) {
              const key = lastTouchKey(r.last_touch, query.by);
              counts.set(key, (counts.get(key) ?? 0) + 1);
            }
            return [...counts].map(([key, n]) => ({ key, n }));
          }),
    // When each contact first reached each stage: one row per contact that reached any. Grouped by the contact's
    // primary key, so its other columns may be selected (PostgreSQL's functional dependency; SQLite allows it).
    stagesOfCohort()
      .select([
        'c.id',
        'c.created_at',
        // The key itself: the first-touch column, or the last touch (a JSON document, read only when asked for).
        query.touch === 'first'
          ? sql<string | null>`c.${sql.ref(column)}`.as('key_source')
          : sql<string | null>`c.last_touch`.as('key_source'),
      ])
      .select(
        STAGE_COLUMNS.map((stage) => sql<number | null>`min(case when s.to_stage = ${stage} then s.at end)`.as(stage)),
      )
      .groupBy(['c.workspace_id', 'c.id'])
      .execute(),
    stagesOfCohort()
      .select(['s.contact_id', 's.value', 's.currency'])
      .where('s.to_stage', '=', 'won')
      .where('s.value', 'is not', null)
      .orderBy('s.at', 'desc')
      .orderBy('s.seq', 'desc')
      .execute(),
    db
      .selectFrom('sales_rejections as r')
      .innerJoin('contacts as c', (j) =>
        j.onRef('c.workspace_id', '=', 'r.workspace_id').onRef('c.id', '=', 'r.contact_id'),
      )
      .select(['r.contact_id', 'r.reason'])
      .where('r.workspace_id', '=', workspace.id)
      .where('c.created_at', '>=', lo)
      .where('c.created_at', '<', hi)
      .execute(),
  ]);
  // The newest value given for a won deal (a CRM may correct the amount after the win).
  const converter = currencyConverter(workspace.currency, exchangeRates);
  const revenue = new Map<string, number>();
  for (const d of deals) {
    if (revenue.has(d.contact_id)) continue;
    revenue.set(d.contact_id, converter.convert(Number(d.value), d.currency ?? workspace.currency) ?? 0);
  }
  if (converter.missing.size > 0) {
    const list = [...converter.missing].sort().join(', ');
    throw new KermaError(
      'invalid_input',
      `won deals are in ${list} but there is no exchange rate for ${list} to ${workspace.currency}; add it to exchangeRates in the config`,
    );
  }
  const rejected = new Map<string, RejectionReason[]>();
  for (const r of rejections) {
    const list = rejected.get(r.contact_id) ?? [];
    list.push(r.reason as RejectionReason);
    rejected.set(r.contact_id, list);
  }
  const cohortSizes = new Map<string, number>();
  for (const { key, n } of sizes) cohortSizes.set(key ?? NO_TOUCH, (cohortSizes.get(key ?? NO_TOUCH) ?? 0) + Number(n));
  const at = (value: number | null) => (value === null ? null : Number(value));
  // Only contacts that reached a stage are listed (a rejected contact was an MQL first); the others are counted.
  const stagedContacts: FunnelContact[] = staged.map((c) => ({
    key: (query.touch === 'first' ? c.key_source : lastTouchKey(c.key_source, query.by)) ?? NO_TOUCH,
    createdAt: Number(c.created_at),
    mql: at(c.mql),
    sql: at(c.sql),
    meeting: at(c.meeting),
    won: at(c.won),
    lost: at(c.lost),
    revenue: revenue.get(c.id) ?? 0,
    rejections: rejected.get(c.id) ?? [],
  }));
  return { ...query, currency: workspace.currency, ...funnelRows(stagedContacts, cohortSizes) };
}

function lastTouchKey(json: string | null, by: FunnelDimension): string | null {
  return (parseJson<Touch>(json)?.[by] as string | null | undefined) ?? null;
}
