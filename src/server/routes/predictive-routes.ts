import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KermaError } from '../../errors.js';
import { contactPrediction, predictionDisagreements } from '../../predictions/contact-prediction.js';
import {
  listPredictiveModels,
  loadPredictiveModel,
  predictiveModelSummary,
} from '../../predictions/predictive-model-store.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { parseInput } from '../parse-query.js';

export const predictionQuery = z.object({ factors: z.coerce.number().int().min(1).max(50).default(5) }).strict();
export const disagreementsQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(20) }).strict();

/** Predictive models over HTTP (secret key): a contact's prediction with its factors, model versions and cards, disagreements. */
export function registerPredictiveRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/contacts/:id/prediction', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const query = parseInput(predictionQuery, request.query, 'query');
    return contactPrediction(deps.storage.db, workspace.id, id, query.factors);
  });

  app.get('/api/predictive/models', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const models = await listPredictiveModels(deps.storage.db, workspace.id);
    return { models: models.map(predictiveModelSummary) };
  });

  app.get('/api/predictive/models/:id', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const version = id === 'active' ? 'active' : /^\d+$/.test(id) ? Number(id) : null;
    const stored = version === null ? null : await loadPredictiveModel(deps.storage.db, workspace.id, version);
    if (!stored)
      throw new KermaError('not_found', `no predictive model "${id}" in this workspace (ids are numbers, or "active")`);
    const { model } = stored;
    return {
      version: stored.version,
      kind: model.kind,
      outcome: model.outcome,
      card: model.card,
      inputs: model.spec.inputs,
      behaviour: model.behaviour,
    };
  });

  app.get('/api/predictive/disagreements', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(disagreementsQuery, request.query, 'query');
    return predictionDisagreements(deps.storage.db, workspace.id, query.limit);
  });
}
