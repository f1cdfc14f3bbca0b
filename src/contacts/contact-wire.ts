import type { Touch } from '../attribution/touch.js';

// The API's contact shapes, types only: the server builds them and the dashboard reads them, from this one file.

/** The contract's Contact. */
export interface ContactView {
  id: string;
  email: string | null;
  userId: string | null;
  traits: Record<string, unknown>;
  stage: string;
  /** Sales rep who owns the contact (from the newest stage update naming one). */
  owner: string | null;
  score: number;
  fit: number;
  engagement: number;
  grade: string | null;
  probability: number | null;
  firstTouch: Touch | null;
  lastTouch: Touch | null;
  createdAt: string;
  lastSeenAt: string;
}

/** `GET /api/contacts/:id`: a contact with identities, sessions, a page of events and its stage history. */
export interface ContactDetail extends ContactView {
  identities: Array<{ kind: string; value: string; since: string }>;
  sessions: Array<{
    id: string;
    startedAt: string;
    pageViews: number;
    channel: string;
    source: string | null;
    medium: string | null;
    campaign: string | null;
    landingPage: string | null;
  }>;
  events: Array<{
    messageId: string;
    type: string;
    name: string | null;
    timestamp: string;
    url: string | null;
    path: string | null;
    properties: Record<string, unknown>;
    anonymousId: string | null;
  }>;
  eventsNext: string | null;
  stages: Array<{ from: string | null; to: string; at: string; source: string; reason: string | null }>;
}
