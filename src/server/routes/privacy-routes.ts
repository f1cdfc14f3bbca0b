import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KermaError } from '../../errors.js';
import { eraseContact } from '../../privacy/erase-contact.js';
import { exportContact } from '../../privacy/export-contact.js';
import { recordConsent } from '../../privacy/record-consent.js';
import type { AppDeps } from '../app-deps.js';
import { requireSecretKey } from '../authenticate.js';
import { parseInput } from '../parse-query.js';
import { parseJsonBody, readBody } from '../read-body.js';

export const consentBody = z
  .object({
    purpose: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'a purpose is a lower-case word, e.g. marketing or analytics'),
    granted: z.boolean(),
    source: z.string().min(1).max(60).default('api'),
    at: z
      .string()
      .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'expected an ISO date-time, e.g. 2026-03-01T12:00:00Z' })
      .optional(),
  })
  .strict();

const noContact = (id: string) => new KermaError('not_found', `no contact with id "${id}" in this workspace`);

/** GDPR / CCPA over HTTP (secret key): erase a person, export everything held on them, record consent. */
export function registerPrivacyRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.delete('/api/privacy/contacts/:id', async (request) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const rows = await eraseContact(deps.storage.db, workspace.id, id);
    if (!rows) throw noContact(id);
    deps.logger.info({ workspace: workspace.id, contact: id, rows }, 'contact erased');
    return { erased: true, contactId: id, rows };
  });

  app.get('/api/privacy/contacts/:id/export', async (request, reply) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const data = await exportContact(deps.storage.db, workspace.id, id);
    if (!data) throw noContact(id);
    return reply.header('Content-Disposition', `attachment; filename="kerma-contact-${id}.json"`).send(data);
  });

  app.post('/api/privacy/contacts/:id/consent', async (request, reply) => {
    const workspace = await requireSecretKey(request, deps.workspaces);
    const { id } = request.params as { id: string };
    const body = parseInput(consentBody, parseJsonBody(readBody(request.body, false, 4096)), 'body');
    const at = body.at ? Date.parse(body.at) : Date.now();
    const recorded = await recordConsent(deps.storage.db, workspace.id, id, { ...body, at });
    if (!recorded) throw noContact(id);
    return reply.code(201).send({ contactId: id, purpose: body.purpose, granted: body.granted, seq: recorded.seq });
  });
}
