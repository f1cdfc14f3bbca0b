import { randomUUID } from 'node:crypto';
import type { ContactState, SessionState, VisitorState } from '../ingest/ingest-state.js';
import type { PlannedEvent } from '../ingest/plan-ingest.js';
import type { ContactsTable, EventsTable, SessionsTable, StageTimeColumn, VisitorsTable } from './database-schema.js';

/** Random id with a type prefix, e.g. `c_5kq2…`: a v4 UUID (122 random bits; randomUUID batches its entropy), URL-safe. */
export function newId(prefix: string): string {
  return `${prefix}_${Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url')}`;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/** The events table's columns, in the order `eventValues` returns them. */
export const EVENT_COLUMNS = [
  'workspace_id',
  'message_id',
  'type',
  'name',
  'anonymous_id',
  'user_id',
  'contact_id',
  'session_id',
  'timestamp',
  'received_at',
  'properties',
  'traits',
  'context',
  'url',
  'path',
  'referrer',
  'ip',
  'user_agent',
  'browser',
  'os',
  'device',
  'is_bot',
  'library',
] as const satisfies ReadonlyArray<keyof EventsTable>;

/** One event row as positional values (the hot path: no per-row object with 23 named keys to bind). */
export function eventValues(workspaceId: string, planned: PlannedEvent): unknown[] {
  const e = planned.event;
  return [
    workspaceId,
    e.messageId,
    e.type,
    e.name,
    e.anonymousId,
    e.userId ?? e.previousId,
    planned.contactId,
    planned.sessionId,
    e.timestamp,
    e.receivedAt,
    e.json.properties,
    e.json.traits,
    e.json.context,
    e.page?.url ?? null,
    e.page?.path ?? null,
    e.page?.referrer ?? null,
    e.ip,
    e.userAgent,
    e.browser,
    e.os,
    e.device,
    e.isBot ? 1 : 0,
    e.library,
  ];
}

export function visitorRow(workspaceId: string, v: VisitorState): VisitorsTable {
  return {
    workspace_id: workspaceId,
    anonymous_id: v.anonymousId,
    contact_id: v.contactId,
    first_seen_at: v.firstSeenAt,
    last_seen_at: v.lastSeenAt,
    session_id: v.sessionId,
    first_touch: json(v.firstTouch),
  };
}

/** A session started by this batch (it has its full touch). */
export function sessionRow(workspaceId: string, s: SessionState): SessionsTable {
  const touch = s.touch;
  if (!touch) throw new Error(`session ${s.id} was loaded from storage; only new sessions are inserted`);
  return {
    workspace_id: workspaceId,
    id: s.id,
    anonymous_id: s.anonymousId,
    contact_id: s.contactId,
    started_at: s.startedAt,
    last_at: s.lastAt,
    page_views: s.pageViews,
    events: s.events,
    touch: JSON.stringify(touch),
    campaign_key: s.campaignKey,
    channel: touch.channel,
    source: touch.source,
    medium: touch.medium,
    campaign: touch.campaign,
    landing_page: touch.landingPage,
    is_new_visitor: s.isNewVisitor ? 1 : 0,
  };
}

/** The columns a later event changes on an existing session. */
export function sessionUpdate(workspaceId: string, s: SessionState) {
  return {
    workspace_id: workspaceId,
    id: s.id,
    contact_id: s.contactId,
    last_at: s.lastAt,
    page_views: s.pageViews,
    events: s.events,
  };
}

/** Session columns the planner needs; the stored touch JSON is not read back. */
export const SESSION_STATE_COLUMNS = [
  'id',
  'anonymous_id',
  'contact_id',
  'started_at',
  'last_at',
  'page_views',
  'events',
  'campaign_key',
  'channel',
  'source',
  'medium',
  'campaign',
  'landing_page',
  'is_new_visitor',
] as const;

/** The contact columns ingest owns; scoring, stage and prediction columns are left to their owners. */
export type ContactIngestRow = Omit<
  ContactsTable,
  'stage' | 'probability' | 'owner' | 'predicted_at' | 'prediction_model' | StageTimeColumn
>;

export function contactRow(workspaceId: string, c: ContactState, now: number): ContactIngestRow {
  return {
    workspace_id: workspaceId,
    id: c.id,
    email: c.email,
    user_id: c.userId,
    traits: JSON.stringify(c.traits),
    first_touch: json(c.firstTouch),
    last_touch: json(c.lastTouch),
    first_channel: c.firstTouch?.channel ?? null,
    first_source: c.firstTouch?.source ?? null,
    first_medium: c.firstTouch?.medium ?? null,
    first_campaign: c.firstTouch?.campaign ?? null,
    first_landing_page: c.firstTouch?.landingPage ?? null,
    created_at: c.createdAt,
    updated_at: now,
    last_seen_at: c.lastSeenAt,
  };
}

export function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export function contactState(row: {
  id: string;
  email: string | null;
  user_id: string | null;
  traits: string;
  first_touch: string | null;
  last_touch: string | null;
  created_at: number;
  last_seen_at: number;
}): ContactState {
  return {
    id: row.id,
    email: row.email,
    userId: row.user_id,
    traits: JSON.parse(row.traits) as Record<string, unknown>,
    firstTouch: parseJson(row.first_touch),
    lastTouch: parseJson(row.last_touch),
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
  };
}

export function visitorState(row: VisitorsTable): VisitorState {
  return {
    isNew: false,
    anonymousId: row.anonymous_id,
    contactId: row.contact_id,
    firstSeenAt: row.first_seen_at === null ? null : Number(row.first_seen_at),
    lastSeenAt: Number(row.last_seen_at),
    sessionId: row.session_id,
    firstTouch: parseJson(row.first_touch),
  };
}

export function sessionState(row: Omit<SessionsTable, 'workspace_id' | 'touch'>): SessionState {
  return {
    isNew: false,
    id: row.id,
    anonymousId: row.anonymous_id,
    contactId: row.contact_id,
    startedAt: Number(row.started_at),
    lastAt: Number(row.last_at),
    pageViews: row.page_views,
    events: row.events,
    touch: null,
    dims: {
      channel: row.channel,
      source: row.source ?? '',
      medium: row.medium ?? '',
      campaign: row.campaign ?? '',
      landingPage: row.landing_page ?? '',
    },
    campaignKey: row.campaign_key,
    isNewVisitor: row.is_new_visitor === 1,
  };
}
