import type { Kysely } from 'kysely';
import { KermaError } from '../errors.js';
import type { Database } from '../storage/database-schema.js';
import { sendWebhook } from './send-webhook.js';
import { findWebhookEndpoint } from './webhook-endpoints.js';

export interface WebhookTestResult {
  url: string;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  ms: number;
}

/** Sends a signed `webhook.test` message to an endpoint now (also when disabled) and says how it went. */
export async function testWebhook(db: Kysely<Database>, workspaceId: string, name: string): Promise<WebhookTestResult> {
  const endpoint = await findWebhookEndpoint(db, workspaceId, name);
  if (!endpoint) throw new KermaError('not_found', `no webhook endpoint named "${name}" in this workspace`);
  const body = JSON.stringify({
    type: 'webhook.test',
    timestamp: new Date().toISOString(),
    data: { workspaceId, endpoint: name },
  });
  const started = Date.now();
  const outcome = await sendWebhook(endpoint.url, endpoint.secret, `test_${started}`, body);
  const ms = Date.now() - started;
  if (outcome.kind === 'delivered')
    return { url: endpoint.url, ok: true, statusCode: outcome.statusCode, error: null, ms };
  return {
    url: endpoint.url,
    ok: false,
    statusCode: outcome.statusCode,
    error: outcome.kind === 'gone' ? 'answered 410 Gone' : outcome.error,
    ms,
  };
}
