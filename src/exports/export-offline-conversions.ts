import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Stage } from '../lifecycle/stages.js';
import type { Database } from '../storage/database-schema.js';
import { googleAdsCsv, metaEvents } from './format-offline-conversions.js';
import { loadConversions } from './load-conversions.js';

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((d) => Number.isFinite(Date.parse(`${d}T00:00:00Z`)), 'not a calendar date');

/** The options of an export, from the CLI or the API. */
export const offlineConversionsOptions = z
  .object({
    format: z.enum(['google-ads', 'meta']),
    stage: z.enum(['mql', 'sql', 'meeting', 'won']),
    from: day,
    to: day,
    /** Google Ads: the conversion action's name; Meta: the event name. Default: "Kerma <stage display name>". */
    name: z.string().min(1).max(100).optional(),
  })
  .strict()
  .refine((o) => o.from <= o.to, { message: 'from must not be after to', path: ['from'] });
export type OfflineConversionsOptions = z.infer<typeof offlineConversionsOptions>;

export interface OfflineConversionsExport {
  contentType: string;
  body: string;
  exported: number;
  skipped: Record<string, number>;
}

/**
 * Offline conversions for the ad platforms: Google Ads import CSV (by gclid) or Meta Conversions API events
 * (hashed email / phone, lead id), for contacts that first reached a stage in the date range.
 */
export async function exportOfflineConversions(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string; currency: string },
  options: OfflineConversionsOptions,
  stageNames: Record<Stage, string>,
): Promise<OfflineConversionsExport> {
  const conversions = await loadConversions(db, workspace, options);
  const name = options.name ?? `Kerma ${stageNames[options.stage]}`;
  if (options.format === 'google-ads') {
    const csv = googleAdsCsv(conversions, name, workspace.currency);
    return { contentType: 'text/csv; charset=utf-8', body: csv.text, exported: csv.exported, skipped: csv.skipped };
  }
  const meta = metaEvents(conversions, name, workspace.currency);
  return {
    contentType: 'application/json; charset=utf-8',
    body: `${JSON.stringify({ data: meta.data }, null, 2)}\n`,
    exported: meta.exported,
    skipped: meta.skipped,
  };
}
