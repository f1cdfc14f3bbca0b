import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkspace, type RunningServer, startServer } from '../support/crash-harness.js';

/** Keys travel in headers, query strings and bodies; none of them may reach the logs, even at debug level. */
describe('no key in the logs', () => {
  let dir: string;
  let server: RunningServer | null = null;
  afterAll(() => {
    server?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('debug logs of ingest, reads, failures and refusals hold no write, secret or wrong key', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kerma-logs-'));
    const db = ['--db', join(dir, 'kerma.db')];
    const ws = await createWorkspace(db);
    server = await startServer(db, { KERMA_LOG_LEVEL: 'debug', KERMA_DELIVERY_INTERVAL_MS: '100' });
    const url = server.url;
    const wrong = 'sk_this_key_is_wrong_but_secret_looking_1234';
    const basic = `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}`;
    const event = (id: string) => ({ type: 'track', userId: 'u-logs', event: 'Logged', messageId: id });
    const calls = [
      fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: { authorization: basic },
        body: JSON.stringify(event('l1')),
      }),
      fetch(`${url}/v1/track?writeKey=${ws.writeKey}`, { method: 'POST', body: JSON.stringify(event('l2')) }),
      fetch(`${url}/v1/b`, { method: 'POST', body: JSON.stringify({ batch: [event('l3')], writeKey: ws.writeKey }) }),
      fetch(`${url}/v1/batch`, { method: 'POST', headers: { 'x-write-key': ws.writeKey }, body: '{"batch": [' }),
      fetch(`${url}/batch/`, {
        method: 'POST',
        body: JSON.stringify({ api_key: ws.writeKey, batch: [{ event: 'x', distinct_id: 'd', properties: {} }] }),
      }),
      fetch(`${url}/api/contacts`, { headers: { authorization: `Bearer ${ws.secretKey}` } }),
      fetch(`${url}/api/contacts`, { headers: { authorization: `Bearer ${wrong}` } }),
      fetch(`${url}/api/contacts`, { headers: { authorization: `Bearer ${ws.writeKey}` } }),
      fetch(`${url}/api/contacts?cursor=${ws.secretKey}`, { headers: { authorization: `Bearer ${ws.secretKey}` } }),
      fetch(`${url}/v1/track?writeKey=${wrong}`, { method: 'POST', body: JSON.stringify(event('l4')) }),
      fetch(`${url}/api/webhooks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.secretKey}` },
        body: JSON.stringify({ name: 'sales', url: 'http://127.0.0.1:9/refused' }),
      }),
    ];
    const statuses = await Promise.all(calls.map(async (c) => (await c).status));
    expect(statuses).toEqual([200, 200, 200, 400, 200, 200, 401, 403, 400, 401, 201]);
    await new Promise((r) => setTimeout(r, 500));
    const logs = server.stdout() + server.stderr();
    expect(logs).toMatch(/"msg":"request"/);
    for (const key of [ws.writeKey, ws.secretKey, wrong])
      expect(logs.includes(key), `a key in the logs:\n${logs}`).toBe(false);
    // Neither the secret of a webhook endpoint.
    expect(logs).not.toMatch(/whsec_/);
  });
});
