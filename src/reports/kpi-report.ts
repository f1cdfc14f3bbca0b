import { type Kysely, sql } from 'kysely';
import { KermaError } from '../errors.js';
import { localDaysRange } from '../ingest/local-day.js';
import type { Database } from '../storage/database-schema.js';
import { currencyConverter } from './convert-currency.js';
import { emptyFunnelRow } from './funnel-math.js';
import { type FunnelReport, funnelReport, NO_TOUCH } from './funnel-report.js';
import { type KpiRow, kpiRow, type LtvSettings, type SpendTotals } from './kpi-math.js';
import { DIMENSION_COLUMN } from './traffic-report.js';

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

const EMAIL = {
  delivered: ['Email Delivered', 'Email Sent'],
  opened: ['Email Opened'],
  clicked: ['Email Link Clicked', 'Email Clicked'],
};

const keyOf = (value: string | null | undefined) => (value ? value : NO_TOUCH);
const emptySpend = (): SpendTotals => ({
  cost: 0,
  impressions: 0,
  clicks: 0,
  conversions: null,
  approvedConversions: null,
});

function addSpend(
  totals: SpendTotals,
  row: { cost: number; impressions: number; clicks: number; conversions: number | null; approved: number | null },
): void {
  totals.cost += row.cost;
  totals.impressions += Number(row.impressions);
  totals.clicks += Number(row.clicks);
  if (row.conversions !== null) totals.conversions = (totals.conversions ?? 0) + Number(row.conversions);
  if (row.approved !== null) totals.approvedConversions = (totals.approvedConversions ?? 0) + Number(row.approved);
}

/**
 * Every KPI by channel (or source, medium, campaign) and in total for the days `from`..`to`: spend and its rates
 * (CTR, CPC, CPL, cost per MQL / SQL, CAC, ROAS, ROI) against the funnel of the contacts created in the range
 * (first touch), visit→contact from the rollups, qualified-visit abandonment from the sessions, email rates from
 * email events. Costs and revenue are in the workspace currency (a currency without a rate is refused, named).
 * `funnel` is the first-touch funnel of the same query when the caller already has it.
 */
export async function kpiReport(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string; currency: string },
  query: { by: KpiDimension; from: string; to: string },
  settings: KpiSettings,
  funnel?: FunnelReport,
): Promise<KpiReport> {
  funnel ??= await funnelReport(db, workspace, { ...query, touch: 'first' }, settings.exchangeRates);
  const column = DIMENSION_COLUMN[query.by];
  // Spend has the same dimension columns, but no landing page: by landing page it counts in the total only.
  const spendColumn = query.by === 'landingPage' ? null : column;
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
  const totalSpend = emptySpend();
  for (const r of spendRows) {
    const row = { ...r, cost: converter.convert(Number(r.cost), r.currency) ?? 0 };
    addSpend(totalSpend, row);
    if (!spendColumn) continue;
    const totals = spend.get(keyOf(r.key)) ?? emptySpend();
    addSpend(totals, row);
    spend.set(keyOf(r.key), totals);
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
  const keys = new Set([...spend.keys(), ...sessions.keys(), ...funnels.keys(), ...qualified.keys()]);
  const overallAov = funnel.total.won > 0 ? funnel.total.revenue / funnel.total.won : null;
  const rows = [...keys].map((key) =>
    kpiRow(
      {
        key,
        spend: spend.get(key) ?? emptySpend(),
        sessions: sessions.get(key) ?? 0,
        funnel: funnels.get(key) ?? emptyFunnelRow(key),
        qualifiedSessions: qualified.get(key)?.qualified ?? 0,
        abandonedQualifiedSessions: qualified.get(key)?.abandoned ?? 0,
      },
      settings.ltv,
      overallAov,
    ),
  );
  rows.sort((a, b) => b.cost - a.cost || b.mql - a.mql || b.sessions - a.sessions || a.key.localeCompare(b.key));
  const total = kpiRow(
    {
      key: 'all',
      spend: totalSpend,
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
  const { start: lo, end: hi } = localDaysRange(query.from, query.to, workspace.timeZone);
  const workspaceId = workspace.id;
  const column = DIMENSION_COLUMN[query.by];
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
  const range = localDaysRange(query.from, query.to, timeZone);
  const rows = await db
    .selectFrom('events')
    .select(['name', (eb) => eb.fn.countAll<number>().as('n')])
    .where('workspace_id', '=', workspaceId)
    .where('type', '=', 'track')
    .where('name', 'in', names)
    .where('timestamp', '>=', range.start)
    .where('timestamp', '<', range.end)
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
