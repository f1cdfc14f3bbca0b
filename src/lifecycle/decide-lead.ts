import { triggerOutboxRow } from '../automation/trigger-outbox-row.js';
import { KermaError } from '../errors.js';
import { ingestIdentify } from '../identity/ingest-identify.js';
import { activeModel } from '../models/active-model.js';
import { lockWorkspace } from '../models/lock-workspace.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';
import { applyStageUpdateIn, type StageUpdateResult } from './apply-stage-updates.js';
import type { RejectionReason } from './rejection-reasons.js';

export type LeadDecision =
  | { kind: 'accept'; owner: string | null; note: string | null; at: number }
  | { kind: 'reject'; reason: RejectionReason; owner: string | null; note: string | null; at: number };

export interface LeadDecisionResult {
  contactId: string;
  decision: 'accepted' | 'rejected';
  stage: string;
  rejection: { reason: RejectionReason; note: string | null } | null;
}

/**
 * Sales accepts an MQL (it becomes SQL) or rejects it with a reason: the rejection is kept (reports count them per
 * channel), the contact goes back to `contact` (recycled; the score may qualify it again), `sales.rejects` triggers
 * fire in the same commit, and the contact gets the traits `sales_rejection`, `sales_rejection_note` and
 * `sales_rejected_at`, so a scoring model can disqualify (category) or subtract points (fit rule) for a reason.
 */
export async function decideLead(
  storage: Storage,
  workspace: Workspace,
  contactId: string,
  decision: LeadDecision,
  now = Date.now(),
): Promise<LeadDecisionResult> {
  if (decision.kind === 'reject' && decision.reason === 'other' && !decision.note)
    throw new KermaError('invalid_input', 'note: a rejection for reason "other" needs a note saying why');
  const active = await activeModel(storage.db, workspace.id);
  const outcome = await storage.db.transaction().execute(async (trx) => {
    await lockWorkspace(trx, workspace.id);
    const contact = await trx
      .selectFrom('contacts')
      .select(['stage', 'user_id', 'email'])
      .where('workspace_id', '=', workspace.id)
      .where('id', '=', contactId)
      .executeTakeFirst();
    if (!contact) throw new KermaError('not_found', `no contact with id "${contactId}" in this workspace`);
    if (contact.stage !== 'mql') {
      throw new KermaError(
        'conflict',
        `only an MQL can be ${decision.kind === 'accept' ? 'accepted' : 'rejected'}; contact ${contactId} is ${contact.stage}`,
      );
    }
    let seq = 0;
    if (decision.kind === 'reject') {
      const last = await trx
        .selectFrom('sales_rejections')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('workspace_id', '=', workspace.id)
        .where('contact_id', '=', contactId)
        .executeTakeFirst();
      seq = Number(last?.seq ?? 0) + 1;
      await trx
        .insertInto('sales_rejections')
        .values({
          workspace_id: workspace.id,
          contact_id: contactId,
          seq,
          reason: decision.reason,
          note: decision.note,
          owner: decision.owner,
          at: decision.at,
        })
        .execute();
      const fired = (active?.model.triggers ?? []).filter(
        (t) => t.when.kind === 'salesRejects' && (t.when.reasons === null || t.when.reasons.includes(decision.reason)),
      );
      if (fired.length > 0) {
        const rejection = { reason: decision.reason, note: decision.note, owner: decision.owner };
        await trx
          .insertInto('outbox')
          .values(
            fired.map((t) =>
              triggerOutboxRow(
                workspace.id,
                t,
                { modelVersion: active!.version, contactId, at: decision.at, details: { rejection } },
                now,
              ),
            ),
          )
          .execute();
      }
    }
    const result: StageUpdateResult = await applyStageUpdateIn(
      trx,
      workspace.id,
      {
        updateId: `${decision.kind}-${contactId}-${decision.at}`,
        contact: { contactId },
        stage: decision.kind === 'accept' ? 'sql' : 'contact',
        at: decision.at,
        value: null,
        currency: null,
        reason:
          decision.kind === 'accept'
            ? (decision.note ?? 'accepted by sales')
            : `rejected by sales: ${decision.reason}${decision.note ? ` (${decision.note})` : ''}`,
        owner: decision.owner,
        reopen: false,
        source: 'user',
      },
      contactId,
      active,
      now,
    );
    if (!result.ok) throw new KermaError(result.code, result.message);
    return { contact, seq, stage: result.stage };
  });
  if (decision.kind === 'reject') {
    const { user_id: userId, email } = outcome.contact;
    const anonymous = userId
      ? null
      : await storage.db
          .selectFrom('visitors')
          .select('anonymous_id')
          .where('workspace_id', '=', workspace.id)
          .where('contact_id', '=', contactId)
          .executeTakeFirst();
    // A contact is always known by a user id, an email or a visitor; the guard keeps a broken row from failing the call.
    if (userId || email || anonymous)
      await ingestIdentify(storage, workspace, {
        messageId: `rejection-${contactId}-${outcome.seq}`,
        userId,
        anonymousId: anonymous?.anonymous_id ?? null,
        traits: {
          ...(email && !userId ? { email } : {}),
          sales_rejection: decision.reason,
          sales_rejection_note: decision.note,
          sales_rejected_at: new Date(decision.at).toISOString(),
        },
        at: decision.at,
        library: 'kerma-sales',
      });
  }
  return {
    contactId,
    decision: decision.kind === 'accept' ? 'accepted' : 'rejected',
    stage: outcome.stage,
    rejection: decision.kind === 'reject' ? { reason: decision.reason, note: decision.note } : null,
  };
}
