import type { Kysely } from 'kysely';
import type { Touch } from '../attribution/touch.js';
import { localDaysRange } from '../ingest/local-day.js';
import { REJECTION_REASONS, type RejectionReason } from '../lifecycle/rejection-reasons.js';
import type { Database } from '../storage/database-schema.js';
import { parseJson } from '../storage/ingest-rows.js';

export type RejectionDimension = 'channel' | 'source' | 'medium' | 'campaign' | 'landingPage';

export interface RejectionRow {
  key: string;
  rejections: number;
  byReason: Record<RejectionReason, number>;
}

const NONE = '(none)';

/**
 * Sales rejections of MQLs from `from` to `to` (days in the workspace time zone, inclusive), per first-touch channel,
 * source, medium, campaign or landing page, with a count per reason; rows by most rejections.
 */
export async function rejectionsReport(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string },
  query: { from: string; to: string; by: RejectionDimension },
): Promise<{ from: string; to: string; by: RejectionDimension; rows: RejectionRow[]; total: number }> {
  const range = localDaysRange(query.from, query.to, workspace.timeZone);
  const rows = await db
    .selectFrom('sales_rejections as r')
    .innerJoin('contacts as c', (j) =>
      j.onRef('c.workspace_id', '=', 'r.workspace_id').onRef('c.id', '=', 'r.contact_id'),
    )
    .select(['r.reason', 'r.at', 'c.first_touch'])
    .where('r.workspace_id', '=', workspace.id)
    .where('r.at', '>=', range.start)
    .where('r.at', '<', range.end)
    .execute();
  const groups = new Map<string, RejectionRow>();
  let total = 0;
  for (const row of rows) {
    const touch = parseJson<Touch>(row.first_touch);
    const key = (touch?.[query.by] as string | null | undefined) ?? NONE;
    let group = groups.get(key);
    if (!group) {
      group = {
        key,
        rejections: 0,
        byReason: Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as Record<RejectionReason, number>,
      };
      groups.set(key, group);
    }
    group.rejections++;
    group.byReason[row.reason as RejectionReason]++;
    total++;
  }
  const sorted = [...groups.values()].sort((a, b) => b.rejections - a.rejections || a.key.localeCompare(b.key));
  return { from: query.from, to: query.to, by: query.by, rows: sorted, total };
}
