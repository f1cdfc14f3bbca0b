import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KermaError } from '../../errors.js';
import { applyStageUpdates, type StageUpdate, type StageUpdateResult } from '../../lifecycle/apply-stage-updates.js';
import { decideLead } from '../../lifecycle/decide-lead.js';
import { parseInstant } from '../../lifecycle/parse-instant.js';
import { REJECTION_REASONS } from '../../lifecycle/rejection-reasons.js';
import { stageUpdateInput, toStageUpdate } from '../../lifecycle/stage-update-input.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { ERROR_STATUS } from '../error-status.js';
import { parseInput } from '../parse-query.js';
import { parseJsonBody, readBody } from '../read-body.js';

const BODY_BYTES = 1024 * 1024;
const MAX_UPDATES = 1000;

const batchBody = z
  .object({
    updates: z.array(z.unknown()).min(1).max(MAX_UPDATES),
    createMissing: z.boolean().default(false),
  })
  .strict();

const createQuery = z.object({ createMissing: z.enum(['true', 'false']).optional() }).strict();

const when = z
  .string()
  .refine((v) => parseInstant(v) !== null, 'expected an ISO date or date-time, e.g. 2026-03-01T10:00:00Z')
  .optional();

export const acceptBody = z
  .object({ owner: z.string().min(1).max(320).optional(), note: z.string().max(1000).optional(), at: when })
  .strict();

export const rejectBody = z
  .object({
    reason: z.enum(REJECTION_REASONS),
    note: z.string().max(1000).optional(),
    owner: z.string().min(1).max(320).optional(),
    at: when,
  })
  .strict();

type ItemOutcome =
  | ({ index: number } & StageUpdateResult)
  | { index: number; ok: false; code: 'invalid_input'; message: string };

function bodyOf(request: { body: unknown; headers: Record<string, unknown> }): unknown {
  return parseJsonBody(readBody(request.body, request.headers['content-encoding'] === 'gzip', BODY_BYTES));
}

/**
 * CRM inbound and sales decisions (secret key). `POST /api/crm/stages` takes one update or `{updates: [...]}`; in a
 * batch a bad item is reported by index and the others are applied (207 when some failed).
 */
export function registerLifecycleRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post('/api/crm/stages', async (request, reply) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(createQuery, request.query, 'query');
    const body = bodyOf(request);
    const single = !(typeof body === 'object' && body !== null && 'updates' in body);
    const batch = single
      ? { updates: [body], createMissing: query.createMissing === 'true' }
      : parseInput(batchBody, body, 'body');
    const createMissing = batch.createMissing || query.createMissing === 'true';
    const now = Date.now();
    const outcomes: ItemOutcome[] = [];
    const valid: Array<{ index: number; update: StageUpdate }> = [];
    batch.updates.forEach((item, index) => {
      const where = single ? '' : `updates[${index}].`;
      const parsed = stageUpdateInput.safeParse(item);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${where}${i.path.join('.') || '(item)'}: ${i.message}`);
        outcomes.push({ index, ok: false, code: 'invalid_input', message: issues.join('; ') });
        return;
      }
      const checked = toStageUpdate(parsed.data, {
        stageNames: deps.config.stageNames,
        currency: workspace.currency,
        source: 'crm',
        now,
      });
      if (!checked.ok) {
        outcomes.push({
          index,
          ok: false,
          code: 'invalid_input',
          message: `${where}${checked.field}: ${checked.message}`,
        });
        return;
      }
      valid.push({ index, update: checked.update });
    });
    if (valid.length > 0) {
      const results = await applyStageUpdates(
        deps.storage,
        workspace,
        valid.map((v) => v.update),
        { createMissing, fireTriggers: true, now },
      );
      results.forEach((result, i) => {
        outcomes.push({ index: valid[i]!.index, ...result });
      });
    }
    outcomes.sort((a, b) => a.index - b.index);
    if (single) {
      const only = outcomes[0]!;
      if (!only.ok) throw new KermaError(only.code, only.message);
      const { index: _, ...result } = only;
      return result;
    }
    const failed = outcomes.filter((o) => !o.ok);
    const count = (status: string) => outcomes.filter((o) => o.ok && o.status === status).length;
    const summary = {
      applied: count('applied'),
      unchanged: count('unchanged'),
      ignored: count('ignored'),
      duplicates: count('duplicate'),
      failed: failed.length,
      results: outcomes.map((o) =>
        o.ok
          ? o
          : {
              index: o.index,
              ok: false,
              error: { code: o.code, message: o.message },
              updateId: 'updateId' in o ? o.updateId : undefined,
            },
      ),
    };
    if (failed.length === 0) return summary;
    const codes = new Set(failed.map((f) => f.code));
    const status = failed.length === outcomes.length && codes.size === 1 ? ERROR_STATUS[failed[0]!.code] : 207;
    if (status === 207) return reply.code(status).send(summary);
    // Nothing applied: an error like any other 4xx, with the per-item results beside it.
    const message = `no update was applied: ${failed[0]!.message}${failed.length > 1 ? ` (and ${failed.length - 1} more, see results)` : ''}`;
    return reply.code(status).send({ error: { code: failed[0]!.code, message }, ...summary });
  });

  app.post('/api/contacts/:id/accept', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const body = parseInput(acceptBody, bodyOf(request), 'body');
    return decideLead(deps.storage, workspace, id, {
      kind: 'accept',
      owner: body.owner ?? null,
      note: body.note ?? null,
      at: body.at ? parseInstant(body.at)! : Date.now(),
    });
  });

  app.post('/api/contacts/:id/reject', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const body = parseInput(rejectBody, bodyOf(request), 'body');
    return decideLead(deps.storage, workspace, id, {
      kind: 'reject',
      reason: body.reason,
      owner: body.owner ?? null,
      note: body.note ?? null,
      at: body.at ? parseInstant(body.at)! : Date.now(),
    });
  });
}
