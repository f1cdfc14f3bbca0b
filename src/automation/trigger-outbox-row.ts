import type { TriggerAction, TriggerRule } from '../scoring/scoring-model.js';
import type { OutboxTable } from '../storage/database-schema.js';
import { newId } from '../storage/ingest-rows.js';

/** What a trigger's outbox row says: which trigger, for whom, when, what it does, and what made it fire. */
export interface TriggerPayload {
  trigger: string;
  modelVersion: number;
  contactId: string;
  at: string;
  actions: TriggerAction[];
  [detail: string]: unknown;
}

/**
 * The outbox row of a trigger that fired, written in the same commit as the change that fired it; the delivery
 * worker fans it out into one delivery per action.
 */
export function triggerOutboxRow(
  workspaceId: string,
  trigger: Pick<TriggerRule, 'id' | 'actions'>,
  firing: { modelVersion: number; contactId: string; at: number; details: Record<string, unknown> },
  now: number,
): OutboxTable {
  const payload: TriggerPayload = {
    trigger: trigger.id,
    modelVersion: firing.modelVersion,
    contactId: firing.contactId,
    at: new Date(firing.at).toISOString(),
    ...firing.details,
    actions: trigger.actions,
  };
  return {
    workspace_id: workspaceId,
    id: newId('ob'),
    kind: 'trigger',
    source_id: trigger.id,
    contact_id: firing.contactId,
    payload: JSON.stringify(payload),
    created_at: now,
    attempts: 0,
    next_at: now,
    delivered_at: null,
  };
}
