import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KermaError } from '../../errors.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { parseInput } from '../parse-query.js';
import { parseJsonBody, readBody } from '../read-body.js';

export const newKeyBody = z.object({ kind: z.enum(['write', 'secret']) }).strict();

/** Workspace settings over HTTP (secret key): keys, and the active scoring model as written. */
export function registerSettingsRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/keys', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    return {
      workspace: { id: workspace.id, name: workspace.name, timeZone: workspace.timeZone, currency: workspace.currency },
      keys: await deps.workspaces.listKeys(workspace.id),
    };
  });

  app.post('/api/keys', async (request, reply) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const body = parseInput(newKeyBody, parseJsonBody(readBody(request.body, false, 1024)), 'body');
    const key = await deps.workspaces.addKey(workspace.id, body.kind);
    return reply.code(201).send({ kind: body.kind, key, note: 'shown once: only its hash is kept' });
  });

  app.get('/api/status', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const db = deps.storage.db;
    const [scoring, predictive, spend] = await Promise.all([
      db
        .selectFrom('scoring_models')
        .select(['version', 'name'])
        .where('workspace_id', '=', workspace.id)
        .where('active', '=', 1)
        .executeTakeFirst(),
      db
        .selectFrom('predictive_models')
        .select(['version', 'kind', 'outcome'])
        .where('workspace_id', '=', workspace.id)
        .where('active', '=', 1)
        .executeTakeFirst(),
      db.selectFrom('spend').select('id').where('workspace_id', '=', workspace.id).limit(1).executeTakeFirst(),
    ]);
    return {
      workspace: { id: workspace.id, name: workspace.name, timeZone: workspace.timeZone, currency: workspace.currency },
      scoringModel: scoring ?? null,
      predictiveModel: predictive ?? null,
      hasSpend: spend !== undefined,
    };
  });

  app.get('/api/models/active', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const row = await deps.storage.db
      .selectFrom('scoring_models')
      .select(['version', 'name', 'source', 'activated_at'])
      .where('workspace_id', '=', workspace.id)
      .where('active', '=', 1)
      .executeTakeFirst();
    if (!row)
      throw new KermaError(
        'not_found',
        'no scoring model is active in this workspace; apply one with `kerma model apply FILE`',
      );
    return {
      version: row.version,
      name: row.name,
      activatedAt: row.activated_at === null ? null : new Date(Number(row.activated_at)).toISOString(),
      source: row.source,
      model: parseYaml(row.source),
    };
  });
}
