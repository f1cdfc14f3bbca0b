import { describe, expect, it } from 'vitest';
import type { IngestEvent } from '../../src/ingest/ingest-event.js';
import type { IngestState } from '../../src/ingest/ingest-state.js';
import { normalizeSegment } from '../../src/ingest/normalize-segment.js';
import { type IngestPlan, planIngest } from '../../src/ingest/plan-ingest.js';

const request = {
  receivedAt: Date.UTC(2026, 5, 1),
  ip: null,
  browserUserAgent: null,
  keepFullIp: false,
  maxEventBytes: 32768,
};
const events = (batch: object[]): IngestEvent[] => {
  const n = normalizeSegment({ batch }, 'batch', request);
  expect(n.rejected).toEqual([]);
  return n.events;
};
const emptyState = (): IngestState => ({
  existingMessageIds: new Set(),
  visitors: new Map(),
  sessions: new Map(),
  contacts: new Map(),
  identities: new Map(),
});
let ids = 0;
const options = {
  timeZone: 'UTC',
  sessionTimeoutMs: 30 * 60_000,
  channelRules: [],
  newId: (p: string) => `${p}_${++ids}`,
};
const iso = (d: number, h = 10, m = 0) => new Date(Date.UTC(2026, 4, d, h, m)).toISOString();
const total = (plan: IngestPlan, field: 'newVisitors' | 'sessions' | 'pageViews' | 'newContacts') =>
  plan.rollups.reduce((n, r) => n + r[field], 0);

describe('planIngest', () => {
  it('drops duplicates inside a batch and ones already stored', () => {
    const state = emptyState();
    state.existingMessageIds.add('old');
    const plan = planIngest(
      events([
        { type: 'track', event: 'A', userId: 'u1', messageId: 'old' },
        { type: 'track', event: 'A', userId: 'u1', messageId: 'new' },
        { type: 'track', event: 'A', userId: 'u1', messageId: 'new' },
      ]),
      state,
      options,
    );
    expect(plan.duplicates).toBe(2);
    expect(plan.events.map((e) => e.event.messageId)).toEqual(['new']);
  });

  it('applies events in event-time order, whatever order they arrive in', () => {
    const plan = planIngest(
      events([
        {
          type: 'page',
          anonymousId: 'a',
          messageId: '2',
          properties: { url: 'https://x.io/b' },
          timestamp: iso(1, 10, 5),
        },
        {
          type: 'page',
          anonymousId: 'a',
          messageId: '1',
          properties: { url: 'https://x.io/?utm_source=google&utm_medium=cpc' },
          timestamp: iso(1, 10, 0),
        },
      ]),
      emptyState(),
      options,
    );
    expect(plan.sessions).toHaveLength(1);
    expect(plan.sessions[0]!.dims).toMatchObject({ channel: 'Paid Search', landingPage: '/' });
    expect(total(plan, 'pageViews')).toBe(2);
  });

  it('moves a contact’s new-contact count when an earlier first touch is linked later', () => {
    const state = emptyState();
    // Batch 1: a contact is created from a direct visit on May 3.
    const first = planIngest(
      events([
        {
          type: 'page',
          anonymousId: 'laptop',
          messageId: 'p1',
          properties: { url: 'https://x.io/' },
          timestamp: iso(3),
        },
        {
          type: 'identify',
          anonymousId: 'laptop',
          userId: 'u9',
          messageId: 'i1',
          traits: { email: 'u9@x.io' },
          timestamp: iso(3, 10, 1),
        },
      ]),
      state,
      options,
    );
    expect(first.rollups.find((r) => r.newContacts === 1)).toMatchObject({ day: '2026-05-03', channel: 'Direct' });
    // Batch 2: the same person's phone had come from an email campaign on May 1; it identifies now.
    for (const v of state.visitors.values()) v.isNew = false;
    const second = planIngest(
      events([
        {
          type: 'page',
          anonymousId: 'phone',
          messageId: 'p2',
          properties: { url: 'https://x.io/?utm_source=newsletter&utm_medium=email' },
          timestamp: iso(1),
        },
        { type: 'identify', anonymousId: 'phone', userId: 'u9', messageId: 'i2', timestamp: iso(4) },
      ]),
      state,
      options,
    );
    const contact = [...state.contacts.values()][0]!;
    expect(contact.firstTouch).toMatchObject({ channel: 'Email' });
    const moved = second.rollups.filter((r) => r.newContacts !== 0).map((r) => [r.day, r.channel, r.newContacts]);
    expect(moved).toEqual(
      expect.arrayContaining([
        ['2026-05-03', 'Direct', -1],
        ['2026-05-03', 'Email', 1],
      ]),
    );
    expect(total(second, 'newContacts')).toBe(0);
  });

  it('links by email when there is no user id, and an email never moves to another user', () => {
    const state = emptyState();
    planIngest(
      events([
        { type: 'identify', anonymousId: 'a1', messageId: 'e1', traits: { email: 'Sam@X.io' }, timestamp: iso(2) },
      ]),
      state,
      options,
    );
    planIngest(
      events([
        {
          type: 'identify',
          anonymousId: 'a2',
          userId: 'sam',
          messageId: 'e2',
          traits: { email: 'sam@x.io' },
          timestamp: iso(3),
        },
      ]),
      state,
      options,
    );
    expect(state.contacts.size).toBe(1);
    expect([...state.contacts.values()][0]).toMatchObject({ email: 'sam@x.io', userId: 'sam' });
    planIngest(
      events([
        { type: 'identify', userId: 'other', messageId: 'e3', traits: { email: 'sam@x.io' }, timestamp: iso(4) },
      ]),
      state,
      options,
    );
    expect(state.contacts.size).toBe(2);
    expect(state.identities.get('email:sam@x.io')).toBe(state.identities.get('user:sam'));
  });
});
