import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { getContactDetail, listContacts } from '../../contacts/contact-queries.js';
import { KermaError } from '../../errors.js';
import { contactScore } from '../../models/contact-score.js';
import { funnelReport } from '../../reports/funnel-report.js';
import { rejectionsReport } from '../../reports/rejections-report.js';
import { reportRange } from '../../reports/report-range.js';
import { trafficReport } from '../../reports/traffic-report.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { dayParam, parseInput } from '../parse-query.js';

export const listContactsQuery = z
  .object({
    email: z.string().optional(),
    stage: z.string().optional(),
    channel: z.string().optional(),
    grade: z
      .string()
      .regex(/^[A-D][1-4]$/, 'a grade is a letter A–D and a digit 1–4, e.g. A1')
      .optional(),
    sort: z.enum(['created', 'score', 'lastSeen', 'probability']).default('created'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().optional(),
  })
  .strict();

export const contactDetailQuery = z
  .object({
    eventsLimit: z.coerce.number().int().min(1).max(500).default(50),
    eventsCursor: z.string().optional(),
  })
  .strict();

export const contactScoreQuery = z
  .object({
    at: z
      .string()
      .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), {
        message: 'expected an ISO date or date-time, e.g. 2026-03-01 or 2026-03-01T12:00:00Z',
      })
      .optional(),
  })
  .strict();

export const trafficQuery = z
  .object({
    from: dayParam.optional(),
    to: dayParam.optional(),
    by: z.enum(['channel', 'source', 'medium', 'campaign', 'landingPage']).optional(),
  })
  .strict();

export const funnelQuery = z
  .object({
    from: dayParam.optional(),
    to: dayParam.optional(),
    by: z.enum(['channel', 'source', 'medium', 'campaign', 'landingPage']).default('channel'),
    touch: z.enum(['first', 'last']).default('first'),
  })
  .strict();

export const rejectionsQuery = z
  .object({
    from: dayParam.optional(),
    to: dayParam.optional(),
    by: z.enum(['channel', 'source', 'medium', 'campaign', 'landingPage']).default('channel'),
  })
  .strict();

/** Read API (secret key): contacts and the traffic report. */
export function registerReadRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/contacts', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(listContactsQuery, request.query, 'query');
    return listContacts(deps.storage.db, workspace.id, query);
  });

  app.get('/api/contacts/:id', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const query = parseInput(contactDetailQuery, request.query, 'query');
    const detail = await getContactDetail(deps.storage.db, workspace.id, id, {
      limit: query.eventsLimit,
      cursor: query.eventsCursor,
    });
    if (!detail) throw new KermaError('not_found', `no contact with id "${id}" in this workspace`);
    return detail;
  });

  app.get('/api/contacts/:id/score', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const query = parseInput(contactScoreQuery, request.query, 'query');
    const at = query.at === undefined ? Date.now() : Date.parse(query.at);
    const result = await contactScore(deps.storage.db, workspace.id, id, at);
    if (!result.ok && result.reason === 'no_contact')
      throw new KermaError('not_found', `no contact with id "${id}" in this workspace`);
    if (!result.ok) {
      throw new KermaError(
        'not_found',
        'no scoring model is active in this workspace; apply one with `kerma model apply FILE`',
      );
    }
    return result.score;
  });

  app.get('/api/reports/traffic', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(trafficQuery, request.query, 'query');
    const range = reportRange(query, workspace.timeZone);
    return trafficReport(deps.storage.db, workspace.id, { ...range, by: query.by ?? null });
  });

  app.get('/api/reports/funnel', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(funnelQuery, request.query, 'query');
    const range = reportRange(query, workspace.timeZone);
    return funnelReport(
      deps.storage.db,
      workspace,
      { by: query.by, touch: query.touch, ...range },
      deps.config.exchangeRates,
    );
  });

  app.get('/api/reports/rejections', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(rejectionsQuery, request.query, 'query');
    const range = reportRange(query, workspace.timeZone);
    return rejectionsReport(deps.storage.db, workspace, { ...range, by: query.by });
  });
}
