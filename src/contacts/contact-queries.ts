import { type Kysely, sql } from 'kysely';
import { KermaError } from '../errors.js';
import type { Database } from '../storage/database-schema.js';
import { parseJson } from '../storage/ingest-rows.js';
import { contactView } from './contact-view.js';
import type { ContactDetail, ContactView } from './contact-wire.js';
import { scoredContactRows } from './scored-contacts.js';

export type ContactSort = 'created' | 'score' | 'lastSeen' | 'probability';

export interface ListContactsQuery {
  email?: string | undefined;
  stage?: string | undefined;
  /** First-touch channel. */
  channel?: string | undefined;
  grade?: string | undefined;
  sort: ContactSort;
  limit: number;
  cursor?: string | undefined;
}

const SORT_COLUMN = {
  created: 'created_at',
  score: 'score',
  lastSeen: 'last_seen_at',
  probability: 'probability',
} as const;

function encodeCursor(value: number, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string')
      return [parsed[0], parsed[1]];
  } catch {
    // fall through to the error below
  }
  throw new KermaError(
    'invalid_input',
    'cursor is not one this API returned; pass the "next" value of the previous page',
  );
}

/**
 * A page of contacts, newest / highest first, with a keyset cursor (stable while contacts are added).
 * @example await listContacts(db, workspaceId, { sort: 'score', limit: 50 })
 */
export async function listContacts(
  db: Kysely<Database>,
  workspaceId: string,
  query: ListContactsQuery,
): Promise<{ contacts: ContactView[]; next: string | null }> {
  const column = SORT_COLUMN[query.sort];
  // Contacts without a probability (no predictive model yet) sort last: as −1.
  const key = column === 'probability' ? sql<number>`coalesce(probability, -1)` : sql<number>`${sql.ref(column)}`;
  // Ties go by id; by score, the score row's own, so that the order comes from current_scores and its score index.
  const id = query.sort === 'score' ? 'current_scores.contact_id' : 'contacts.id';
  let q = scoredContactRows(db).where('contacts.workspace_id', '=', workspaceId);
  if (query.email) q = q.where('email', '=', query.email.trim().toLowerCase());
  if (query.stage) q = q.where('stage', '=', query.stage);
  if (query.channel) q = q.where('first_channel', '=', query.channel);
  if (query.grade) q = q.where('grade', '=', query.grade);
  if (query.cursor) {
    const [value, after] = decodeCursor(query.cursor);
    q = q.where((eb) => eb.or([eb(key, '<', value), eb.and([eb(key, '=', value), eb(id, '<', after)])]));
  }
  const rows = await q
    .orderBy(key, 'desc')
    .orderBy(id, 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  const next = rows.length > query.limit && last ? encodeCursor(Number(last[column] ?? -1), last.id) : null;
  return { contacts: page.map(contactView), next };
}

/** One contact with identities, sessions (touches) and a page of its events, newest first. */
export async function getContactDetail(
  db: Kysely<Database>,
  workspaceId: string,
  id: string,
  events: { limit: number; cursor?: string | undefined },
): Promise<ContactDetail | null> {
  const row = await scoredContactRows(db)
    .where('contacts.workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return null;
  const identities = await db
    .selectFrom('identities')
    .select(['kind', 'value', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', '=', id)
    .orderBy('created_at')
    .execute();
  const sessions = await db
    .selectFrom('sessions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', '=', id)
    .orderBy('started_at', 'desc')
    .limit(100)
    .execute();
  let eq = db
    .selectFrom('events')
    .select(['message_id', 'type', 'name', 'timestamp', 'url', 'path', 'properties', 'anonymous_id'])
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', '=', id);
  if (events.cursor) {
    const [ts, messageId] = decodeCursor(events.cursor);
    eq = eq.where((eb) =>
      eb.or([eb('timestamp', '<', ts), eb.and([eb('timestamp', '=', ts), eb('message_id', '<', messageId)])]),
    );
  }
  const eventRows = await eq
    .orderBy('timestamp', 'desc')
    .orderBy('message_id', 'desc')
    .limit(events.limit + 1)
    .execute();
  const page = eventRows.slice(0, events.limit);
  const last = page[page.length - 1];
  const stageRows = await db
    .selectFrom('stage_changes')
    .select(['from_stage', 'to_stage', 'at', 'source', 'reason', 'value', 'currency', 'owner', 'skipped', 'reopen'])
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', '=', id)
    .orderBy('at')
    .orderBy('seq')
    .execute();
  const firstStage = stageRows[0]?.from_stage ?? row.stage;
  return {
    ...contactView(row),
    identities: identities.map((i) => ({
      kind: i.kind,
      value: i.value,
      since: new Date(Number(i.created_at)).toISOString(),
    })),
    sessions: sessions.map((s) => ({
      id: s.id,
      startedAt: new Date(Number(s.started_at)).toISOString(),
      pageViews: s.page_views,
      channel: s.channel,
      source: s.source,
      medium: s.medium,
      campaign: s.campaign,
      landingPage: s.landing_page,
    })),
    events: page.map((e) => ({
      messageId: e.message_id,
      type: e.type,
      name: e.name,
      timestamp: new Date(Number(e.timestamp)).toISOString(),
      url: e.url,
      path: e.path,
      properties: parseJson<Record<string, unknown>>(e.properties) ?? {},
      anonymousId: e.anonymous_id,
    })),
    eventsNext: eventRows.length > events.limit && last ? encodeCursor(Number(last.timestamp), last.message_id) : null,
    // The stage a contact was created in, then every recorded change.
    stages: [
      {
        from: null,
        to: firstStage,
        at: new Date(Number(row.created_at)).toISOString(),
        source: 'created',
        reason: null,
        value: null,
        currency: null,
        owner: null,
        skipped: false,
        reopen: false,
      },
      ...stageRows.map((s) => ({
        from: s.from_stage,
        to: s.to_stage,
        at: new Date(Number(s.at)).toISOString(),
        source: s.source,
        reason: s.reason,
        value: s.value === null ? null : Number(s.value),
        currency: s.currency,
        owner: s.owner,
        skipped: Number(s.skipped) === 1,
        reopen: Number(s.reopen) === 1,
      })),
    ],
  };
}
