import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { KermaError } from '../errors.js';
import type { Database } from '../storage/database-schema.js';
import { newId } from '../storage/ingest-rows.js';

export interface WebhookEndpoint {
  id: string;
  name: string;
  url: string;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A URL a webhook may go to: http(s) with a host and no credentials; https only in production. */
export function checkWebhookUrl(text: string, production: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KermaError('invalid_input', `"${text}" is not a URL; expected e.g. https://hooks.example.com/kerma`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new KermaError('invalid_input', `webhook URL must be http(s), not ${url.protocol.replace(':', '')}`);
  if (production && url.protocol !== 'https:')
    throw new KermaError('invalid_input', `webhook URL must be https in production; got ${url.origin}`);
  if (url.username || url.password)
    throw new KermaError(
      'invalid_input',
      'webhook URL must not carry a user name or password; the signature authenticates',
    );
  return url;
}

const view = (row: Database['webhook_endpoints']): WebhookEndpoint => ({
  id: row.id,
  name: row.name,
  url: row.url,
  enabled: Number(row.enabled) === 1,
  disabledReason: row.disabled_reason,
  createdAt: new Date(Number(row.created_at)).toISOString(),
});

/**
 * Adds a named endpoint (triggers say `{ webhook: NAME }`) with a new `whsec_` signing secret, shown once.
 * @example const { secret } = await addWebhookEndpoint(db, ws, 'sales', 'https://crm.example.com/hooks', true)
 */
export async function addWebhookEndpoint(
  db: Kysely<Database>,
  workspaceId: string,
  name: string,
  urlText: string,
  production: boolean,
): Promise<WebhookEndpoint & { secret: string }> {
  if (!NAME.test(name))
    throw new KermaError('invalid_input', `endpoint name "${name}" must be 1-64 letters, digits, _ . or -`);
  const url = checkWebhookUrl(urlText, production);
  const existing = await db
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (existing) throw new KermaError('conflict', `a webhook endpoint named "${name}" already exists`);
  const row = {
    workspace_id: workspaceId,
    id: newId('we'),
    name,
    url: url.toString(),
    secret: `whsec_${randomBytes(24).toString('base64')}`,
    enabled: 1,
    disabled_reason: null,
    created_at: Date.now(),
  };
  await db.insertInto('webhook_endpoints').values(row).execute();
  return { ...view(row), secret: row.secret };
}

export async function listWebhookEndpoints(db: Kysely<Database>, workspaceId: string): Promise<WebhookEndpoint[]> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('name')
    .execute();
  return rows.map(view);
}

/** The endpoint a trigger names, secret included (for signing), or null. */
export async function findWebhookEndpoint(db: Kysely<Database>, workspaceId: string, name: string) {
  return (
    (await db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .executeTakeFirst()) ?? null
  );
}

/** Turns an endpoint on again (after a 410 disabled it, or by hand); its failed deliveries can then be replayed. */
export async function setWebhookEnabled(
  db: Kysely<Database>,
  workspaceId: string,
  name: string,
  enabled: boolean,
  reason: string | null,
): Promise<void> {
  const result = await db
    .updateTable('webhook_endpoints')
    .set({ enabled: enabled ? 1 : 0, disabled_reason: enabled ? null : reason })
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0)
    throw new KermaError('not_found', `no webhook endpoint named "${name}" in this workspace`);
}

/** Removes an endpoint; deliveries still pending for it fail with "no endpoint" (and can be replayed after a re-add). */
export async function removeWebhookEndpoint(db: Kysely<Database>, workspaceId: string, name: string): Promise<void> {
  const result = await db
    .deleteFrom('webhook_endpoints')
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0)
    throw new KermaError('not_found', `no webhook endpoint named "${name}" in this workspace`);
}
