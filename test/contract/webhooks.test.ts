import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../src/automation/delivery-worker.js';
import { addWebhookEndpoint, setWebhookEnabled } from '../../src/automation/webhook-endpoints.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const MODEL = `name: hooks
engagement:
  - id: demo
    when: { event: Demo Requested }
    points: 60
  - id: unsubscribed
    when: { event: Unsubscribed }
    points: -40
thresholds: { mql: 50 }
triggers:
  - id: hot
    when: { score: { crosses_above: 50 } }
    then: [ { webhook: sales } ]
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`webhook deliveries (${testEngine})`, () => {
  let t: TestApp;
  let worker: DeliveryWorker;
  const receiver = new WebhookReceiver();
  let seq = 0;
  const send = async (userId: string, ...events: string[]) => {
    const batch = events.map((event) => ({ type: 'track', userId, event, messageId: `m-${++seq}` }));
    const r = await t.sendBatch(batch);
    expect(r.statusCode).toBe(200);
  };
  const deliveries = () =>
    t.runtime.storage.db.selectFrom('deliveries').selectAll().orderBy('created_at').orderBy('id').execute();
  /** Runs delivery passes until `done` holds (or fails after 15 s). */
  const deliverUntil = async (done: () => Promise<boolean> | boolean) => {
    const until = Date.now() + 15_000;
    for (;;) {
      await worker.runOnce();
      if (await done()) return;
      if (Date.now() > until) throw new Error('deliveries did not settle');
      await sleep(50);
    }
  };

  beforeAll(async () => {
    t = await createTestApp();
    await t.applyModel(MODEL);
    await receiver.up();
    const endpoint = await addWebhookEndpoint(t.runtime.storage.db, t.workspaceId, 'sales', receiver.url, false);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    receiver.secret = endpoint.secret;
    worker = new DeliveryWorker(t.runtime.storage.db, {
      smtpUrl: null,
      emailFrom: 'kerma@example.com',
      emailSendWindow: { start: 0, end: 1440 },
      logger: pino({ level: 'silent' }),
      retrySchedule: [100, 200, 300, 300, 300, 300, 300, 300, 300, 300],
      random: () => 0.5,
    });
  });
  afterAll(async () => {
    await worker.stop();
    await receiver.down();
    await t.close();
  });

  it('a score crossing fires exactly one signed delivery; falling back and crossing again fires a second', async () => {
    await send('hot-1', 'Demo Requested');
    await send('hot-1', 'Page Viewed');
    await deliverUntil(() => receiver.received.length >= 1);
    await worker.runOnce();
    expect(receiver.received).toHaveLength(1);
    await send('hot-1', 'Unsubscribed'); // 60 − 40 = 20: below
    await send('hot-1', 'Demo Requested'); // 80: crosses again
    await deliverUntil(() => receiver.received.length >= 2);
    await worker.runOnce();
    expect(receiver.rejected).toEqual([]);
    expect(
      receiver.received.map((r) => [r.body.type, r.body.data.trigger, Math.round(r.body.data['score'] as number)]),
    ).toEqual([
      ['trigger.fired', 'hot', 60],
      ['trigger.fired', 'hot', 80],
    ]);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(2);
    expect(receiver.received[0]!.body.data['contact']).toMatchObject({ userId: 'hot-1', stage: 'mql' });
    expect((await deliveries()).map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('a receiver that is down for a while, then up, gets every delivery, each once', async () => {
    receiver.received.length = 0;
    await receiver.down();
    for (let i = 0; i < 5; i++) await send(`down-${i}`, 'Demo Requested');
    // A few passes while the receiver is down: every attempt fails and is logged.
    const until = Date.now() + 600;
    while (Date.now() < until) {
      await worker.runOnce();
      await sleep(50);
    }
    const failing = (await deliveries()).filter((d) => d.status === 'pending');
    expect(failing).toHaveLength(5);
    expect(failing.every((d) => d.attempts >= 1 && /ECONNREFUSED/.test(d.last_error ?? ''))).toBe(true);
    await receiver.up();
    await deliverUntil(async () => (await deliveries()).every((d) => d.status === 'delivered'));
    await sleep(400);
    await worker.runOnce();
    expect(receiver.received).toHaveLength(5);
    expect(new Set(receiver.received.map((r) => r.body.data.contactId)).size).toBe(5);
    const log = await t.runtime.storage.db
      .selectFrom('delivery_attempts')
      .selectAll()
      .where('delivery_id', '=', failing[0]!.id)
      .orderBy('attempt')
      .execute();
    expect(log.length).toBeGreaterThanOrEqual(2);
    expect(log.at(-1)).toMatchObject({ status_code: 204, error: null });
    expect(log.slice(0, -1).every((a) => a.status_code === null && /ECONNREFUSED/.test(a.error ?? ''))).toBe(true);
  });

  it('honours Retry-After, and a 410 disables the endpoint so nothing more is sent', async () => {
    receiver.received.length = 0;
    let asked = 0;
    receiver.answer = () => (++asked === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 });
    await send('retry-1', 'Demo Requested');
    await deliverUntil(() => receiver.received.length === 1);
    const [first, second] = await t.runtime.storage.db
      .selectFrom('delivery_attempts')
      .innerJoin('deliveries', 'deliveries.id', 'delivery_attempts.delivery_id')
      .select(['delivery_attempts.at', 'delivery_attempts.status_code', 'deliveries.contact_id'])
      .where('deliveries.status', '=', 'delivered')
      .orderBy('delivery_attempts.at', 'desc')
      .limit(2)
      .execute()
      .then((rows) => rows.reverse());
    expect(first!.status_code).toBe(503);
    expect(second!.status_code).toBe(200);
    // The schedule says 100 ms; the receiver asked for 1 s.
    expect(Number(second!.at) - Number(first!.at)).toBeGreaterThanOrEqual(1000);

    receiver.answer = () => ({ status: 410 });
    await send('gone-1', 'Demo Requested');
    await deliverUntil(async () => (await deliveries()).every((d) => d.status !== 'pending'));
    const endpoint = await t.runtime.storage.db.selectFrom('webhook_endpoints').selectAll().executeTakeFirstOrThrow();
    expect(endpoint).toMatchObject({ enabled: 0 });
    expect(endpoint.disabled_reason).toMatch(/410 Gone/);
    receiver.answer = () => ({ status: 200 });
    const before = receiver.received.length;
    await send('gone-2', 'Demo Requested');
    await deliverUntil(async () => (await deliveries()).every((d) => d.status !== 'pending'));
    expect(receiver.received.length).toBe(before);
    const last = (await deliveries()).at(-1)!;
    expect(last).toMatchObject({ status: 'failed' });
    expect(last.last_error).toMatch(/endpoint "sales" is disabled \(the receiver answered 410 Gone/);
  });

  it('over the API: a bad URL is refused at creation; a failed delivery replays once the endpoint is enabled', async () => {
    const api = (method: 'GET' | 'POST', url: string, body?: unknown) => t.api(method, url, body);
    const bad = await api('POST', '/api/webhooks', { name: 'crm', url: 'not a url' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/"not a url" is not a URL/);
    expect((await api('POST', '/api/webhooks', { name: 'crm', url: 'gopher://x' })).statusCode).toBe(400);
    expect((await api('POST', '/api/webhooks', { name: 'sales', url: receiver.url })).statusCode).toBe(409);
    const listed = await api('GET', '/api/webhooks');
    expect(listed.json().webhooks).toMatchObject([{ name: 'sales', enabled: false }]);
    expect(JSON.stringify(listed.json())).not.toContain('whsec_');

    const failed = (await api('GET', '/api/deliveries?status=failed')).json().deliveries;
    const last = failed[0];
    expect(last).toMatchObject({ channel: 'webhook', target: 'sales', trigger: 'hot', status: 'failed' });
    const refused = await api('POST', `/api/deliveries/${last.id}/replay`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toMatch(/enable it first/);
    await setWebhookEnabled(t.runtime.storage.db, t.workspaceId, 'sales', true, null);
    const before = receiver.received.length;
    expect((await api('POST', `/api/deliveries/${last.id}/replay`)).json()).toMatchObject({ status: 'pending' });
    await deliverUntil(async () => (await deliveries()).every((d) => d.status !== 'pending'));
    expect(receiver.received.slice(before).map((r) => r.id)).toEqual([last.id]);
    const detail = (await api('GET', `/api/deliveries/${last.id}`)).json();
    expect(detail.status).toBe('delivered');
    expect(detail.log.map((a: { attempt: number; statusCode: number | null }) => [a.attempt, a.statusCode])).toEqual([
      [1, null],
      [2, 200],
    ]);
    const tested = await api('POST', '/api/webhooks/sales/test');
    expect(tested.json()).toMatchObject({ ok: true, statusCode: 200 });
    expect(receiver.received.at(-1)!.body.type).toBe('webhook.test');
    expect((await api('POST', '/api/webhooks/nope/test')).statusCode).toBe(404);
    const put = (name: string, yaml: string) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/email-templates/${name}`,
        headers: { authorization: `Bearer ${t.secretKey}` },
        payload: yaml,
      });
    expect((await put('welcome', 'subject: Hi {{contact.email}}\ntext: Hello\n')).statusCode).toBe(200);
    const badTemplate = await put('broken', 'subject: Hi\n');
    expect(badTemplate.statusCode).toBe(400);
    expect(badTemplate.json().error.message).toMatch(/^body: text: /);
    expect((await api('GET', '/api/email-templates')).json().templates).toMatchObject([
      { name: 'welcome', subject: 'Hi {{contact.email}}' },
    ]);
  });

  it('a crossing in backfilled history (over 24 h ago) is logged as skipped, not sent; a replay sends it', async () => {
    const before = receiver.received.length;
    const r = await t.sendBatch([
      {
        type: 'track',
        userId: 'backfill-1',
        event: 'Demo Requested',
        messageId: 'bf-1',
        timestamp: '2026-01-05T10:00:00Z',
      },
    ]);
    expect(r.statusCode).toBe(200);
    await worker.runOnce();
    const skipped = (await deliveries()).at(-1)!;
    expect(skipped.status).toBe('skipped');
    expect(skipped.last_error).toBe(
      'not sent: it fired for 2026-01-05T10:00:00.000Z, over 24 h ago (a backfill of old events); replay to send it anyway',
    );
    expect(receiver.received.length).toBe(before);
    const replay = await t.api('POST', `/api/deliveries/${skipped.id}/replay`);
    expect(replay.statusCode).toBe(200);
    await deliverUntil(() => receiver.received.length === before + 1);
    expect(receiver.received.at(-1)!.body.data['happenedAt']).toBe('2026-01-05T10:00:00.000Z');
  });
});
