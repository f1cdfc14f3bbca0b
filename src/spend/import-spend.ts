import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type CompiledChannelRules, groupChannel } from '../attribution/group-channel.js';
import { readCsv, withSkipped } from '../csv/read-csv.js';
import { KermaError } from '../errors.js';
import type { Database, SpendTable } from '../storage/database-schema.js';

/** One day of spend for a source / medium / campaign (/ ad), as imported. */
export interface SpendInput {
  day: string;
  source: string;
  medium: string;
  campaign: string;
  ad: string;
  cost: number;
  currency: string;
  impressions: number;
  clicks: number;
  conversions: number | null;
  approvedConversions: number | null;
}

export type SpendFormat = 'generic' | 'facebook';

/** Header names (lower case) of each format; the generic one may also have `ad`, `conversions`, `approved_conversions`. */
export const SPEND_COLUMNS: Record<SpendFormat, string[]> = {
  generic: ['date', 'source', 'medium', 'campaign', 'cost', 'currency', 'impressions', 'clicks'],
  facebook: ['ad_id', 'xyz_campaign_id', 'impressions', 'clicks', 'spent', 'total_conversion', 'approved_conversion'],
};

export interface SpendImportResult {
  format: SpendFormat;
  rows: number;
  stored: number;
  rejected: Array<{ line: number; reason: string }>;
}

export interface SpendImportOptions {
  /** Facebook's export has no date column: the day its spend is booked on. */
  day?: string | undefined;
  /** Currency of files without a currency column (Facebook): default the workspace's. */
  currency: string;
  /** Facebook rows: utm source and medium their visits carry (default facebook / paid_social). */
  source?: string | undefined;
  medium?: string | undefined;
  channelRules: CompiledChannelRules;
  onProgress?: (bytes: number, total: number) => void;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const CURRENCY = /^[A-Z]{3}$/;

/** The stable id of a spend row: the same day, source, medium, campaign and ad imported again replaces it. */
function spendId(row: SpendInput): string {
  return createHash('sha256')
    .update(JSON.stringify([row.day, row.source, row.medium, row.campaign, row.ad]))
    .digest('base64url')
    .slice(0, 32);
}

function number(raw: string | undefined, column: string, integer: boolean): number | string {
  const text = (raw ?? '').trim();
  if (text === '') return `no value in column "${column}"`;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) return `"${text}" in column "${column}" is not a number of 0 or more`;
  if (integer && !Number.isInteger(value)) return `"${text}" in column "${column}" is not a whole number`;
  return value;
}

/** A CSV row as spend, or the reason it is refused. */
function spendFromRecord(
  format: SpendFormat,
  record: Record<string, string>,
  options: SpendImportOptions,
): SpendInput | string {
  const get = (name: string) => record[name]?.trim() ?? '';
  const numbers = (pairs: Array<[string, boolean]>) => {
    const out: number[] = [];
    for (const [column, integer] of pairs) {
      const value = number(record[column], column, integer);
      if (typeof value === 'string') return value;
      out.push(value);
    }
    return out;
  };
  if (format === 'facebook') {
    const values = numbers([
      ['impressions', true],
      ['clicks', true],
      ['spent', false],
      ['total_conversion', false],
      ['approved_conversion', false],
    ]);
    if (typeof values === 'string') return values;
    const [impressions, clicks, cost, conversions, approved] = values as [number, number, number, number, number];
    if (!get('xyz_campaign_id')) return 'no value in column "xyz_campaign_id"';
    return {
      day: options.day!,
      source: options.source ?? 'facebook',
      medium: options.medium ?? 'paid_social',
      campaign: get('xyz_campaign_id'),
      ad: get('ad_id'),
      cost,
      currency: options.currency,
      impressions,
      clicks,
      conversions,
      approvedConversions: approved,
    };
  }
  const day = get('date');
  if (!DAY.test(day) || !Number.isFinite(Date.parse(`${day}T00:00:00Z`)))
    return `"${day}" in column "date" is not a date as YYYY-MM-DD`;
  const currency = get('currency').toUpperCase() || options.currency;
  if (!CURRENCY.test(currency)) return `"${get('currency')}" in column "currency" is not a 3-letter ISO 4217 code`;
  const source = get('source');
  if (!source) return 'no value in column "source"';
  const values = numbers([
    ['cost', false],
    ['impressions', true],
    ['clicks', true],
  ]);
  if (typeof values === 'string') return values;
  const optional = (column: string) => {
    if (!get(column)) return null;
    const value = number(record[column], column, false);
    return value;
  };
  const conversions = optional('conversions');
  const approved = optional('approved_conversions');
  if (typeof conversions === 'string') return conversions;
  if (typeof approved === 'string') return approved;
  const [cost, impressions, clicks] = values as [number, number, number];
  return {
    day,
    source,
    medium: get('medium'),
    campaign: get('campaign'),
    ad: get('ad'),
    cost,
    currency,
    impressions,
    clicks,
    conversions,
    approvedConversions: approved,
  };
}

/** Stores spend rows, replacing rows with the same day, source, medium, campaign and ad. */
export async function saveSpend(
  db: Kysely<Database>,
  workspaceId: string,
  rows: SpendInput[],
  channelRules: CompiledChannelRules,
): Promise<void> {
  const now = Date.now();
  const all: SpendTable[] = rows.map((r) => ({
    workspace_id: workspaceId,
    id: spendId(r),
    day: r.day,
    source: r.source,
    medium: r.medium,
    campaign: r.campaign,
    ad: r.ad,
    channel: groupChannel({ source: r.source, medium: r.medium || null, campaign: r.campaign || null }, channelRules),
    cost: r.cost,
    currency: r.currency,
    impressions: r.impressions,
    clicks: r.clicks,
    conversions: r.conversions,
    approved_conversions: r.approvedConversions,
    imported_at: now,
  }));
  // The same row twice in one file: the later one wins, as a later import would.
  const values = [...new Map(all.map((v) => [v.id, v])).values()];
  for (let i = 0; i < values.length; i += 500) {
    await db
      .insertInto('spend')
      .values(values.slice(i, i + 500))
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'id']).doUpdateSet((eb) => ({
          channel: eb.ref('excluded.channel'),
          cost: eb.ref('excluded.cost'),
          currency: eb.ref('excluded.currency'),
          impressions: eb.ref('excluded.impressions'),
          clicks: eb.ref('excluded.clicks'),
          conversions: eb.ref('excluded.conversions'),
          approved_conversions: eb.ref('excluded.approved_conversions'),
          imported_at: eb.ref('excluded.imported_at'),
        })),
      )
      .execute();
  }
}

/**
 * `kerma import spend`: the generic format (date, source, medium, campaign, cost, currency, impressions, clicks) or
 * Facebook's ads export (detected from the header; booked on `--date`, source facebook / medium paid_social so it
 * lines up with utm-tagged visits). Header names are matched without regard to case. A bad row is reported with its
 * line; the others are stored.
 */
export async function importSpendCsv(
  db: Kysely<Database>,
  workspaceId: string,
  file: string,
  options: SpendImportOptions,
): Promise<SpendImportResult> {
  const csv = readCsv(file, []);
  const result: SpendImportResult = { format: 'generic', rows: 0, stored: 0, rejected: [] };
  let pending: SpendInput[] = [];
  let format: SpendFormat | null = null;
  for await (const { record: raw, line, bytes } of csv.rows) {
    const record = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.trim().toLowerCase(), v]));
    if (!format) {
      const found = Object.keys(record);
      format = SPEND_COLUMNS.facebook.every((c) => found.includes(c)) ? 'facebook' : 'generic';
      result.format = format;
      const missing = SPEND_COLUMNS[format].filter((c) => !found.includes(c));
      if (missing.length > 0) {
        throw new KermaError(
          'invalid_input',
          `${file} line 1: missing column(s) ${missing.join(', ')}; expected ${SPEND_COLUMNS.generic.join(', ')} (or a Facebook ads export: ${SPEND_COLUMNS.facebook.join(', ')}); found ${Object.keys(raw).join(', ')}`,
        );
      }
      if (format === 'facebook' && !(options.day && DAY.test(options.day)))
        throw new KermaError(
          'invalid_input',
          `${file} is a Facebook ads export without dates: say which day it is with --date YYYY-MM-DD`,
        );
    }
    result.rows++;
    const row = spendFromRecord(format, record, options);
    if (typeof row === 'string') {
      result.rejected.push({ line, reason: row });
      continue;
    }
    pending.push(row);
    if (pending.length >= 1000) {
      await saveSpend(db, workspaceId, pending, options.channelRules);
      result.stored += pending.length;
      pending = [];
      options.onProgress?.(bytes, csv.total);
    }
  }
  await saveSpend(db, workspaceId, pending, options.channelRules);
  result.stored += pending.length;
  options.onProgress?.(csv.total, csv.total);
  result.rejected = withSkipped(result.rejected, csv.skipped);
  return result;
}
