import type { Kysely } from 'kysely';
import { KermaError } from '../errors.js';
import type { Database } from '../storage/database-schema.js';
import { findWebhookEndpoint } from './webhook-endpoints.js';

export interface DeliveryView {
  id: string;
  channel: string;
  target: string;
  contactId: string | null;
  trigger: string | null;
  status: string;
  attempts: number;
  nextAt: string | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

function view(row: Database['deliveries']): DeliveryView {
  let trigger: string | null = null;
  try {
    trigger = (JSON.parse(row.payload) as { data?: { trigger?: string } }).data?.trigger ?? null;
  } catch {
    trigger = null;
  }
  return {
    id: row.id,
    channel: row.channel,
    target: row.target,
    contactId: row.contact_id,
    trigger,
    status: row.status,
    attempts: Number(row.attempts),
    nextAt: row.status === 'pending' ? iso(row.next_at) : null,
    lastError: row.last_error,
    createdAt: iso(row.created_at)!,
    deliveredAt: iso(row.delivered_at),
  };
}

/** The delivery log, newest first: every delivery with its status and last error. */
export async function listDeliveries(
  db: Kysely<Database>,
  workspaceId: string,
  filter: { status?: string | undefined; limit: number },
): Promise<DeliveryView[]> {
  let query = db.selectFrom('deliveries').selectAll().where('workspace_id', '=', workspaceId);
  if (filter.status) query = query.where('status', '=', filter.status);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(view);
}

async function deliveryOrThrow(db: Kysely<Database>, workspaceId: string, id: string) {
  const row = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new KermaError('not_found', `no delivery with id "${id}" in this workspace`);
  return row;
}

/** One delivery with every attempt (time, HTTP or SMTP status, error, duration, worker). */
export async function getDelivery(db: Kysely<Database>, workspaceId: string, id: string) {
  const row = await deliveryOrThrow(db, workspaceId, id);
  const attempts = await db
    .selectFrom('delivery_attempts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('delivery_id', '=', id)
    .orderBy('attempt')
    .execute();
  return {
    ...view(row),
    payload: JSON.parse(row.payload) as unknown,
    log: attempts.map((a) => ({
      attempt: a.attempt,
      at: iso(a.at),
      statusCode: a.status_code,
      error: a.error,
      durationMs: a.duration_ms,
      worker: a.worker,
    })),
  };
}

/**
 * Sends a delivery again from the start of the retry schedule (a failed one, or a delivered one on purpose). The
 * message keeps its webhook-id, so a receiver that already has it can tell. A webhook to a disabled endpoint is refused.
 */
export async function replayDelivery(db: Kysely<Database>, workspaceId: string, id: string): Promise<DeliveryView> {
  const row = await deliveryOrThrow(db, workspaceId, id);
  if (row.status === 'pending') throw new KermaError('conflict', `delivery ${id} is still pending; it will be tried`);
  if (row.channel === 'webhook') {
    const endpoint = await findWebhookEndpoint(db, workspaceId, row.target);
    if (endpoint && Number(endpoint.enabled) !== 1) {
      throw new KermaError(
        'conflict',
        `endpoint "${row.target}" is disabled (${endpoint.disabled_reason ?? 'by hand'}); enable it first with \`kerma webhooks enable ${row.target}\``,
      );
    }
  }
  const now = Date.now();
  await db
    .updateTable('deliveries')
    .set({
      status: 'pending',
      attempts: 0,
      next_at: now,
      lease_until: null,
      claimed_by: null,
      last_error: null,
      delivered_at: null,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
  return view({ ...row, status: 'pending', attempts: 0, next_at: now, last_error: null, delivered_at: null });
}
