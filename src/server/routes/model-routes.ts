import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KermaError } from '../../errors.js';
import { accountScoresQuery } from '../../models/account-scores-query.js';
import { parseCutPoint, parseOutcome } from '../../models/backtest-options.js';
import { runBacktest } from '../../models/run-backtest.js';
import { formatModelError } from '../../scoring/model-error.js';
import { parseModelFile } from '../../scoring/parse-model-file.js';
import type { ScoringModel } from '../../scoring/scoring-model.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { parseInput } from '../parse-query.js';
import { parseJsonBody, readBody } from '../read-body.js';

const MODEL_BYTES = 256 * 1024;

export const backtestBody = z
  .object({
    model: z.string().min(1),
    outcome: z.string(),
    at: z.string().default('days:30'),
    compare: z.string().min(1).optional(),
    precision: z.number().gt(0).max(1).optional(),
    capacity: z.number().positive().optional(),
  })
  .strict();

export const accountsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }).strict();

/** A model file sent in a request body; a 400 lists every error with path and line, as `kerma model validate` does. */
function compileBodyModel(text: string, field: string): ScoringModel {
  const parsed = parseModelFile(text);
  if (parsed.ok) return parsed.model;
  throw new KermaError('invalid_input', `${field}: ${parsed.errors.map(formatModelError).join('; ')}`, {
    errors: parsed.errors.map((e) => ({ field, ...e })),
  });
}

/** Scoring models over HTTP (secret key): validate a model file, backtest it on the workspace's history, account scores. */
export function registerModelRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/accounts', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(accountsQuery, request.query, 'query');
    const result = await accountScoresQuery(deps.storage.db, workspace.id, query.limit);
    if (!result)
      throw new KermaError(
        'not_found',
        'no scoring model is active in this workspace; apply one with `kerma model apply FILE`',
      );
    return result;
  });

  app.post('/api/models/validate', async (request) => {
    await requireSecretKey(request, deps.workspaces);
    const model = compileBodyModel(readBody(request.body, false, MODEL_BYTES), 'body');
    return {
      valid: true,
      name: model.name,
      fit: model.fit.length,
      engagement: model.engagement.length,
      triggers: model.triggers.length,
    };
  });

  app.post('/api/models/backtest', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const body = parseInput(backtestBody, parseJsonBody(readBody(request.body, false, MODEL_BYTES * 2)), 'body');
    const outcome = parseOutcome(body.outcome);
    if (!outcome.ok) throw new KermaError('invalid_input', `outcome: ${outcome.message}`);
    const at = parseCutPoint(body.at);
    if (!at.ok) throw new KermaError('invalid_input', `at: ${at.message}`);
    const models = [
      compileBodyModel(body.model, 'model'),
      ...(body.compare ? [compileBodyModel(body.compare, 'compare')] : []),
    ];
    const result = await runBacktest(deps.storage.db, {
      workspaceId: workspace.id,
      timeZone: workspace.timeZone,
      models,
      outcome: outcome.value,
      at: at.value,
      targetPrecision: body.precision,
      capacityPerWeek: body.capacity,
    });
    if (!result.ok) {
      throw new KermaError('invalid_input', result.message, {
        positives: result.positives,
        negatives: result.negatives,
      });
    }
    return result;
  });
}
