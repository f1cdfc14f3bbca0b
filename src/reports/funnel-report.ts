import type { Kysely } from 'kysely';
import type { Touch } from '../attribution/touch.js';
import { KermaError } from '../errors.js';
import { localDay } from '../ingest/local-day.js';
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
const DAY = 86_400_000;
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
  const lo = Date.parse(`${query.from}T00:00:00Z`) - DAY;
  const hi = Date.parse(`${query.to}T00:00:00Z`) + 2 * DAY;
  const cohort = db
    .selectFrom('contacts')
    .select('id')
    .where('workspace_id', '=', workspace.id)
    .where('created_at', '>=', lo)
    .where('created_at', '<', hi);
  const [contacts, firsts, deals, rejections] = await Promise.all([
    db
      .selectFrom('contacts')
      .select(['id', 'created_at', 'last_touch', FIRST_COLUMN[query.by]])
      .where('workspace_id', '=', workspace.id)
      .where('created_at', '>=', lo)
      .where('created_at', '<', hi)
      .execute(),
    db
      .selectFrom('stage_changes')
      .select(['contact_id', 'to_stage', (eb) => eb.fn.min('at').as('at')])
      .where('workspace_id', '=', workspace.id)
      .where('contact_id', 'in', cohort)
      .groupBy(['contact_id', 'to_stage'])
      .execute(),
    db
      .selectFrom('stage_changes')
      .select(['contact_id', 'value', 'currency'])
      .where('workspace_id', '=', workspace.id)
      .where('to_stage', '=', 'won')
      .where('value', 'is not', null)
      .where('contact_id', 'in', cohort)
      .orderBy('at', 'desc')
      .orderBy('seq', 'desc')
      .execute(),
    db
      .selectFrom('sales_rejections')
      .select(['contact_id', 'reason'])
      .where('workspace_id', '=', workspace.id)
      .where('contact_id', 'in', cohort)
      .execute(),
  ]);
  const reached = new Map<string, Map<string, number>>();
  for (const f of firsts) {
    const stages = reached.get(f.contact_id) ?? new Map<string, number>();
    stages.set(f.to_stage, Number(f.at));
    reached.set(f.contact_id, stages);
  }
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
  const cohortContacts: FunnelContact[] = [];
  for (const c of contacts) {
    const createdAt = Number(c.created_at);
    const day = localDay(createdAt, workspace.timeZone);
    if (day < query.from || day > query.to) continue;
    let key: string | null | undefined;
    if (query.touch === 'first') key = (c as Record<string, unknown>)[FIRST_COLUMN[query.by]] as string | null;
    else key = parseJson<Touch>(c.last_touch)?.[query.by] as string | null | undefined;
    const stages = reached.get(c.id);
    const at = (stage: string) => stages?.get(stage) ?? null;
    cohortContacts.push({
      key: key ?? NO_TOUCH,
      createdAt,
      mql: at('mql'),
      sql: at('sql'),
      meeting: at('meeting'),
      won: at('won'),
      lost: at('lost'),
      revenue: revenue.get(c.id) ?? 0,
      rejections: rejected.get(c.id) ?? [],
    });
  }
  return { ...query, currency: workspace.currency, ...funnelRows(cohortContacts) };
}
