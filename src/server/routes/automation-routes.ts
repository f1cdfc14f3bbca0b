import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { getDelivery, listDeliveries, replayDelivery } from '../../automation/delivery-log.js';
import { listEmailTemplates, parseTemplateFile, saveEmailTemplate } from '../../automation/email-templates.js';
import { testWebhook } from '../../automation/test-webhook.js';
import { addWebhookEndpoint, listWebhookEndpoints, removeWebhookEndpoint } from '../../automation/webhook-endpoints.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { parseInput } from '../parse-query.js';
import { parseJsonBody, readBody } from '../read-body.js';

export const webhookBody = z.object({ name: z.string().min(1).max(64), url: z.string().min(1).max(2000) }).strict();

export const deliveriesQuery = z
  .object({
    status: z.enum(['pending', 'delivered', 'failed', 'skipped']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .strict();

/** Webhook endpoints and the delivery log (secret key). */
export function registerAutomationRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/api/webhooks', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    return { webhooks: await listWebhookEndpoints(deps.storage.db, workspace.id) };
  });

  app.post('/api/webhooks', async (request, reply) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const body = parseInput(webhookBody, parseJsonBody(readBody(request.body, false, 16 * 1024)), 'body');
    const created = await addWebhookEndpoint(
      deps.storage.db,
      workspace.id,
      body.name,
      body.url,
      deps.config.production,
    );
    return reply.code(201).send(created);
  });

  app.post('/api/webhooks/:name/test', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { name } = request.params as { name: string };
    return testWebhook(deps.storage.db, workspace.id, name);
  });

  app.delete('/api/webhooks/:name', async (request, reply) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { name } = request.params as { name: string };
    await removeWebhookEndpoint(deps.storage.db, workspace.id, name);
    return reply.code(204).send();
  });

  app.get('/api/email-templates', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const rows = await listEmailTemplates(deps.storage.db, workspace.id);
    return {
      templates: rows.map((r) => ({
        name: r.name,
        subject: r.subject,
        updatedAt: new Date(Number(r.updated_at)).toISOString(),
      })),
    };
  });

  app.put('/api/email-templates/:name', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { name } = request.params as { name: string };
    const template = parseTemplateFile(readBody(request.body, false, 256 * 1024), 'body');
    await saveEmailTemplate(deps.storage.db, workspace.id, name, template);
    return { name, saved: true };
  });

  app.get('/api/deliveries', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const query = parseInput(deliveriesQuery, request.query, 'query');
    return { deliveries: await listDeliveries(deps.storage.db, workspace.id, query) };
  });

  app.get('/api/deliveries/:id', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    return getDelivery(deps.storage.db, workspace.id, id);
  });

  app.post('/api/deliveries/:id/replay', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    return replayDelivery(deps.storage.db, workspace.id, id);
  });
}
