import type { Kysely } from 'kysely';
import type { ContactHistory } from '../scoring/replay-contact.js';
import type { Database } from '../storage/database-schema.js';
import { scoringEventFromRow } from '../storage/live-scoring-rows.js';

export interface StoredContactHistory extends ContactHistory {
  id: string;
  stage: string;
  /** When the contact first reached each stage (stage history, skipped stages included); empty unless asked for. */
  reached: Map<string, number>;
  /** Whether sales ever rejected it as an MQL; false unless asked for. */
  rejected: boolean;
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
  options: { stages?: boolean } = {},
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
    yield await withEvents(db, workspaceId, contacts, true, options.stages ?? false);
  }
}

/** The given contacts with their histories (for replaying a few, e.g. those that changed during a rescore). */
export async function loadContactHistoriesOf(
  db: Kysely<Database>,
  workspaceId: string,
  ids: string[],
  options: { stages?: boolean } = {},
): Promise<StoredContactHistory[]> {
  if (ids.length === 0) return [];
  const contacts = await db
    .selectFrom('contacts')
    .select(['id', 'traits', 'created_at', 'stage'])
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
  // None of the ids exist: an empty IN list is a syntax error on PostgreSQL.
  if (contacts.length === 0) return [];
  return withEvents(db, workspaceId, contacts, false, options.stages ?? false);
}

async function withEvents(
  db: Kysely<Database>,
  workspaceId: string,
  contacts: Array<{ id: string; traits: string; created_at: number; stage: string }>,
  contiguous = false,
  withStages = false,
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
  // Only a backtest asks for stage history; a rescore does not read it.
  const ids = contacts.map((c) => c.id);
  const reached = new Map<string, Map<string, number>>();
  const rejected = new Set<string>();
  if (withStages) {
    const firsts = await db
      .selectFrom('stage_changes')
      .select(['contact_id', 'to_stage', (eb) => eb.fn.min('at').as('at')])
      .where('workspace_id', '=', workspaceId)
      .where('contact_id', 'in', ids)
      .groupBy(['contact_id', 'to_stage'])
      .execute();
    for (const f of firsts) {
      const stages = reached.get(f.contact_id) ?? new Map<string, number>();
      stages.set(f.to_stage, Number(f.at));
      reached.set(f.contact_id, stages);
    }
    const rejections = await db
      .selectFrom('sales_rejections')
      .select('contact_id')
      .distinct()
      .where('workspace_id', '=', workspaceId)
      .where('contact_id', 'in', ids)
      .execute();
    for (const r of rejections) rejected.add(r.contact_id);
  }
  const byContact = new Map<string, StoredContactHistory>();
  const page = contacts.map((c) => {
    const history: StoredContactHistory = {
      id: c.id,
      stage: c.stage,
      reached: reached.get(c.id) ?? new Map(),
      rejected: rejected.has(c.id),
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
