import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { compileChannelRules } from '../../attribution/group-channel.js';
import type { ContactState, IngestKeys, IngestState, SessionState, VisitorState } from '../../ingest/ingest-state.js';
import { collectKeys, type IngestPlan, planIngest } from '../../ingest/plan-ingest.js';
import type { Database } from '../database-schema.js';
import {
  contactRow,
  contactState,
  EVENT_COLUMNS,
  eventValues,
  newId,
  SESSION_STATE_COLUMNS,
  sessionRow,
  sessionState,
  sessionUpdate,
  visitorRow,
  visitorState,
} from '../ingest-rows.js';
import { mergeByWorkspace, splitOutcomes } from '../merge-batches.js';
import { migrateToLatest } from '../migrations.js';
import type { IngestOutcome, Storage, StorageOptions, WorkspaceBatch } from '../storage.js';
import { copyScoreRows } from './copy-score-rows.js';
import { plannerStatistics } from './planner-statistics.js';
import { createPostgresLiveScoring } from './postgres-live-scoring.js';
import { type Column, unnestInsert } from './unnest-insert.js';

const EVENT_TYPES: Record<string, Column[1]> = { timestamp: 'bigint', received_at: 'bigint', is_bot: 'integer' };
const EVENT_COLUMN_TYPES: Column[] = EVENT_COLUMNS.map((name) => [name, EVENT_TYPES[name] ?? 'text'] as const);
const VISITOR_COLUMNS: Column[] = [
  ['workspace_id', 'text'],
  ['anonymous_id', 'text'],
  ['contact_id', 'text'],
  ['first_seen_at', 'bigint'],
  ['last_seen_at', 'bigint'],
  ['session_id', 'text'],
  ['first_touch', 'text'],
];
const SESSION_COLUMNS: Column[] = [
  ['workspace_id', 'text'],
  ['id', 'text'],
  ['anonymous_id', 'text'],
  ['contact_id', 'text'],
  ['started_at', 'bigint'],
  ['last_at', 'bigint'],
  ['page_views', 'integer'],
  ['events', 'integer'],
  ['touch', 'text'],
  ['campaign_key', 'text'],
  ['channel', 'text'],
  ['source', 'text'],
  ['medium', 'text'],
  ['campaign', 'text'],
  ['landing_page', 'text'],
  ['is_new_visitor', 'integer'],
];
const CONTACT_COLUMNS: Column[] = [
  ['workspace_id', 'text'],
  ['id', 'text'],
  ['email', 'text'],
  ['user_id', 'text'],
  ['traits', 'text'],
  ['first_touch', 'text'],
  ['last_touch', 'text'],
  ['first_channel', 'text'],
  ['first_source', 'text'],
  ['first_medium', 'text'],
  ['first_campaign', 'text'],
  ['first_landing_page', 'text'],
  ['created_at', 'bigint'],
  ['updated_at', 'bigint'],
  ['last_seen_at', 'bigint'],
];
const ROLLUP_COLUMNS: Column[] = [
  ['workspace_id', 'text'],
  ['day', 'text'],
  ['channel', 'text'],
  ['source', 'text'],
  ['medium', 'text'],
  ['campaign', 'text'],
  ['landing_page', 'text'],
  ['new_visitors', 'bigint'],
  ['sessions', 'bigint'],
  ['page_views', 'bigint'],
  ['new_contacts', 'bigint'],
];
const IDENTITY_COLUMNS: Column[] = [
  ['workspace_id', 'text'],
  ['kind', 'text'],
  ['value', 'text'],
  ['contact_id', 'text'],
  ['created_at', 'bigint'],
];

const updateAll = (cols: Column[], skip: string[]) =>
  cols
    .filter(([name]) => !skip.includes(name))
    .map(([name]) => `${name} = excluded.${name}`)
    .join(', ');

function createPool(url: string): pg.Pool {
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      // bigint columns hold epoch milliseconds and counts, all far inside Number's exact range.
      if (oid === 20) return (value: string) => Number(value);
      return pg.types.getTypeParser(oid, format);
    },
  };
  const pool = new pg.Pool({ connectionString: url, max: 10, types: types as pg.CustomTypesConfig });
  // A client losing its server (restart, outage) must not crash the process, whether it sits idle in the pool or is
  // checked out between two queries of a transaction; the next query on it fails and the caller answers 503.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * PostgreSQL storage. Ingest takes a per-workspace advisory lock inside its transaction, so several Kerma processes
 * can ingest into one database without double-counting visitors or sessions.
 * @example const storage = await openPostgresStorage('postgres://postgres@127.0.0.1:5432/kerma', options)
 */
export async function openPostgresStorage(url: string, storageOptions: StorageOptions): Promise<Storage> {
  const options = {
    sessionTimeoutMs: storageOptions.sessionTimeoutMs,
    channelRules: compileChannelRules(storageOptions.channelRules),
  };
  const pool = createPool(url);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db as Kysely<unknown>);

  const load = async (client: pg.PoolClient, workspaceId: string, keys: IngestKeys): Promise<IngestState> => {
    const visitorRows = await client.query(
      'SELECT * FROM visitors WHERE workspace_id = $1 AND anonymous_id = ANY($2::text[])',
      [workspaceId, keys.anonymousIds],
    );
    const visitors = new Map<string, VisitorState>();
    for (const row of visitorRows.rows) {
      const v = visitorState(row);
      visitors.set(v.anonymousId, v);
    }
    const sessionIds = [...visitors.values()].flatMap((v) => (v.sessionId ? [v.sessionId] : []));
    const sessions = new Map<string, SessionState>();
    if (sessionIds.length > 0) {
      const rows = await client.query(
        `SELECT ${SESSION_STATE_COLUMNS.join(', ')} FROM sessions WHERE workspace_id = $1 AND id = ANY($2::text[])`,
        [workspaceId, sessionIds],
      );
      for (const row of rows.rows) {
        const s = sessionState(row);
        sessions.set(s.id, s);
      }
    }
    const identities = new Map<string, string>();
    if (keys.identityKeys.length > 0) {
      const rows = await client.query(
        `SELECT i.kind, i.value, i.contact_id FROM identities i
         JOIN unnest($2::text[], $3::text[]) AS k(kind, value) ON i.kind = k.kind AND i.value = k.value
         WHERE i.workspace_id = $1`,
        [workspaceId, keys.identityKeys.map((k) => k.kind), keys.identityKeys.map((k) => k.value)],
      );
      for (const row of rows.rows) identities.set(`${row.kind}:${row.value}`, row.contact_id);
    }
    const contactIds = new Set<string>(identities.values());
    for (const v of visitors.values()) if (v.contactId) contactIds.add(v.contactId);
    const contacts = new Map<string, ContactState>();
    if (contactIds.size > 0) {
      const rows = await client.query('SELECT * FROM contacts WHERE workspace_id = $1 AND id = ANY($2::text[])', [
        workspaceId,
        [...contactIds],
      ]);
      for (const row of rows.rows) {
        const c = contactState(row);
        contacts.set(c.id, c);
      }
    }
    const existing = await client.query(
      'SELECT message_id FROM events WHERE workspace_id = $1 AND message_id = ANY($2::text[])',
      [workspaceId, keys.messageIds],
    );
    return {
      existingMessageIds: new Set(existing.rows.map((r) => r.message_id as string)),
      visitors,
      sessions,
      contacts,
      identities,
    };
  };

  const write = async (client: pg.PoolClient, workspaceId: string, plan: IngestPlan, now: number) => {
    const inserted = await unnestInsert(
      client,
      'events',
      EVENT_COLUMN_TYPES,
      plan.events.map((p) => eventValues(workspaceId, p)),
      'ON CONFLICT DO NOTHING RETURNING message_id',
    );
    await unnestInsert(
      client,
      'visitors',
      VISITOR_COLUMNS,
      plan.visitors.map((v) => visitorRow(workspaceId, v)),
      `ON CONFLICT (workspace_id, anonymous_id) DO UPDATE SET ${updateAll(VISITOR_COLUMNS, ['workspace_id', 'anonymous_id'])}`,
    );
    await unnestInsert(
      client,
      'sessions',
      SESSION_COLUMNS,
      plan.sessions.filter((s) => s.isNew).map((s) => sessionRow(workspaceId, s)),
      'ON CONFLICT DO NOTHING',
    );
    const updated = plan.sessions.filter((s) => !s.isNew).map((s) => sessionUpdate(workspaceId, s));
    if (updated.length > 0) {
      await client.query(
        `UPDATE sessions t SET contact_id = u.contact_id, last_at = u.last_at, page_views = u.page_views, events = u.events
         FROM unnest($2::text[], $3::text[], $4::bigint[], $5::integer[], $6::integer[]) AS u(id, contact_id, last_at, page_views, events)
         WHERE t.workspace_id = $1 AND t.id = u.id`,
        [
          workspaceId,
          updated.map((u) => u.id),
          updated.map((u) => u.contact_id),
          updated.map((u) => u.last_at),
          updated.map((u) => u.page_views),
          updated.map((u) => u.events),
        ],
      );
    }
    await unnestInsert(
      client,
      'contacts',
      CONTACT_COLUMNS,
      plan.contacts.map((c) => contactRow(workspaceId, c, now)),
      `ON CONFLICT (workspace_id, id) DO UPDATE SET ${updateAll(CONTACT_COLUMNS, ['workspace_id', 'id', 'created_at'])}`,
    );
    await unnestInsert(
      client,
      'identities',
      IDENTITY_COLUMNS,
      plan.identities.map((i) => ({
        workspace_id: workspaceId,
        kind: i.kind,
        value: i.value,
        contact_id: i.contactId,
        created_at: i.createdAt,
      })),
      'ON CONFLICT DO NOTHING',
    );
    if (plan.links.length > 0) {
      const args = [workspaceId, plan.links.map((l) => l.anonymousId), plan.links.map((l) => l.contactId)];
      for (const table of ['events', 'sessions']) {
        await client.query(
          `UPDATE ${table} t SET contact_id = l.contact_id FROM unnest($2::text[], $3::text[]) AS l(anonymous_id, contact_id)
           WHERE t.workspace_id = $1 AND t.anonymous_id = l.anonymous_id AND t.contact_id IS NULL`,
          args,
        );
      }
    }
    await unnestInsert(
      client,
      'daily_rollups',
      ROLLUP_COLUMNS,
      plan.rollups.map((r) => ({
        workspace_id: workspaceId,
        day: r.day,
        channel: r.channel,
        source: r.source,
        medium: r.medium,
        campaign: r.campaign,
        landing_page: r.landingPage,
        new_visitors: r.newVisitors,
        sessions: r.sessions,
        page_views: r.pageViews,
        new_contacts: r.newContacts,
      })),
      `ON CONFLICT (workspace_id, day, channel, source, medium, campaign, landing_page) DO UPDATE SET
         new_visitors = daily_rollups.new_visitors + excluded.new_visitors, sessions = daily_rollups.sessions + excluded.sessions,
         page_views = daily_rollups.page_views + excluded.page_views, new_contacts = daily_rollups.new_contacts + excluded.new_contacts`,
    );
    return new Set<string>(((inserted as pg.QueryResult).rows ?? []).map((r) => r.message_id as string));
  };

  const scoreLive = createPostgresLiveScoring();
  const statistics = plannerStatistics(pool);

  return {
    engine: 'postgres',
    db,
    file: null,
    bulkScores: (rows) => copyScoreRows(pool, rows),
    async ingest(batches: WorkspaceBatch[]): Promise<IngestOutcome[]> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Lock in a fixed order so two processes committing several workspaces cannot deadlock.
        const ids = [...new Set(batches.map((b) => b.workspaceId))].sort();
        for (const id of ids) await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [id]);
        const now = Date.now();
        const stored = new Map<string, Set<string>>();
        for (const batch of mergeByWorkspace(batches)) {
          const state = await load(client, batch.workspaceId, collectKeys(batch.events));
          const plan = planIngest(batch.events, state, {
            timeZone: batch.timeZone,
            sessionTimeoutMs: options.sessionTimeoutMs,
            channelRules: options.channelRules,
            newId,
          });
          const inserted = await write(client, batch.workspaceId, plan, now);
          // Scores move in the same transaction as the events that moved them.
          await scoreLive(client, batch.workspaceId, batch.timeZone, plan, inserted, plan.newContactIds, now);
          stored.set(batch.workspaceId, inserted);
        }
        await client.query('COMMIT');
        statistics.afterWrite();
        return splitOutcomes(batches, stored);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await statistics.close();
      await db.destroy();
    },
  };
}
