import type { FastifyInstance } from 'fastify';
import { exportOfflineConversions, offlineConversionsOptions } from '../../exports/export-offline-conversions.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { parseInput } from '../parse-query.js';

/** Exports (secret key): offline conversions for Google Ads and Meta. */
export function registerExportRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/exports/offline-conversions', async (request, reply) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const options = parseInput(offlineConversionsOptions, request.query, 'query');
    const result = await exportOfflineConversions(deps.storage.db, workspace, options, deps.config.stageNames);
    return reply
      .type(result.contentType)
      .header('x-kerma-exported', String(result.exported))
      .header('x-kerma-skipped', JSON.stringify(result.skipped))
      .send(result.body);
  });
}
