import type { Kysely } from 'kysely';
import type { Database } from '../storage/database-schema.js';
import { type Finding, findings } from './findings.js';
import { funnelReport } from './funnel-report.js';
import { headlineReport } from './headline-report.js';
import { type KpiSettings, kpiReport } from './kpi-report.js';

const DAY = 86_400_000;

/** Findings for a date range: from the KPIs (and their funnel) by channel and the headline of the same days. */
export async function findingsReport(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string; currency: string },
  query: { from: string; to: string },
  settings: KpiSettings,
): Promise<{ from: string; to: string; findings: Finding[] }> {
  const days = Math.round((Date.parse(`${query.to}T00:00:00Z`) - Date.parse(`${query.from}T00:00:00Z`)) / DAY) + 1;
  const funnel = await funnelReport(db, workspace, { by: 'channel', touch: 'first', ...query }, settings.exchangeRates);
  const [kpis, headline] = await Promise.all([
    kpiReport(db, workspace, { by: 'channel', ...query }, settings, funnel),
    headlineReport(db, workspace, { days: Math.min(days, 366), to: query.to }),
  ]);
  return {
    ...query,
    findings: findings({ funnel: funnel.rows, kpis: kpis.rows, headline, currency: workspace.currency }),
  };
}
