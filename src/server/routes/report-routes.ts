import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { compileChannelRules } from '../../attribution/group-channel.js';
import { findingsReport } from '../../reports/findings-report.js';
import { headlineReport } from '../../reports/headline-report.js';
import { kpiReport } from '../../reports/kpi-report.js';
import { reportRange } from '../../reports/report-range.js';
import { type SpendInput, saveSpend } from '../../spend/import-spend.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { dayParam, parseInput } from '../parse-query.js';
import { parseJsonBody, readBody } from '../read-body.js';

export const headlineQuery = z
  .object({
    days: z.coerce.number().int().min(1).max(366).default(30),
    to: dayParam.optional(),
  })
  .strict();

export const findingsQuery = z.object({ from: dayParam.optional(), to: dayParam.optional() }).strict();

export const kpisQuery = z
  .object({
    from: dayParam.optional(),
    to: dayParam.optional(),
    by: z.enum(['channel', 'source', 'medium', 'campaign', 'landingPage']).default('channel'),
  })
  .strict();

const count = z.number().int().min(0);
export const spendRow = z
  .object({
    date: dayParam.refine((d) => Number.isFinite(Date.parse(`${d}T00:00:00Z`)), 'not a calendar date'),
    source: z.string().min(1).max(200),
    medium: z.string().max(200).default(''),
    campaign: z.string().max(500).default(''),
    ad: z.string().max(500).default(''),
    cost: z.number().finite().min(0),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'a 3-letter ISO 4217 code such as EUR')
      .optional(),
    impressions: count.default(0),
    clicks: count.default(0),
    conversions: z.number().finite().min(0).optional(),
    approvedConversions: z.number().finite().min(0).optional(),
  })
  .strict();

export const spendBody = z.object({ rows: z.array(z.unknown()).min(1).max(10_000) }).strict();

/** KPIs and spend over HTTP (secret key). */
export function registerReportRoutes(app: FastifyInstance, deps: AppDeps): void {
  const channelRules = compileChannelRules(deps.config.channelRules);

  app.get('/api/reports/headline', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(headlineQuery, request.query, 'query');
    const { to } = reportRange({ to: query.to }, workspace.timeZone);
    return headlineReport(deps.storage.db, workspace, { days: query.days, to });
  });

  app.get('/api/reports/findings', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(findingsQuery, request.query, 'query');
    return findingsReport(deps.storage.db, workspace, reportRange(query, workspace.timeZone), deps.config);
  });

  app.get('/api/reports/kpis', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(kpisQuery, request.query, 'query');
    const range = reportRange(query, workspace.timeZone);
    return kpiReport(deps.storage.db, workspace, { by: query.by, ...range }, deps.config);
  });

  /** Spend rows as JSON; a bad row is reported by index and the others are stored (207 when some failed). */
  app.post('/api/spend', async (request, reply) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const body = parseInput(spendBody, parseJsonBody(readBody(request.body, false, 4 * 1024 * 1024)), 'body');
    const rows: SpendInput[] = [];
    const rejected: Array<{ index: number; reason: string }> = [];
    body.rows.forEach((item, index) => {
      const parsed = spendRow.safeParse(item);
      if (!parsed.success) {
        const reason = parsed.error.issues.map((i) => `rows[${index}].${i.path.join('.')}: ${i.message}`).join('; ');
        rejected.push({ index, reason });
        return;
      }
      const r = parsed.data;
      rows.push({
        day: r.date,
        source: r.source,
        medium: r.medium,
        campaign: r.campaign,
        ad: r.ad,
        cost: r.cost,
        currency: r.currency?.toUpperCase() ?? workspace.currency,
        impressions: r.impressions,
        clicks: r.clicks,
        conversions: r.conversions ?? null,
        approvedConversions: r.approvedConversions ?? null,
      });
    });
    await saveSpend(deps.storage.db, workspace.id, rows, channelRules);
    const result = { stored: rows.length, rejected };
    if (rejected.length === 0) return result;
    return reply
      .code(rows.length === 0 ? 400 : 207)
      .send(rows.length === 0 ? { error: { code: 'invalid_input', message: rejected[0]!.reason, rejected } } : result);
  });
}
