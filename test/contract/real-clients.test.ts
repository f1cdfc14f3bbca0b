import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import { PostHog } from 'posthog-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactDetail, ContactView } from '../../src/contacts/contact-wire.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

/**
 * A proxy in front of Kerma that forwards every request, but answers the first POST of each client with 503 after
 * Kerma has stored it: the response is "lost", so the real client retries the same batch.
 */
function lossyProxy(target: string): Promise<{ server: Server; url: string; posts: Map<string, number> }> {
  const posts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const client = String(req.headers['user-agent'] ?? 'unknown').split('/')[0]!;
      const n = (posts.get(client) ?? 0) + 1;
      if (req.method === 'POST') posts.set(client, n);
      const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          if (req.method === 'POST' && n === 1) {
            res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"lost response"}');
          } else {
            res.writeHead(up.statusCode ?? 502, up.headers).end(Buffer.concat(body));
          }
        });
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts }),
    ),
  );
}

describe(`real client libraries against a running Kerma (${testEngine})`, () => {
  let t: TestApp;
  let proxy: Awaited<ReturnType<typeof lossyProxy>>;
  let sent = 0;

  beforeAll(async () => {
    t = await createTestApp();
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    proxy = await lossyProxy(address);

    const segment = new SegmentAnalytics({
      writeKey: t.writeKey,
      host: proxy.url,
      flushInterval: 100,
      maxEventsInBatch: 50,
      maxRetries: 5,
    });
    segment.page({
      anonymousId: 'seg-anon',
      name: 'Pricing',
      properties: {
        url: 'https://example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring',
        path: '/pricing',
        referrer: 'https://www.google.com/',
      },
      context: {
        userAgent:
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      },
    });
    segment.track({ anonymousId: 'seg-anon', event: 'Pricing Viewed', properties: { plan: 'pro' } });
    segment.identify({
      anonymousId: 'seg-anon',
      userId: 'seg-user',
      traits: { email: 'jane.segment@acme.com', name: 'Jane' },
    });
    segment.track({ userId: 'seg-user', event: 'Demo Requested', properties: { seats: 10 } });
    sent += 4;
    await segment.closeAndFlush();

    const rudder = new RudderAnalytics(t.writeKey, {
      dataPlaneUrl: proxy.url,
      flushAt: 50,
      flushInterval: 100,
      gzip: true,
      retryCount: 5,
      logLevel: 'error',
    });
    rudder.page({
      anonymousId: 'rud-anon',
      name: 'Home',
      properties: {
        url: 'https://example.com/?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm',
        path: '/',
        referrer: 'https://www.linkedin.com/',
      },
    });
    rudder.identify({ anonymousId: 'rud-anon', userId: 'rud-user', traits: { email: 'rudi@globex.com' } });
    rudder.track({
      anonymousId: 'rud-anon',
      userId: 'rud-user',
      event: 'Form Submitted',
      properties: { form: 'demo' },
    });
    sent += 3;
    await rudder.flush();

    // posthog-node sends the project key as api_key; Kerma's write key serves as the project key.
    const ph = new PostHog(t.writeKey, {
      host: proxy.url,
      flushAt: 50,
      flushInterval: 100,
      fetchRetryCount: 5,
      fetchRetryDelay: 100,
    });
    ph.capture({
      distinctId: 'ph-anon',
      event: '$pageview',
      properties: {
        $current_url: 'https://example.com/blog?utm_source=newsletter&utm_medium=email&utm_campaign=june',
        $referrer: '$direct',
      },
    });
    ph.identify({ distinctId: 'ph-user', properties: { $anon_distinct_id: 'ph-anon', email: 'pat@initech.com' } });
    ph.capture({ distinctId: 'ph-user', event: 'Demo Requested', properties: { value: 500 } });
    sent += 3;
    await ph.shutdown();
  }, 60_000);

  afterAll(async () => {
    proxy?.server.close();
    await t?.close();
  });

  it('each client really retried after the lost response', () => {
    for (const client of ['analytics-node-next', 'analytics-node', 'posthog-node']) {
      expect(proxy.posts.get(client), client).toBeGreaterThanOrEqual(2);
    }
  });

  it('stores every event exactly once', async () => {
    const row = await t.runtime.storage.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', t.workspaceId)
      .executeTakeFirstOrThrow();
    expect(Number(row.n)).toBe(sent);
  });

  const cases = [
    { email: 'jane.segment@acme.com', events: 4, channel: 'Paid Search', source: 'google', campaign: 'spring' },
    { email: 'rudi@globex.com', events: 3, channel: 'Paid Social', source: 'linkedin', campaign: 'abm' },
    { email: 'pat@initech.com', events: 3, channel: 'Email', source: 'newsletter', campaign: 'june' },
  ];
  for (const c of cases) {
    it(`${c.email}: one contact, anonymous history merged, first touch ${c.channel}`, async () => {
      const { contacts } = await t.read<{ contacts: ContactView[] }>(`/api/contacts?email=${c.email}`);
      expect(contacts).toHaveLength(1);
      expect(contacts[0]!.firstTouch).toMatchObject({ channel: c.channel, source: c.source, campaign: c.campaign });
      const detail = await t.read<ContactDetail>(`/api/contacts/${contacts[0]!.id}`);
      expect(detail.events).toHaveLength(c.events);
      expect(detail.events.some((e) => e.type === 'page')).toBe(true);
    });
  }

  it('counts one new visitor and one new contact per person in the rollups', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const report = await t.read<{ totals: Array<{ key: string; newVisitors: number; newContacts: number }> }>(
      `/api/reports/traffic?from=${today}&to=${today}&by=channel`,
    );
    const by = Object.fromEntries(report.totals.map((r) => [r.key, r]));
    for (const c of cases) expect(by[c.channel]).toMatchObject({ newVisitors: 1, newContacts: 1 });
  });
});
