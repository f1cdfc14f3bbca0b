import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContactDetail, ContactView } from '../../src/contacts/contact-wire.js';
import { capturedRequests, countCapturedEvents } from '../support/captures.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const FILES = [
  'captured-segment.json',
  'captured-rudderstack.json',
  'captured-posthog.json',
  'captured-segment-browser-batching.json',
  'captured-segment-browser-standard.json',
  'captured-rudderstack-browser-batch.json',
  'captured-rudderstack-browser-beacon.json',
  'captured-rudderstack-browser-xhr.json',
];

describe(`requests captured from real clients (${testEngine})`, () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => t.close());

  for (const file of FILES) {
    it(`${file}: every event stored once, one contact, anonymous history merged, first touch kept`, async () => {
      const requests = capturedRequests(file, t.writeKey);
      // Sent twice: the second pass must store nothing new (dedupe on messageId / uuid).
      for (const pass of [1, 2]) {
        for (const r of requests) {
          const response = await t.app.inject({ method: r.method, url: r.url, headers: r.headers, payload: r.payload });
          expect(response.statusCode, `${pass}: ${r.url} → ${response.body}`).toBe(200);
          const body = response.json();
          expect(body.success).toBe(true);
          if (pass === 2) expect(body.accepted).toBe(0);
        }
      }
      const stored = await t.runtime.storage.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('workspace_id', '=', t.workspaceId)
        .executeTakeFirstOrThrow();
      expect(Number(stored.n)).toBe(countCapturedEvents(file));

      const { contacts } = await t.read<{ contacts: ContactView[] }>('/api/contacts');
      expect(contacts).toHaveLength(1);
      const contact = contacts[0]!;
      expect(contact.email).toBe('jane@acme.com');
      expect(contact.userId).toBe('user-42');
      expect(contact.firstTouch).toMatchObject({
        source: 'google',
        medium: 'cpc',
        channel: 'Paid Search',
        landingPage: '/pricing',
      });

      const detail = await t.read<ContactDetail>(`/api/contacts/${contact.id}`);
      const pageViews = detail.events.filter((e) => e.type === 'page');
      expect(pageViews.length).toBeGreaterThan(0);
      expect(pageViews.every((e) => e.anonymousId !== null)).toBe(true);
      expect(detail.identities.map((i) => i.kind).sort()).toEqual(
        expect.arrayContaining(['anonymous', 'email', 'user']),
      );
    });
  }
});
