import type { Touch } from '../attribution/touch.js';

/** A device/browser as known by its anonymous id. `firstSeenAt` is its first non-bot page view (null: not a visitor yet). */
export interface VisitorState {
  anonymousId: string;
  contactId: string | null;
  firstSeenAt: number | null;
  lastSeenAt: number;
  sessionId: string | null;
  firstTouch: Touch | null;
}

export interface SessionState {
  id: string;
  anonymousId: string;
  contactId: string | null;
  startedAt: number;
  lastAt: number;
  pageViews: number;
  events: number;
  touch: Touch;
  campaignKey: string;
  isNewVisitor: boolean;
}

export interface ContactState {
  id: string;
  email: string | null;
  userId: string | null;
  traits: Record<string, unknown>;
  firstTouch: Touch | null;
  lastTouch: Touch | null;
  createdAt: number;
  lastSeenAt: number;
}

export type IdentityKind = 'user' | 'email' | 'anonymous';

/** What the planner needs from storage for one batch of one workspace. */
export interface IngestState {
  existingMessageIds: Set<string>;
  visitors: Map<string, VisitorState>;
  /** Open sessions of the loaded visitors, by session id. */
  sessions: Map<string, SessionState>;
  contacts: Map<string, ContactState>;
  /** `${kind}:${value}` → contact id. */
  identities: Map<string, string>;
}

/** The keys a batch touches, for the storage to load. */
export interface IngestKeys {
  messageIds: string[];
  anonymousIds: string[];
  identityKeys: Array<{ kind: IdentityKind; value: string }>;
}
