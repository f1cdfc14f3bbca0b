import { createHash } from 'node:crypto';
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import { triggerOutboxRow } from '../automation/trigger-outbox-row.js';
import { ingestIdentify } from '../identity/ingest-identify.js';
import { activeModel } from '../models/active-model.js';
import { lockWorkspace } from '../models/lock-workspace.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { Database, StageChangesTable } from '../storage/database-schema.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';
import { buildStageHistory, type StageEntry, type StageHistoryRow, stageAt } from './build-stage-history.js';
import type { Stage, StageSource } from './stages.js';

/** How an update names its contact: Kerma's id, an email address, or the CRM's own id (the contact's user id). */
export interface ContactKey {
  contactId?: string | undefined;
  email?: string | undefined;
  crmId?: string | undefined;
}

/** One stage update from a CRM, a user, an import. */
export interface StageUpdate {
  /** Makes the update idempotent: the same id twice is applied once. Null: a hash of the update's content. */
  updateId: string | null;
  contact: ContactKey;
  stage: Stage;
  at: number;
  value: number | null;
  currency: string | null;
  reason: string | null;
  owner: string | null;
  reopen: boolean;
  source: StageSource;
}

export type StageUpdateResult =
  | {
      ok: true;
      /**
       * applied: history changed; unchanged: the contact was already there; ignored: a move back to a stage already
       * reached after won or lost, without reopen; duplicate: this update id was seen.
       */
      status: 'applied' | 'unchanged' | 'ignored' | 'duplicate';
      updateId: string;
      contactId: string;
      created: boolean;
      stage: Stage;
      /** Stages recorded as reached on the way (straight to won: mql, sql, meeting). */
      skipped: Stage[];
    }
  | { ok: false; code: 'not_found' | 'conflict'; updateId: string; message: string };

export interface ApplyStageOptions {
  /** Create a contact for an email or CRM id Kerma does not know (otherwise the update is refused). */
  createMissing: boolean;
  /** Fire stage triggers (off for a bulk import of old history). Only a change that becomes current fires. */
  fireTriggers: boolean;
  now?: number;
}

/** The key that named the contact, for messages: `email "a@b.co"`. */
function describeKey(key: ContactKey): string {
  if (key.contactId) return `contactId "${key.contactId}"`;
  if (key.crmId) return `crmId "${key.crmId}"`;
  return `email "${key.email}"`;
}

function updateIdOf(update: StageUpdate): string {
  if (update.updateId) return update.updateId;
  const { updateId: _, ...content } = update;
  return `h_${createHash('sha256').update(JSON.stringify(content)).digest('base64url').slice(0, 32)}`;
}

async function resolveContacts(db: Kysely<Database>, workspaceId: string, keys: ContactKey[]) {
  const found = new Map<string, string>();
  const ids = [...new Set(keys.flatMap((k) => (k.contactId ? [k.contactId] : [])))];
  const identities = [
    ...new Set(
      keys.flatMap((k) =>
        k.contactId ? [] : k.crmId ? [`user:${k.crmId}`] : k.email ? [`email:${k.email.trim().toLowerCase()}`] : [],
      ),
    ),
  ];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('contacts')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) found.set(`id:${r.id}`, r.id);
  }
  for (const kind of ['user', 'email'] as const) {
    const values = identities.filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1));
    for (let i = 0; i < values.length; i += 500) {
      const rows = await db
        .selectFrom('identities')
        .select(['value', 'contact_id'])
        .where('workspace_id', '=', workspaceId)
        .where('kind', '=', kind)
        .where('value', 'in', values.slice(i, i + 500))
        .execute();
      for (const r of rows) found.set(`${kind}:${r.value}`, r.contact_id);
    }
  }
  return (key: ContactKey): string | null =>
    (key.contactId
      ? found.get(`id:${key.contactId}`)
      : key.crmId
        ? found.get(`user:${key.crmId}`)
        : found.get(`email:${key.email!.trim().toLowerCase()}`)) ?? null;
}

function entryOf(row: Selectable<StageChangesTable>): StageEntry {
  return {
    seq: row.seq,
    to: row.to_stage as Stage,
    at: Number(row.at),
    source: row.source,
    reason: row.reason,
    value: row.value === null ? null : Number(row.value),
    currency: row.currency,
    owner: row.owner,
    reopen: Number(row.reopen) === 1,
    updateId: row.update_id,
  };
}

function rowOf(
  workspaceId: string,
  contactId: string,
  row: StageHistoryRow,
  seq: number,
): Insertable<StageChangesTable> {
  return {
    workspace_id: workspaceId,
    contact_id: contactId,
    seq,
    from_stage: row.from,
    to_stage: row.to,
    at: row.at,
    source: row.source,
    reason: row.reason,
    value: row.value,
    currency: row.currency,
    owner: row.owner,
    skipped: row.skipped ? 1 : 0,
    reopen: row.reopen ? 1 : 0,
    update_id: row.updateId,
  };
}

/** True when the update would add nothing: the contact already stood at that stage then, with the same deal facts. */
function addsNothing(current: StageHistoryRow | null, update: StageUpdate): boolean {
  const stage = current?.to ?? 'contact';
  if (stage !== update.stage || update.reopen) return false;
  if (!current) return update.value === null && update.owner === null;
  return (
    (update.value === null || update.value === current.value) &&
    (update.currency === null || update.currency === current.currency) &&
    (update.owner === null || update.owner === current.owner)
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Applies stage updates in arrival order, each on its own: a refused one (unknown contact, leaving won/lost without
 * reopen) is reported and the others are kept. Every contact's history is rebuilt in time order, so a back-dated
 * update lands where it belongs; the contact's stage and owner follow the newest change. Stage triggers of the active
 * scoring model fire in the same commit, for a change that becomes the contact's current stage.
 */
export async function applyStageUpdates(
  storage: Storage,
  workspace: Workspace,
  updates: StageUpdate[],
  options: ApplyStageOptions,
): Promise<StageUpdateResult[]> {
  const now = options.now ?? Date.now();
  const db = storage.db;
  let resolve = await resolveContacts(
    db,
    workspace.id,
    updates.map((u) => u.contact),
  );
  const created = new Set<string>();
  if (options.createMissing) {
    const missing = updates.filter((u) => !resolve(u.contact) && !u.contact.contactId);
    // One identify per missing contact, all in one commit; the id is a hash of the key, so a retry creates nothing.
    if (missing.length > 0)
      await ingestIdentify(
        storage,
        workspace,
        ...missing.map((u) => {
          const key = u.contact.crmId ? `crm:${u.contact.crmId}` : `email:${u.contact.email!.trim().toLowerCase()}`;
          return {
            messageId: `crm-create-${createHash('sha256').update(key).digest('base64url').slice(0, 32)}`,
            userId: u.contact.crmId ?? null,
            traits: u.contact.email ? { email: u.contact.email } : {},
            at: Math.min(u.at, now),
            library: 'kerma-crm',
          };
        }),
      );
    if (missing.length > 0) {
      const before = resolve;
      resolve = await resolveContacts(
        db,
        workspace.id,
        updates.map((u) => u.contact),
      );
      for (const u of missing) {
        const id = resolve(u.contact);
        if (id && !before(u.contact)) created.add(id);
      }
    }
  }
  const active = options.fireTriggers ? await activeModel(db, workspace.id) : null;
  return db.transaction().execute(async (trx) => {
    await lockWorkspace(trx, workspace.id);
    const results: StageUpdateResult[] = [];
    for (const update of updates) {
      const contactId = resolve(update.contact);
      results.push(await applyStageUpdateIn(trx, workspace.id, update, contactId, active, now, created));
    }
    return results;
  });
}

/**
 * One stage update inside a transaction that already holds the workspace lock (`applyStageUpdates`, a sales decision).
 * `active` is the scoring model whose stage triggers fire, or null for none.
 */
export async function applyStageUpdateIn(
  trx: Transaction<Database>,
  workspaceId: string,
  update: StageUpdate,
  contactId: string | null,
  active: { model: ScoringModel; version: number } | null,
  now: number,
  created: ReadonlySet<string> = new Set(),
): Promise<StageUpdateResult> {
  const updateId = updateIdOf(update);
  if (!contactId) {
    return {
      ok: false,
      code: 'not_found',
      updateId,
      message: `no contact with ${describeKey(update.contact)} in this workspace${update.contact.contactId ? '' : '; to create it, send createMissing: true (API) or --create-missing (import)'}`,
    };
  }
  const seen = await trx
    .selectFrom('crm_updates')
    .select(['result'])
    .where('workspace_id', '=', workspaceId)
    .where('update_id', '=', updateId)
    .executeTakeFirst();
  if (seen) return { ...(JSON.parse(seen.result) as StageUpdateResult & { ok: true }), status: 'duplicate' };

  const stored = await trx
    .selectFrom('stage_changes')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', '=', contactId)
    .where('skipped', '=', 0)
    .orderBy('seq')
    .execute();
  const entries = stored.map(entryOf);
  const before = buildStageHistory(entries);
  const beforeRows = before.ok ? before.rows : [];
  const base = { ok: true as const, updateId, contactId, created: created.has(contactId) };
  let result: StageUpdateResult;
  if (addsNothing(stageAt(beforeRows, update.at), update)) {
    result = { ...base, status: 'unchanged', stage: before.ok ? before.stage : update.stage, skipped: [] };
  } else {
    const entry: StageEntry = {
      seq: entries.reduce((max, e) => Math.max(max, e.seq), 0) + 1,
      to: update.stage,
      at: update.at,
      source: update.source,
      reason: update.reason,
      value: update.value,
      currency: update.currency,
      owner: update.owner,
      reopen: update.reopen,
      updateId,
    };
    const after = buildStageHistory([...entries, entry]);
    if (!after.ok) {
      const message =
        after.entry === entry
          ? `contact ${contactId} is ${after.stage} since ${iso(after.since)}; a change to ${update.stage} must say "reopen": true`
          : `a change to ${update.stage} at ${iso(update.at)} would put contact ${contactId} in ${after.stage} before its later change to ${after.entry.to} at ${iso(after.entry.at)}, which does not reopen it`;
      return { ok: false, code: 'conflict', updateId, message };
    }
    if (after.ignored.includes(entry)) {
      result = { ...base, status: 'ignored', stage: after.stage, skipped: [] };
      await recordUpdate(trx, workspaceId, updateId, contactId, result, now);
      return result;
    }
    await trx
      .deleteFrom('stage_changes')
      .where('workspace_id', '=', workspaceId)
      .where('contact_id', '=', contactId)
      .execute();
    await trx
      .insertInto('stage_changes')
      .values(after.rows.map((row, i) => rowOf(workspaceId, contactId, row, i + 1)))
      .execute();
    await trx
      .updateTable('contacts')
      .set({ stage: after.stage, updated_at: now, ...(after.owner !== null ? { owner: after.owner } : {}) })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', contactId)
      .execute();
    const added = after.rows.filter((r) => r.updateId === updateId);
    const own = added.find((r) => !r.skipped)!;
    const becameCurrent = after.rows[after.rows.length - 1] === own && own.from !== own.to;
    if (active && becameCurrent) {
      const outbox = active.model.triggers
        .filter((t) => t.when.kind === 'reachesStage' && t.when.stage === own.to)
        .map((t) =>
          triggerOutboxRow(
            workspaceId,
            t,
            {
              modelVersion: active.version,
              contactId,
              at: own.at,
              details: {
                stage: {
                  from: own.from,
                  to: own.to,
                  source: own.source,
                  reason: own.reason,
                  value: own.value,
                  currency: own.currency,
                  owner: own.owner,
                  updateId,
                },
              },
            },
            now,
          ),
        );
      if (outbox.length > 0) await trx.insertInto('outbox').values(outbox).execute();
    }
    result = {
      ...base,
      status: 'applied',
      stage: after.stage,
      skipped: added.filter((r) => r.skipped).map((r) => r.to),
    };
  }
  await recordUpdate(trx, workspaceId, updateId, contactId, result, now);
  return result;
}

/** Remembers an update id and what it did, so a retry answers the same without applying it again. */
async function recordUpdate(
  trx: Transaction<Database>,
  workspaceId: string,
  updateId: string,
  contactId: string,
  result: StageUpdateResult,
  now: number,
): Promise<void> {
  await trx
    .insertInto('crm_updates')
    .values({
      workspace_id: workspaceId,
      update_id: updateId,
      contact_id: contactId,
      result: JSON.stringify(result),
      created_at: now,
    })
    .execute();
}
