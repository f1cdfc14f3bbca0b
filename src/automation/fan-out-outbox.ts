import type { Kysely } from 'kysely';
import { scoredContacts } from '../contacts/scored-contacts.js';
import { lockWorkspace } from '../models/lock-workspace.js';
import type { TriggerAction } from '../scoring/scoring-model.js';
import type { Database, DeliveriesTable } from '../storage/database-schema.js';
import { parseJson } from '../storage/ingest-rows.js';
import type { TriggerPayload } from './trigger-outbox-row.js';

const PAGE = 200;
/** A trigger that fired for a moment longer ago than this (a backfill, an import of old events) is logged, not sent. */
export const STALE_TRIGGER_MS = 24 * 3600_000;

/** The contact as a delivery shows it: the fields templates and receivers use. */
export interface ContactSnapshot {
  id: string;
  email: string | null;
  userId: string | null;
  stage: string;
  owner: string | null;
  score: number;
  grade: string | null;
  traits: Record<string, unknown>;
  firstTouch: unknown;
}

/** A webhook delivery's body, per Standard Webhooks' recommended shape. */
export interface WebhookMessage {
  type: 'trigger.fired';
  timestamp: string;
  data: Omit<TriggerPayload, 'actions'> & { workspaceId: string; contact: ContactSnapshot | null };
}

/**
 * Turns fired triggers (outbox rows) into deliveries, one per action, in one transaction per workspace under its
 * write lock: delivery ids are `outboxId.index`, so two processes fanning out at once cannot make a delivery twice.
 * The contact is captured as it was when the trigger fired. A trigger for a moment over 24 h ago (history imported
 * or backfilled) is logged as skipped, not sent: sales should not be alerted about last spring. Returns the number of
 * deliveries made.
 */
export async function fanOutOutbox(db: Kysely<Database>, now: number): Promise<number> {
  const workspaces = await db
    .selectFrom('outbox')
    .select('workspace_id')
    .distinct()
    .where('delivered_at', 'is', null)
    .where('next_at', '<=', now)
    .execute();
  let made = 0;
  for (const { workspace_id: workspaceId } of workspaces) {
    for (;;) {
      const count = await db.transaction().execute(async (trx) => {
        await lockWorkspace(trx, workspaceId);
        const rows = await trx
          .selectFrom('outbox')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .where('delivered_at', 'is', null)
          .where('next_at', '<=', now)
          .orderBy('created_at')
          .limit(PAGE)
          .execute();
        if (rows.length === 0) return 0;
        const contactIds = [...new Set(rows.flatMap((r) => (r.contact_id ? [r.contact_id] : [])))];
        const contacts = new Map<string, ContactSnapshot>();
        if (contactIds.length > 0) {
          const found = await scoredContacts(trx)
            .select(['id', 'email', 'user_id', 'stage', 'owner', 'score', 'grade', 'traits', 'first_touch'])
            .where('contacts.workspace_id', '=', workspaceId)
            .where('id', 'in', contactIds)
            .execute();
          for (const c of found) {
            contacts.set(c.id, {
              id: c.id,
              email: c.email,
              userId: c.user_id,
              stage: c.stage,
              owner: c.owner,
              score: Number(c.score),
              grade: c.grade,
              traits: parseJson<Record<string, unknown>>(c.traits) ?? {},
              firstTouch: parseJson(c.first_touch),
            });
          }
        }
        const deliveries: DeliveriesTable[] = [];
        for (const row of rows) {
          const { actions, ...fired } = JSON.parse(row.payload) as TriggerPayload;
          const contact = row.contact_id ? (contacts.get(row.contact_id) ?? null) : null;
          // A score crossing says when it happened in the contact's history; other triggers fire as it happens.
          const happened = typeof fired['happenedAt'] === 'string' ? fired['happenedAt'] : fired.at;
          const stale = now - Date.parse(happened) > STALE_TRIGGER_MS;
          const message: WebhookMessage = {
            type: 'trigger.fired',
            timestamp: new Date(Number(row.created_at)).toISOString(),
            data: { ...fired, workspaceId, contact },
          };
          actions.forEach((action: TriggerAction, index) => {
            const webhook = 'webhook' in action;
            deliveries.push({
              workspace_id: workspaceId,
              id: `${row.id}.${index}`,
              outbox_id: row.id,
              channel: webhook ? 'webhook' : 'email',
              target: webhook ? action.webhook : JSON.stringify(action.email),
              contact_id: row.contact_id,
              payload: JSON.stringify(message),
              status: stale ? 'skipped' : 'pending',
              attempts: 0,
              next_at: now,
              lease_until: null,
              claimed_by: null,
              last_error: stale
                ? `not sent: it fired for ${happened}, over 24 h ago (a backfill of old events); replay to send it anyway`
                : null,
              created_at: now,
              delivered_at: null,
            });
          });
        }
        for (let i = 0; i < deliveries.length; i += 100) {
          await trx
            .insertInto('deliveries')
            .values(deliveries.slice(i, i + 100))
            .onConflict((oc) => oc.columns(['workspace_id', 'id']).doNothing())
            .execute();
        }
        await trx
          .updateTable('outbox')
          .set({ delivered_at: now })
          .where('workspace_id', '=', workspaceId)
          .where(
            'id',
            'in',
            rows.map((r) => r.id),
          )
          .execute();
        made += deliveries.length;
        return rows.length;
      });
      if (count < PAGE) break;
    }
  }
  return made;
}
