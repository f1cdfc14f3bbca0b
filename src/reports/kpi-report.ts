import { type Kysely, sql } from 'kysely';
import { KermaError } from '../errors.js';
import { startOfLocalDay } from '../ingest/local-day.js';
import type { Database } from '../storage/database-schema.js';
import { currencyConverter } from './convert-currency.js';
import { funnelRow } from './funnel-math.js';
import { funnelReport, NO_TOUCH } from './funnel-report.js';
import { type KpiRow, kpiRow, type LtvSettings, type SpendTotals } from './kpi-math.js';

export type KpiDimension = 'channel' | 'source' | 'medium' | 'campaign' | 'landingPage';

export interface KpiSettings {
  exchangeRates: { base: string; rates: Record<string, number> } | null;
  qualifyingPages: string[];
  conversionEvents: string[];
  ltv: LtvSettings;
}

export interface EmailRates {
  delivered: number;
  opened: number;
  clicked: number;
  openRate: number | null;
  clickRate: number | null;
}

export interface KpiReport {
  by: KpiDimension;
  from: string;
  to: string;
  currency: string;
  rows: KpiRow[];
  total: KpiRow;
  email: EmailRates;
}

const DAY = 86_400_000;
const ROLLUP_COLUMN = {
  channel: 'channel',
  source: 'source',
  medium: 'medium',
  campaign: 'campaign',
  landingPage: 'landing_page',
} as const;
/** Ad spend has no landing page: by landing page it counts in the total only. */
const SPEND_COLUMN = {
  channel: 'channel',
  source: 'source',
  medium: 'medium',
  campaign: 'campaign',
  landingPage: null,
} as const;
const EMAIL = {
  delivered: ['Email Delivered', 'Email Sent'],
  opened: ['Email Opened'],
  clicked: ['Email Link Clicked', 'Email Clicked'],
};

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
/** The key of spend that cannot be split by the dimension (landing page): it counts in the total only. */
const UNATTRIBUTED = '\u0000unattributed';
const keyOf = (value: string | null | undefined) => (value ? value : NO_TOUCH);
const emptySpend = (): SpendTotals => ({
  cost: 0,
  impressions: 0,
  clicks: 0,
  conversions: null,
  approvedConversions: null,
});

/**
 * Every KPI by channel (or source, medium, campaign) and in total for the days `from`..`to`: spend and its rates
 * (CTR, CPC, CPL, cost per MQL / SQL, CAC, ROAS, ROI) against the funnel of the contacts created in the range
 * (first touch), visit→contact from the rollups, qualified-visit abandonment from the sessions, email rates from
 * email events. Costs and revenue are in the workspace currency (a currency without a rate is refused, named).
 */
export async function kpiReport(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string; currency: string },
  query: { by: KpiDimension; from: string; to: string },
  settings: KpiSettings,
): Promise<KpiReport> {
  const funnel = await funnelReport(db, workspace, { ...query, touch: 'first' }, settings.exchangeRates);
  const column = ROLLUP_COLUMN[query.by];
  const spendColumn = SPEND_COLUMN[query.by];
  const spendKey = spendColumn ? sql<string | null>`${sql.ref(spendColumn)}` : sql<string | null>`null`;
  const [spendRows, sessionRows, qualified, email] = await Promise.all([
    db
      .selectFrom('spend')
      .select([
        spendKey.as('key'),
        'currency',
        sql<number>`sum(cost)`.as('cost'),
        sql<number>`sum(impressions)`.as('impressions'),
        sql<number>`sum(clicks)`.as('clicks'),
        sql<number | null>`sum(conversions)`.as('conversions'),
        sql<number | null>`sum(approved_conversions)`.as('approved'),
      ])
      .where('workspace_id', '=', workspace.id)
      .where('day', '>=', query.from)
      .where('day', '<=', query.to)
      .groupBy(spendColumn ? [sql.ref(spendColumn), 'currency'] : ['currency'])
      .execute(),
    db
      .selectFrom('daily_rollups')
      .select([sql<string>`${sql.ref(column)}`.as('key'), sql<number>`sum(sessions)`.as('sessions')])
      .where('workspace_id', '=', workspace.id)
      .where('day', '>=', query.from)
      .where('day', '<=', query.to)
      .groupBy(sql.ref(column))
      .execute(),
    qualifiedSessions(db, workspace, query, settings),
    emailRates(db, workspace.id, query, workspace.timeZone),
  ]);

  const converter = currencyConverter(workspace.currency, settings.exchangeRates);
  const spend = new Map<string, SpendTotals>();
  for (const r of spendRows) {
    const key = spendColumn ? keyOf(r.key) : UNATTRIBUTED;
    const totals = spend.get(key) ?? emptySpend();
    totals.cost += converter.convert(Number(r.cost), r.currency) ?? 0;
    totals.impressions += Number(r.impressions);
    totals.clicks += Number(r.clicks);
    if (r.conversions !== null) totals.conversions = (totals.conversions ?? 0) + Number(r.conversions);
    if (r.approved !== null) totals.approvedConversions = (totals.approvedConversions ?? 0) + Number(r.approved);
    spend.set(key, totals);
  }
  if (converter.missing.size > 0) {
    const list = [...converter.missing].sort().join(', ');
    throw new KermaError(
      'invalid_input',
      `spend is in ${list} but there is no exchange rate for ${list} to ${workspace.currency}; add it to exchangeRates in the config`,
    );
  }
  const sessions = new Map(sessionRows.map((r) => [keyOf(r.key), Number(r.sessions)]));
  const funnels = new Map(funnel.rows.map((r) => [r.key, r]));
  const keys = new Set(
    [...spend.keys(), ...sessions.keys(), ...funnels.keys(), ...qualified.keys()].filter((k) => k !== UNATTRIBUTED),
  );
  const overallAov = funnel.total.won > 0 ? funnel.total.revenue / funnel.total.won : null;
  const rows = [...keys].map((key) =>
    kpiRow(
      {
        key,
        spend: spend.get(key) ?? emptySpend(),
        sessions: sessions.get(key) ?? 0,
        funnel: funnels.get(key) ?? funnelRow(key, []),
        qualifiedSessions: qualified.get(key)?.qualified ?? 0,
        abandonedQualifiedSessions: qualified.get(key)?.abandoned ?? 0,
      },
      settings.ltv,
      overallAov,
    ),
  );
  rows.sort((a, b) => b.cost - a.cost || b.mql - a.mql || b.sessions - a.sessions || a.key.localeCompare(b.key));
  const sum = (pick: (s: SpendTotals) => number | null) => {
    const values = [...spend.values()].map(pick).filter((v): v is number => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) : null;
  };
  const total = kpiRow(
    {
      key: 'all',
      spend: {
        cost: sum((s) => s.cost) ?? 0,
        impressions: sum((s) => s.impressions) ?? 0,
        clicks: sum((s) => s.clicks) ?? 0,
        conversions: sum((s) => s.conversions),
        approvedConversions: sum((s) => s.approvedConversions),
      },
      sessions: [...sessions.values()].reduce((a, b) => a + b, 0),
      funnel: funnel.total,
      qualifiedSessions: [...qualified.values()].reduce((a, b) => a + b.qualified, 0),
      abandonedQualifiedSessions: [...qualified.values()].reduce((a, b) => a + b.abandoned, 0),
    },
    settings.ltv,
    overallAov,
  );
  return { ...query, currency: workspace.currency, rows, total, email };
}

/**
 * Sessions started in the range that reached a qualifying page (pricing, demo, contact form…), and how many of those
 * ended without converting (no identify and no conversion event in the session), per key of the session's touch.
 */
async function qualifiedSessions(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string },
  query: { by: KpiDimension; from: string; to: string },
  settings: KpiSettings,
): Promise<Map<string, { qualified: number; abandoned: number }>> {
  const lo = startOfLocalDay(query.from, workspace.timeZone);
  const hi = startOfLocalDay(nextDay(query.to), workspace.timeZone);
  const workspaceId = workspace.id;
  const column = ROLLUP_COLUMN[query.by];
  const qualifying = sql.join(
    settings.qualifyingPages.map((p) => sql`e.path like ${`${p.replace(/[%_]/g, '')}%`}`),
    sql` or `,
  );
  const converting = settings.conversionEvents.length
    ? sql`e.type = 'identify' or (e.type = 'track' and e.name in (${sql.join(settings.conversionEvents)}))`
    : sql`e.type = 'identify'`;
  const rows = await sql<{ key: string; qualified: number; converted: number }>`
    select s.${sql.ref(column)} as key,
           max(case when e.type = 'page' and (${qualifying}) then 1 else 0 end) as qualified,
           max(case when ${converting} then 1 else 0 end) as converted
    from sessions s join events e on e.workspace_id = s.workspace_id and e.session_id = s.id
    where s.workspace_id = ${workspaceId} and s.started_at >= ${lo} and s.started_at < ${hi}
    group by s.id, s.${sql.ref(column)}`.execute(db);
  const out = new Map<string, { qualified: number; abandoned: number }>();
  for (const r of rows.rows) {
    if (Number(r.qualified) !== 1) continue;
    const key = keyOf(r.key);
    const entry = out.get(key) ?? { qualified: 0, abandoned: 0 };
    entry.qualified++;
    if (Number(r.converted) !== 1) entry.abandoned++;
    out.set(key, entry);
  }
  return out;
}

/** Email delivered / opened / clicked events (Segment's email spec names) in the range, and the open and click rates. */
async function emailRates(
  db: Kysely<Database>,
  workspaceId: string,
  query: { from: string; to: string },
  timeZone: string,
): Promise<EmailRates> {
  const names = [...EMAIL.delivered, ...EMAIL.opened, ...EMAIL.clicked];
  const rows = await db
    .selectFrom('events')
    .select(['name', (eb) => eb.fn.countAll<number>().as('n')])
    .where('workspace_id', '=', workspaceId)
    .where('type', '=', 'track')
    .where('name', 'in', names)
    .where('timestamp', '>=', startOfLocalDay(query.from, timeZone))
    .where('timestamp', '<', startOfLocalDay(nextDay(query.to), timeZone))
    .groupBy('name')
    .execute();
  const count = (list: string[]) =>
    rows.filter((r) => list.includes(r.name ?? '')).reduce((a, r) => a + Number(r.n), 0);
  const delivered = count(EMAIL.delivered);
  const opened = count(EMAIL.opened);
  const clicked = count(EMAIL.clicked);
  return {
    delivered,
    opened,
    clicked,
    openRate: delivered > 0 ? opened / delivered : null,
    clickRate: delivered > 0 ? clicked / delivered : null,
  };
}
