import type { Kysely } from 'kysely';
import type { ContactHistory } from '../scoring/replay-contact.js';
import type { Database } from '../storage/database-schema.js';
import { scoringEventFromRow } from '../storage/live-scoring-rows.js';

export interface StoredContactHistory extends ContactHistory {
  id: string;
  stage: string;
  /** When the contact first became an MQL (stage history), if it did; null unless asked for. */
  mqlAt: number | null;
}

const PAGE = 1_000;

/**
 * Every contact of a workspace with its traits and its non-bot events, a page at a time (keyset on id), so a
 * rescore or backtest of a large workspace runs in bounded memory.
 * @example for await (const page of loadContactHistories(db, workspaceId)) for (const c of page) replayContact(model, c, clock)
 */
export async function* loadContactHistories(
  db: Kysely<Database>,
  workspaceId: string,
  options: { mqlAt?: boolean } = {},
): AsyncGenerator<StoredContactHistory[]> {
  let after = '';
  for (;;) {
    const contacts = await db
      .selectFrom('contacts')
      .select(['id', 'traits', 'created_at', 'stage'])
      .where('workspace_id', '=', workspaceId)
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    if (contacts.length === 0) return;
    after = contacts[contacts.length - 1]!.id;
    // The page is every contact id from the first to the last of it, so a range on the events index finds their
    // events (measured faster than an IN list of a thousand ids).
    yield await withEvents(db, workspaceId, contacts, true, options.mqlAt ?? false);
  }
}

/** The given contacts with their histories (for replaying a few, e.g. those that changed during a rescore). */
export async function loadContactHistoriesOf(
  db: Kysely<Database>,
  workspaceId: string,
  ids: string[],
): Promise<StoredContactHistory[]> {
  if (ids.length === 0) return [];
  const contacts = await db
    .selectFrom('contacts')
    .select(['id', 'traits', 'created_at', 'stage'])
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
  return withEvents(db, workspaceId, contacts);
}

async function withEvents(
  db: Kysely<Database>,
  workspaceId: string,
  contacts: Array<{ id: string; traits: string; created_at: number; stage: string }>,
  contiguous = false,
  withMqlAt = false,
): Promise<StoredContactHistory[]> {
  let query = db
    .selectFrom('events')
    .select(['message_id', 'contact_id', 'type', 'name', 'path', 'url', 'properties', 'timestamp'])
    .where('workspace_id', '=', workspaceId)
    .where('is_bot', '=', 0);
  query = contiguous
    ? query.where('contact_id', '>=', contacts[0]!.id).where('contact_id', '<=', contacts[contacts.length - 1]!.id)
    : query.where(
        'contact_id',
        'in',
        contacts.map((c) => c.id),
      );
  const events = await query.execute();
  // Only a backtest cut at the MQL moment asks for it; a rescore does not read stage history.
  const mql = !withMqlAt
    ? []
    : await db
        .selectFrom('stage_changes')
        .select(['contact_id', (eb) => eb.fn.min('at').as('at')])
        .where('workspace_id', '=', workspaceId)
        .where(
          'contact_id',
          'in',
          contacts.map((c) => c.id),
        )
        .where('to_stage', '=', 'mql')
        .groupBy('contact_id')
        .execute();
  const mqlAt = new Map(mql.map((m) => [m.contact_id, Number(m.at)]));
  const byContact = new Map<string, StoredContactHistory>();
  const page = contacts.map((c) => {
    const history: StoredContactHistory = {
      id: c.id,
      stage: c.stage,
      mqlAt: mqlAt.get(c.id) ?? null,
      traits: JSON.parse(c.traits) as Record<string, unknown>,
      createdAt: Number(c.created_at),
      events: [],
    };
    byContact.set(c.id, history);
    return history;
  });
  for (const e of events) {
    byContact.get(e.contact_id!)?.events.push(scoringEventFromRow(e));
  }
  return page;
}
