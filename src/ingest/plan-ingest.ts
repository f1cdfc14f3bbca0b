import type { CompiledChannelRules } from '../attribution/group-channel.js';
import { campaignKey, parseTouch } from '../attribution/parse-touch.js';
import type { Touch } from '../attribution/touch.js';
import type { IngestEvent } from './ingest-event.js';
import type {
  ContactState,
  IdentityKind,
  IngestKeys,
  IngestState,
  SessionState,
  TouchDims,
  VisitorState,
} from './ingest-state.js';
import { localDay } from './local-day.js';

export interface PlanOptions {
  timeZone: string;
  sessionTimeoutMs: number;
  channelRules: CompiledChannelRules;
  newId: (prefix: string) => string;
}

/** A stored event: the ingest event plus what the planner resolved for it. */
export interface PlannedEvent {
  event: IngestEvent;
  contactId: string | null;
  sessionId: string | null;
}

export interface RollupKey {
  day: string;
  channel: string;
  source: string;
  medium: string;
  campaign: string;
  landingPage: string;
}

export interface RollupDelta extends RollupKey {
  newVisitors: number;
  sessions: number;
  pageViews: number;
  newContacts: number;
}

/** Every write one batch causes; storage applies it in one transaction. */
export interface IngestPlan {
  events: PlannedEvent[];
  duplicates: number;
  visitors: VisitorState[];
  sessions: SessionState[];
  contacts: ContactState[];
  /** Contacts created by this batch (a subset of `contacts`). */
  newContactIds: Set<string>;
  identities: Array<{ kind: IdentityKind; value: string; contactId: string; createdAt: number }>;
  /** Anonymous ids newly linked to a contact: their earlier events and sessions get the contact id. */
  links: Array<{ anonymousId: string; contactId: string }>;
  rollups: RollupDelta[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.trim().toLowerCase();
  return EMAIL.test(email) ? email : null;
}

function emailOf(event: IngestEvent): string | null {
  return normalizeEmail(event.traits?.['email']) ?? (event.type === 'identify' ? normalizeEmail(event.userId) : null);
}

/**
 * The keys a batch needs loaded: message ids for dedupe, anonymous ids for visitors, user ids and emails for identities.
 * @example collectKeys(events).anonymousIds
 */
export function collectKeys(events: IngestEvent[]): IngestKeys {
  const messageIds = new Set<string>();
  const anonymousIds = new Set<string>();
  const identities = new Map<string, { kind: IdentityKind; value: string }>();
  const addIdentity = (kind: IdentityKind, value: string) => identities.set(`${kind}:${value}`, { kind, value });
  for (const event of events) {
    messageIds.add(event.messageId);
    if (event.anonymousId) {
      anonymousIds.add(event.anonymousId);
      if (event.anonymousMayBeUser) addIdentity('user', event.anonymousId);
    }
    if (event.userId) addIdentity('user', event.userId);
    if (event.previousId) {
      anonymousIds.add(event.previousId);
      addIdentity('user', event.previousId);
    }
    const email = emailOf(event);
    if (email) addIdentity('email', email);
  }
  return { messageIds: [...messageIds], anonymousIds: [...anonymousIds], identityKeys: [...identities.values()] };
}

/** Host of an absolute URL without parsing it (hot path); '' when there is none. */
function hostOf(url: string | null | undefined): string {
  if (!url) return '';
  const start = url.indexOf('//');
  if (start < 0) return '';
  const end = url.indexOf('/', start + 2);
  return url.slice(start + 2, end < 0 ? undefined : end).toLowerCase();
}

/**
 * Whether a page view could carry a new campaign: client-sent campaign, a query string (utm_*, click ids) or an
 * external referrer. Other views continue the open session without parsing their touch.
 */
function mayStartCampaign(event: IngestEvent): boolean {
  if (event.campaign) return true;
  const url = event.page?.url ?? '';
  if (url.includes('?')) return true;
  const referrer = event.page?.referrer;
  return !!referrer && hostOf(referrer) !== hostOf(url);
}

export function touchDims(touch: Touch | null): TouchDims {
  return {
    channel: touch?.channel ?? 'Direct',
    source: touch?.source ?? '',
    medium: touch?.medium ?? '',
    campaign: touch?.campaign ?? '',
    landingPage: touch?.landingPage ?? '',
  };
}

/**
 * Plans a batch (one workspace, already normalised): dedupe, identity, sessions, attribution and rollup deltas.
 * Pure: `state` is what storage loaded for `collectKeys(events)`, and is updated in place as the batch is applied.
 */
export function planIngest(events: IngestEvent[], state: IngestState, options: PlanOptions): IngestPlan {
  const seen = new Set<string>();
  const accepted: IngestEvent[] = [];
  let duplicates = 0;
  for (const event of events) {
    if (state.existingMessageIds.has(event.messageId) || seen.has(event.messageId)) duplicates++;
    else {
      seen.add(event.messageId);
      accepted.push(event);
    }
  }
  // Apply in event-time order so sessions and first touches follow what happened, not arrival order.
  const ordered = accepted.map((event, index) => ({ event, index }));
  ordered.sort((a, b) => a.event.timestamp - b.event.timestamp || a.index - b.index);

  const dirtyVisitors = new Set<string>();
  const dirtySessions = new Set<string>();
  const dirtyContacts = new Set<string>();
  const newContactIds = new Set<string>();
  const identities: IngestPlan['identities'] = [];
  const links: IngestPlan['links'] = [];
  const rollups = new Map<string, RollupDelta>();
  const planned: PlannedEvent[] = [];

  const bump = (
    day: string,
    dims: Omit<RollupKey, 'day'>,
    field: 'newVisitors' | 'sessions' | 'pageViews' | 'newContacts',
    by: number,
  ) => {
    const key = [day, dims.channel, dims.source, dims.medium, dims.campaign, dims.landingPage].join('\u0001');
    let row = rollups.get(key);
    if (!row) {
      row = { day, ...dims, newVisitors: 0, sessions: 0, pageViews: 0, newContacts: 0 };
      rollups.set(key, row);
    }
    row[field] += by;
  };
  const dayOf = (at: number) => localDay(at, options.timeZone);

  const visitorFor = (anonymousId: string, at: number): VisitorState => {
    let visitor = state.visitors.get(anonymousId);
    if (!visitor) {
      visitor = {
        isNew: true,
        anonymousId,
        contactId: null,
        firstSeenAt: null,
        lastSeenAt: at,
        sessionId: null,
        firstTouch: null,
      };
      state.visitors.set(anonymousId, visitor);
    }
    return visitor;
  };

  const setFirstTouch = (contact: ContactState, touch: Touch | null) => {
    if (!touch) return;
    if (contact.firstTouch && Date.parse(contact.firstTouch.at) <= Date.parse(touch.at)) return;
    // The contact was counted under its old first touch on its creation day: move that count.
    if (!newContactIds.has(contact.id)) {
      bump(dayOf(contact.createdAt), touchDims(contact.firstTouch), 'newContacts', -1);
      bump(dayOf(contact.createdAt), touchDims(touch), 'newContacts', 1);
    }
    contact.firstTouch = touch;
    dirtyContacts.add(contact.id);
  };

  const bindIdentity = (kind: IdentityKind, value: string, contactId: string, at: number) => {
    const key = `${kind}:${value}`;
    if (state.identities.has(key)) return;
    state.identities.set(key, contactId);
    identities.push({ kind, value, contactId, createdAt: at });
  };

  const linkVisitor = (visitor: VisitorState, contact: ContactState, at: number) => {
    if (visitor.contactId) return;
    visitor.contactId = contact.id;
    dirtyVisitors.add(visitor.anonymousId);
    bindIdentity('anonymous', visitor.anonymousId, contact.id, at);
    links.push({ anonymousId: visitor.anonymousId, contactId: contact.id });
    setFirstTouch(contact, visitor.firstTouch);
    if (visitor.sessionId) {
      const session = state.sessions.get(visitor.sessionId);
      if (session && !session.contactId) {
        session.contactId = contact.id;
        dirtySessions.add(session.id);
      }
    }
  };

  const createContact = (at: number, firstTouch: Touch | null): ContactState => {
    const contact: ContactState = {
      id: options.newId('c'),
      email: null,
      userId: null,
      traits: {},
      firstTouch,
      lastTouch: firstTouch,
      createdAt: at,
      lastSeenAt: at,
    };
    state.contacts.set(contact.id, contact);
    newContactIds.add(contact.id);
    dirtyContacts.add(contact.id);
    return contact;
  };

  const contactById = (id: string | undefined | null): ContactState | undefined =>
    id ? state.contacts.get(id) : undefined;

  /** Finds or creates the contact a user id / email / anonymous id belong to, never merging two identified contacts. */
  const identify = (event: IngestEvent, userId: string | null, email: string | null): ContactState => {
    const at = event.timestamp;
    const byUser = userId ? contactById(state.identities.get(`user:${userId}`)) : undefined;
    let byEmail = email ? contactById(state.identities.get(`email:${email}`)) : undefined;
    if (byEmail && userId && byEmail.userId && byEmail.userId !== userId) byEmail = undefined;
    const visitor = event.anonymousId && !event.isBot ? visitorFor(event.anonymousId, at) : undefined;
    let target = byUser ?? byEmail;
    if (!target && visitor?.contactId) {
      const current = contactById(visitor.contactId);
      if (current && (!userId || !current.userId || current.userId === userId)) target = current;
    }
    if (!target) target = createContact(at, visitor?.firstTouch ?? null);
    if (userId && !byUser && !target.userId) {
      target.userId = userId;
      dirtyContacts.add(target.id);
    }
    if (userId) bindIdentity('user', userId, target.id, at);
    if (email && !state.identities.has(`email:${email}`)) {
      bindIdentity('email', email, target.id, at);
      if (!target.email) {
        target.email = email;
        dirtyContacts.add(target.id);
      }
    }
    if (visitor) linkVisitor(visitor, target, at);
    // A server-side identify (a CRM or CSV import) may say where the contact came from: its first touch, if earlier.
    else if (event.type === 'identify' && event.campaign) {
      const touch = parseTouch({ url: null, referrer: null, campaign: event.campaign, at }, options.channelRules);
      setFirstTouch(target, touch);
      if (!target.lastTouch) target.lastTouch = touch;
    }
    return target;
  };

  const alias = (event: IngestEvent): ContactState | null => {
    const userId = event.userId!;
    const previousId = event.previousId!;
    const at = event.timestamp;
    const byUser = contactById(state.identities.get(`user:${userId}`));
    const previousUser = contactById(state.identities.get(`user:${previousId}`));
    if (previousUser) {
      // previousId is itself a user id: give that contact the new id too, unless the new id already has a contact.
      if (!byUser) bindIdentity('user', userId, previousUser.id, at);
      return byUser ?? previousUser;
    }
    const target = byUser ?? createContact(at, state.visitors.get(previousId)?.firstTouch ?? null);
    if (!byUser) {
      target.userId = userId;
      bindIdentity('user', userId, target.id, at);
    }
    linkVisitor(visitorFor(previousId, at), target, at);
    return target;
  };

  for (const { event } of ordered) {
    const at = event.timestamp;
    let contact: ContactState | null | undefined = null;
    const email = emailOf(event);
    if (event.type === 'alias') contact = alias(event);
    else if (event.userId || (event.type === 'identify' && email)) contact = identify(event, event.userId, email);
    else if (event.anonymousId) {
      const visitor = state.visitors.get(event.anonymousId);
      contact = contactById(visitor?.contactId);
      if (!contact && event.anonymousMayBeUser) {
        contact = contactById(state.identities.get(`user:${event.anonymousId}`));
        if (contact && !event.isBot) linkVisitor(visitorFor(event.anonymousId, at), contact, at);
      }
    }
    if (contact && event.traits && event.type !== 'group') {
      contact.traits = { ...contact.traits, ...event.traits };
      if (!contact.email && email && state.identities.get(`email:${email}`) === contact.id) contact.email = email;
      dirtyContacts.add(contact.id);
    }

    // Sessions and visitors come from page views; other events join the open session. Bots are stored, never counted.
    let sessionId: string | null = null;
    if (event.anonymousId && !event.isBot) {
      const isView = event.type === 'page' || event.type === 'screen';
      const visitor = isView ? visitorFor(event.anonymousId, at) : state.visitors.get(event.anonymousId);
      if (visitor) {
        const open = visitor.sessionId ? state.sessions.get(visitor.sessionId) : undefined;
        const active =
          open && at - open.lastAt <= options.sessionTimeoutMs && at >= open.startedAt - options.sessionTimeoutMs;
        let session = active ? open : undefined;
        if (isView) {
          const isNewVisitor = visitor.firstSeenAt === null;
          const touch =
            !session || isNewVisitor || mayStartCampaign(event)
              ? parseTouch(
                  {
                    url: event.page?.url ?? null,
                    referrer: event.page?.referrer ?? null,
                    campaign: event.campaign,
                    at,
                  },
                  options.channelRules,
                )
              : null;
          if (touch && !touch.landingPage && event.page?.path) touch.landingPage = event.page.path;
          const key = touch ? campaignKey(touch) : '';
          // A new campaign starts a new session; an internal or direct hit continues the open one.
          if (session && touch && touch.source !== '(direct)' && key !== session.campaignKey) session = undefined;
          if (!session && touch) {
            session = {
              isNew: true,
              id: options.newId('s'),
              anonymousId: visitor.anonymousId,
              contactId: visitor.contactId,
              startedAt: at,
              lastAt: at,
              pageViews: 0,
              events: 0,
              touch,
              dims: touchDims(touch),
              campaignKey: key,
              isNewVisitor,
            };
            state.sessions.set(session.id, session);
            visitor.sessionId = session.id;
            bump(dayOf(at), session.dims, 'sessions', 1);
            const linked = contactById(visitor.contactId);
            if (linked && (touch.source !== '(direct)' || !linked.lastTouch)) {
              linked.lastTouch = touch;
              dirtyContacts.add(linked.id);
            }
          }
          if (isNewVisitor && touch) {
            visitor.firstSeenAt = at;
            visitor.firstTouch = touch;
            bump(dayOf(at), touchDims(touch), 'newVisitors', 1);
            const linked = contactById(visitor.contactId);
            if (linked) setFirstTouch(linked, touch);
          }
          if (session) {
            session.pageViews++;
            bump(dayOf(at), session.dims, 'pageViews', 1);
          }
        }
        if (session) {
          session.events++;
          if (at > session.lastAt) session.lastAt = at;
          if (!session.contactId && contact) session.contactId = contact.id;
          dirtySessions.add(session.id);
          sessionId = session.id;
        }
        if (at > visitor.lastSeenAt) visitor.lastSeenAt = at;
        dirtyVisitors.add(visitor.anonymousId);
      }
    }
    if (contact && at > contact.lastSeenAt) {
      contact.lastSeenAt = at;
      dirtyContacts.add(contact.id);
    }
    planned.push({ event, contactId: contact?.id ?? null, sessionId });
  }

  for (const id of newContactIds) {
    const contact = state.contacts.get(id)!;
    bump(dayOf(contact.createdAt), touchDims(contact.firstTouch), 'newContacts', 1);
  }

  return {
    events: planned,
    duplicates,
    visitors: [...dirtyVisitors].map((id) => state.visitors.get(id)!),
    sessions: [...dirtySessions].map((id) => state.sessions.get(id)!),
    contacts: [...dirtyContacts].map((id) => state.contacts.get(id)!),
    newContactIds,
    identities,
    links,
    rollups: [...rollups.values()].filter(
      (row) => row.newVisitors !== 0 || row.sessions !== 0 || row.pageViews !== 0 || row.newContacts !== 0,
    ),
  };
}
