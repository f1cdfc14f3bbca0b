import type { Touch } from '../attribution/touch.js';

/** A device/browser as known by its anonymous id. `firstSeenAt` is its first non-bot page view (null: not a visitor yet). */
export interface VisitorState {
  /** Not in storage yet: inserted rather than updated. */
  isNew: boolean;
  anonymousId: string;
  contactId: string | null;
  firstSeenAt: number | null;
  lastSeenAt: number;
  sessionId: string | null;
  firstTouch: Touch | null;
}

/** The rollup dimensions of a touch. */
export interface TouchDims {
  channel: string;
  source: string;
  medium: string;
  campaign: string;
  landingPage: string;
}

export interface SessionState {
  /** Not in storage yet: inserted (with its full touch) rather than updated. */
  isNew: boolean;
  id: string;
  anonymousId: string;
  contactId: string | null;
  startedAt: number;
  lastAt: number;
  pageViews: number;
  events: number;
  /** The full touch, for a session started by this batch; sessions loaded from storage carry only `dims`. */
  touch: Touch | null;
  dims: TouchDims;
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
