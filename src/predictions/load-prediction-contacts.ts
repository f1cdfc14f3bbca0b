import type { Kysely } from 'kysely';
import { scoredContacts } from '../contacts/scored-contacts.js';
import { loadContactHistoriesOf } from '../models/load-contact-histories.js';
import type { StoredContactHistory } from '../models/read-contact-row.js';
import type { PredictionContact } from '../predictive/contact-raw-row.js';
import type { Database } from '../storage/database-schema.js';

export interface LoadedPredictionContact extends PredictionContact {
  id: string;
  history: StoredContactHistory;
  /** The probability the last scoring pass stored, and when. */
  stored: { probability: number | null; at: number | null };
}

/**
 * The given contacts with what a prediction needs: traits, first touch, rule fit and their (non-bot) events; with
 * `stages`, their stage history too (for outcomes).
 */
export async function loadPredictionContacts(
  db: Kysely<Database>,
  workspaceId: string,
  ids: string[],
  options: { stages?: boolean } = {},
): Promise<LoadedPredictionContact[]> {
  if (ids.length === 0) return [];
  const [histories, extra] = await Promise.all([
    loadContactHistoriesOf(db, workspaceId, ids, options),
    scoredContacts(db)
      .select(['id', 'first_channel', 'first_source', 'first_campaign', 'fit', 'probability', 'predicted_at'])
      .where('contacts.workspace_id', '=', workspaceId)
      .where('id', 'in', ids)
      .execute(),
  ]);
  const byId = new Map(extra.map((e) => [e.id, e]));
  return histories.map((h) => {
    const e = byId.get(h.id);
    return {
      id: h.id,
      history: h,
      traits: h.traits,
      createdAt: h.createdAt,
      firstChannel: e?.first_channel ?? null,
      firstSource: e?.first_source ?? null,
      firstCampaign: e?.first_campaign ?? null,
      fit: Number(e?.fit ?? 0),
      stored: {
        probability: e?.probability ?? null,
        at: e?.predicted_at === null || e?.predicted_at === undefined ? null : Number(e.predicted_at),
      },
      events: h.events.map((ev) => ({ type: ev.type, name: ev.name, path: ev.path, at: ev.at })),
    };
  });
}

/** Every contact id of a workspace, a page at a time (keyset on id). */
export async function* contactIdPages(
  db: Kysely<Database>,
  workspaceId: string,
  pageSize = 500,
): AsyncGenerator<string[]> {
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('contacts')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('id', '>', after)
      .orderBy('id')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.id;
    yield rows.map((r) => r.id);
  }
}
