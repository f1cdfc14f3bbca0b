import type BetterSqlite3 from 'better-sqlite3';
import { compileChannelRules } from '../../attribution/group-channel.js';
import type { ChannelRule } from '../../config.js';
import type { ContactState, IngestKeys, IngestState, SessionState, VisitorState } from '../../ingest/ingest-state.js';
import { collectKeys, type IngestPlan, planIngest } from '../../ingest/plan-ingest.js';
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
import type { IngestOutcome, WorkspaceBatch } from '../storage.js';
import { createSqliteLiveScoring } from './sqlite-live-scoring.js';

const columns = (names: string[]) => ({
  list: names.join(', '),
  params: names.map((n) => `@${n}`).join(', '),
  updates: names.map((n) => `${n} = excluded.${n}`).join(', '),
});

export interface SqliteWriterOptions {
  sessionTimeoutMs: number;
  channelRules: ChannelRule[];
}

/** The SQLite ingest write path: prepared statements on one connection, one IMMEDIATE transaction per call. */
export function createSqliteIngestWriter(
  writer: BetterSqlite3.Database,
  writerOptions: SqliteWriterOptions,
): (batches: WorkspaceBatch[]) => IngestOutcome[] {
  const options = {
    sessionTimeoutMs: writerOptions.sessionTimeoutMs,
    channelRules: compileChannelRules(writerOptions.channelRules),
  };
  const inList = (table: string, column: string, extra = '', select = '*') =>
    writer.prepare(
      `SELECT ${select} FROM ${table} WHERE workspace_id = ? ${extra} AND ${column} IN (SELECT value FROM json_each(?))`,
    );
  const selExisting = writer
    .prepare('SELECT message_id FROM events WHERE workspace_id = ? AND message_id IN (SELECT value FROM json_each(?))')
    .pluck();
  const selVisitors = inList('visitors', 'anonymous_id');
  const selSessions = inList('sessions', 'id', '', SESSION_STATE_COLUMNS.join(', '));
  const selContacts = inList('contacts', 'id');
  const selIdentities = inList('identities', 'value', 'AND kind = ?');

  const insEvent = writer.prepare(
    `INSERT OR IGNORE INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
  );
  const insert = (table: string, names: string[]) => {
    const c = columns(names);
    return writer.prepare(`INSERT INTO ${table} (${c.list}) VALUES (${c.params})`);
  };
  const update = (table: string, key: string[], names: string[]) =>
    writer.prepare(
      `UPDATE ${table} SET ${names.map((n) => `${n} = @${n}`).join(', ')} WHERE ${key.map((k) => `${k} = @${k}`).join(' AND ')}`,
    );
  const visitorNames = [
    'workspace_id',
    'anonymous_id',
    'contact_id',
    'first_seen_at',
    'last_seen_at',
    'session_id',
    'first_touch',
  ];
  const insVisitor = insert('visitors', visitorNames);
  const updVisitor = update('visitors', ['workspace_id', 'anonymous_id'], visitorNames.slice(2));
  const sessionNames = [
    'workspace_id',
    'id',
    'anonymous_id',
    'contact_id',
    'started_at',
    'last_at',
    'page_views',
    'events',
    'touch',
    'campaign_key',
    'channel',
    'source',
    'medium',
    'campaign',
    'landing_page',
    'is_new_visitor',
  ];
  const insSession = insert('sessions', sessionNames);
  const updSession = update('sessions', ['workspace_id', 'id'], ['contact_id', 'last_at', 'page_views', 'events']);
  const upsert = (table: string, names: string[], key: string, updateNames: string[]) => {
    const c = columns(names);
    return writer.prepare(
      `INSERT INTO ${table} (${c.list}) VALUES (${c.params}) ON CONFLICT (${key}) DO UPDATE SET ${columns(updateNames).updates}`,
    );
  };
  const contactNames = [
    'workspace_id',
    'id',
    'email',
    'user_id',
    'traits',
    'first_touch',
    'last_touch',
    'first_channel',
    'first_source',
    'first_medium',
    'first_campaign',
    'first_landing_page',
    'created_at',
    'updated_at',
    'last_seen_at',
  ];
  const upContact = upsert(
    'contacts',
    contactNames,
    'workspace_id, id',
    contactNames.slice(2).filter((n) => n !== 'created_at'),
  );
  const insIdentity = writer.prepare(
    'INSERT OR IGNORE INTO identities (workspace_id, kind, value, contact_id, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const linkEvents = writer.prepare(
    'UPDATE events SET contact_id = ? WHERE workspace_id = ? AND anonymous_id = ? AND contact_id IS NULL',
  );
  const linkSessions = writer.prepare(
    'UPDATE sessions SET contact_id = ? WHERE workspace_id = ? AND anonymous_id = ? AND contact_id IS NULL',
  );
  const upRollup = writer.prepare(
    `INSERT INTO daily_rollups (workspace_id, day, channel, source, medium, campaign, landing_page, new_visitors, sessions, page_views, new_contacts)
     VALUES (@workspace_id, @day, @channel, @source, @medium, @campaign, @landing_page, @new_visitors, @sessions, @page_views, @new_contacts)
     ON CONFLICT (workspace_id, day, channel, source, medium, campaign, landing_page) DO UPDATE SET
       new_visitors = new_visitors + excluded.new_visitors, sessions = sessions + excluded.sessions,
       page_views = page_views + excluded.page_views, new_contacts = new_contacts + excluded.new_contacts`,
  );

  const load = (workspaceId: string, keys: IngestKeys): IngestState => {
    const visitors = new Map<string, VisitorState>();
    for (const row of selVisitors.all(workspaceId, JSON.stringify(keys.anonymousIds)) as never[]) {
      const v = visitorState(row);
      visitors.set(v.anonymousId, v);
    }
    const sessionIds = [...visitors.values()].flatMap((v) => (v.sessionId ? [v.sessionId] : []));
    const sessions = new Map<string, SessionState>();
    if (sessionIds.length > 0) {
      for (const row of selSessions.all(workspaceId, JSON.stringify(sessionIds)) as never[]) {
        const s = sessionState(row);
        sessions.set(s.id, s);
      }
    }
    const identities = new Map<string, string>();
    for (const kind of ['user', 'email'] as const) {
      const values = keys.identityKeys.filter((k) => k.kind === kind).map((k) => k.value);
      if (values.length === 0) continue;
      for (const row of selIdentities.all(workspaceId, kind, JSON.stringify(values)) as Array<{
        value: string;
        contact_id: string;
      }>) {
        identities.set(`${kind}:${row.value}`, row.contact_id);
      }
    }
    const contactIds = new Set<string>(identities.values());
    for (const v of visitors.values()) if (v.contactId) contactIds.add(v.contactId);
    const contacts = new Map<string, ContactState>();
    if (contactIds.size > 0) {
      for (const row of selContacts.all(workspaceId, JSON.stringify([...contactIds])) as never[]) {
        const c = contactState(row);
        contacts.set(c.id, c);
      }
    }
    const existing = selExisting.all(workspaceId, JSON.stringify(keys.messageIds)) as string[];
    return { existingMessageIds: new Set(existing), visitors, sessions, contacts, identities };
  };

  /** Applies a plan; returns the messageIds stored. */
  const write = (workspaceId: string, plan: IngestPlan, now: number): Set<string> => {
    const inserted = new Set<string>();
    for (const planned of plan.events) {
      if (insEvent.run(eventValues(workspaceId, planned)).changes > 0) inserted.add(planned.event.messageId);
    }
    for (const v of plan.visitors) (v.isNew ? insVisitor : updVisitor).run(visitorRow(workspaceId, v));
    for (const s of plan.sessions) {
      if (s.isNew) insSession.run(sessionRow(workspaceId, s));
      else updSession.run(sessionUpdate(workspaceId, s));
    }
    for (const c of plan.contacts) upContact.run(contactRow(workspaceId, c, now));
    for (const i of plan.identities) insIdentity.run(workspaceId, i.kind, i.value, i.contactId, i.createdAt);
    for (const link of plan.links) {
      linkEvents.run(link.contactId, workspaceId, link.anonymousId);
      linkSessions.run(link.contactId, workspaceId, link.anonymousId);
    }
    for (const r of plan.rollups) {
      upRollup.run({
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
      });
    }
    return inserted;
  };

  const scoreLive = createSqliteLiveScoring(writer);

  const ingestAll = writer.transaction((batches: WorkspaceBatch[]): IngestOutcome[] => {
    const now = Date.now();
    const stored = new Map<string, Set<string>>();
    for (const batch of mergeByWorkspace(batches)) {
      const state = load(batch.workspaceId, collectKeys(batch.events));
      const plan = planIngest(batch.events, state, {
        timeZone: batch.timeZone,
        sessionTimeoutMs: options.sessionTimeoutMs,
        channelRules: options.channelRules,
        newId,
      });
      const inserted = write(batch.workspaceId, plan, now);
      // Scores move in the same transaction as the events that moved them.
      scoreLive(batch.workspaceId, batch.timeZone, plan, inserted, plan.newContactIds, now);
      stored.set(batch.workspaceId, inserted);
    }
    return splitOutcomes(batches, stored);
  });

  return (batches) => ingestAll.immediate(batches);
}
