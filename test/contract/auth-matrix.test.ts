import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addWebhookEndpoint } from '../../src/automation/webhook-endpoints.js';
import { APP_ROUTES, type AppRoute } from '../../src/server/create-app.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

// CORS preflight answers any path without a key (browsers send no credentials with it).
const PUBLIC = new Set([
  'GET /',
  'GET /assets/:file',
  'GET /kerma.js',
  'GET /healthz',
  'GET /metrics',
  'GET /openapi.json',
  'OPTIONS /*',
]);

/**
 * Every route × {no key, wrong key, write key, another workspace's secret key, own secret key}: the API answers 401
 * without a valid key, 403 to a write key, never shows one workspace's data to another's key, and never fails with a
 * 5xx whatever the (empty) input.
 */
describe(`auth matrix over every route (${testEngine})`, () => {
  let t: TestApp;
  let other: { secretKey: string };
  let routes: AppRoute[];
  let contactId: string;
  let deliveryId: string;

  beforeAll(async () => {
    t = await createTestApp();
    const created = await t.runtime.workspaces.create('Other', { timeZone: 'UTC' });
    other = { secretKey: created.secretKey };
    routes = APP_ROUTES.get(t.app)!;
    await t.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString('base64')}` },
      payload: JSON.stringify({
        batch: [
          { type: 'identify', userId: 'matrix-1', traits: { email: 'secret-person@example.com' }, messageId: 'mx-1' },
        ],
      }),
    });
    contactId = (await t.read<{ contacts: Array<{ id: string }> }>('/api/contacts')).contacts[0]!.id;
    await addWebhookEndpoint(t.runtime.storage.db, t.workspaceId, 'sales', 'http://127.0.0.1:9/none', false);
    const db = t.runtime.storage.db;
    deliveryId = 'ob_matrix.0';
    await db
      .insertInto('deliveries')
      .values({
        workspace_id: t.workspaceId,
        id: deliveryId,
        outbox_id: 'ob_matrix',
        channel: 'webhook',
        target: 'sales',
        contact_id: contactId,
        payload: JSON.stringify({ type: 'trigger.fired', data: { trigger: 'x', email: 'secret-person@example.com' } }),
        status: 'failed',
        attempts: 1,
        next_at: 0,
        lease_until: null,
        claimed_by: null,
        last_error: 'test',
        created_at: Date.now(),
        delivered_at: null,
      })
      .execute();
  });
  afterAll(async () => t.close());

  const call = (route: AppRoute, authorization: string | null) => {
    const url = route.url
      .replace(':id', route.url.startsWith('/api/deliveries') ? deliveryId : contactId)
      .replace(':name', 'sales');
    return t.app.inject({
      method: route.method as 'GET',
      url,
      headers: authorization ? { authorization } : {},
      ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{}' }),
    });
  };

  it('covers every route the app has', () => {
    const api = routes.filter((r) => r.url.startsWith('/api/'));
    expect(api.length).toBeGreaterThanOrEqual(25);
    // Everything else is public or ingest (tested below).
    const others = routes.filter((r) => !r.url.startsWith('/api/') && !PUBLIC.has(`${r.method} ${r.url}`));
    expect(
      others.filter((r) => !(r.method === 'POST' && /^\/(v1|beacon|batch|capture|e|i\/v0)\b/.test(r.url))),
    ).toEqual([]);
  });

  it('API routes: 401 without a valid key, 403 for a write key, nothing of this workspace for another, no 5xx', async () => {
    const api = routes.filter((r) => r.url.startsWith('/api/'));
    const failures: string[] = [];
    for (const route of api) {
      const name = `${route.method} ${route.url}`;
      const none = await call(route, null);
      if (none.statusCode !== 401) failures.push(`${name} without a key: ${none.statusCode}`);
      const wrong = await call(route, 'Bearer sk_not_a_key');
      if (wrong.statusCode !== 401) failures.push(`${name} with a wrong key: ${wrong.statusCode}`);
      const write = await call(route, `Bearer ${t.writeKey}`);
      if (write.statusCode !== 403) failures.push(`${name} with the write key: ${write.statusCode}`);
      const foreign = await call(route, `Bearer ${other.secretKey}`);
      if (foreign.statusCode >= 500) failures.push(`${name} with another workspace's key: ${foreign.statusCode}`);
      // (A 404 may repeat the id that was asked for; data is what must not show.)
      if (/secret-person|matrix-1/.test(foreign.body) || (foreign.statusCode < 300 && foreign.body.includes(contactId)))
        failures.push(`${name} showed this workspace's data to another workspace's key`);
      if (route.url.includes(':') && foreign.statusCode !== 404 && route.method !== 'POST' && route.method !== 'PUT')
        failures.push(`${name} with another workspace's key: ${foreign.statusCode}, expected 404`);
      const own = await call(route, `Bearer ${t.secretKey}`);
      if (own.statusCode >= 500 || own.statusCode === 401 || own.statusCode === 403)
        failures.push(`${name} with its own secret key: ${own.statusCode} ${own.body.slice(0, 120)}`);
    }
    expect(failures).toEqual([]);
  });

  it('ingest routes: 401 without a valid key; the write key is accepted', async () => {
    const ingest = routes.filter((r) => r.method === 'POST' && !r.url.startsWith('/api/'));
    const failures: string[] = [];
    for (const route of ingest) {
      const body = JSON.stringify({ batch: [{ type: 'track', event: 'X', userId: 'u', messageId: `i-${route.url}` }] });
      const none = await t.app.inject({ method: 'POST', url: route.url, payload: body });
      if (none.statusCode !== 401) failures.push(`${route.url} without a key: ${none.statusCode}`);
      const wrong = await t.app.inject({ method: 'POST', url: `${route.url}?writeKey=wk_wrong`, payload: body });
      if (wrong.statusCode !== 401) failures.push(`${route.url} with a wrong key: ${wrong.statusCode}`);
      const ok = await t.app.inject({ method: 'POST', url: `${route.url}?writeKey=${t.writeKey}`, payload: body });
      if (ok.statusCode >= 500 || ok.statusCode === 401 || ok.statusCode === 403)
        failures.push(`${route.url} with the write key: ${ok.statusCode}`);
    }
    expect(failures).toEqual([]);
  });
});
