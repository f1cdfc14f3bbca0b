/// <reference lib="dom" />
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, PERSON_USER_AGENT } from '../support/browser.js';
import { createWorkspace, type RunningServer, startServer } from '../support/crash-harness.js';

/** A small site on its own origin with Kerma's snippet: a landing page, a single-page "pricing" view and a form. */
function site(kerma: string, writeKey: string): Server {
  const page = (title: string, snippet: string, body: string) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${snippet}</head><body>${body}</body></html>`;
  const tag = (extra = '') => `<script async src="${kerma}/kerma.js" data-write-key="${writeKey}" ${extra}></script>`;
  const app = `
    <h1 id="title">Acme</h1>
    <a id="to-pricing" href="/pricing">Pricing</a>
    <form id="signup" action="/thanks" method="post">
      <input type="email" name="email" value="">
      <input name="first_name" value="">
      <input name="company" value="">
      <input type="password" name="password" value="">
      <input name="card_number" value="">
      <input name="notes" value="">
      <button id="send" type="submit">Send</button>
    </form>
    <form id="private" data-kerma-ignore action="/thanks" method="post"><input type="email" name="email"><button id="send-private">Send</button></form>
    <script>
      document.getElementById('to-pricing').addEventListener('click', (e) => {
        e.preventDefault();
        history.pushState({}, '', '/pricing');
        document.getElementById('title').textContent = 'Pricing';
        document.title = 'Pricing';
      });
    </script>`;
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (path === '/' || path === '/pricing') res.end(page('Acme', tag(), app));
    else if (path === '/thanks') res.end(page('Thanks', tag(), '<h1>Thanks</h1>'));
    else if (path === '/cookieless') res.end(page('Cookieless', tag('data-cookieless="true"'), '<h1>No storage</h1>'));
    else if (path === '/consent') res.end(page('Consent', tag('data-consent="required"'), '<h1>Consent</h1>'));
    else if (path === '/dnt') res.end(page('DNT', tag('data-respect-dnt="true"'), '<h1>DNT</h1>'));
    else {
      res.statusCode = 404;
      res.end('not found');
    }
  }).listen(0, '127.0.0.1');
}

interface Detail {
  id: string;
  email: string;
  traits: Record<string, unknown>;
  firstTouch: { source: string; medium: string; campaign: string; channel: string; landingPage: string } | null;
  events: Array<{ type: string; name: string | null; path: string | null; properties: Record<string, unknown> }>;
}

describe('browser tracker in Chromium (served at /kerma.js)', () => {
  let dir: string;
  let server: RunningServer;
  let web: Server;
  let siteUrl: string;
  let browser: Browser;
  let ws: { id: string; writeKey: string; secretKey: string };
  let db: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kerma-tracker-'));
    db = join(dir, 'kerma.db');
    ws = await createWorkspace(['--db', db]);
    server = await startServer(['--db', db], { KERMA_COMMIT_DELAY_MS: '0' });
    web = site(server.url, ws.writeKey);
    await new Promise((r) => web.once('listening', r));
    // "localhost" for the site, 127.0.0.1 for Kerma: two origins, as on a real site.
    siteUrl = `http://localhost:${(web.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    web?.close();
    server?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ws.secretKey}` } });
    return (await r.json()) as T;
  };
  const rows = <T>(sql: string, ...params: unknown[]): T[] => {
    const conn = new BetterSqlite3(db, { readonly: true });
    try {
      return conn.prepare(sql).all(...params) as T[];
    } finally {
      conn.close();
    }
  };
  const until = async <T>(read: () => Promise<T> | T, ok: (v: T) => boolean, what: string): Promise<T> => {
    for (let i = 0; i < 100; i++) {
      const v = await read();
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `timed out waiting for ${what}: ${JSON.stringify(await read()).slice(0, 3000)}\n${server.stderr()}`,
    );
  };

  it('is under 3 kB gzipped and served to any origin', async () => {
    const r = await fetch(`${server.url}/kerma.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('content-type')).toMatch(/javascript/);
    const body = Buffer.from(await r.arrayBuffer());
    expect(gzipSync(body, { level: 9 }).length).toBeLessThan(3072);
    expect(gunzipSync(gzipSync(body)).length).toBe(body.length);
  });

  it('UTM landing, a single-page navigation and a form: page views, identify, one contact with the right first touch', async () => {
    const context = await browser.newContext({ userAgent: PERSON_USER_AGENT });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const preflights: string[] = [];
    page.on('request', (req) => {
      if (req.method() === 'OPTIONS') preflights.push(req.url());
    });
    await page.goto(`${siteUrl}/?utm_source=newsletter&utm_medium=email&utm_campaign=spring-launch&gclid=abc123`);
    await page.waitForFunction(() => (window as unknown as { kerma?: unknown }).kerma !== undefined);
    await page.click('#to-pricing');
    await page.waitForURL(/\/pricing$/);
    // Back to the landing page (popstate), forward to pricing again (popstate): two more page views.
    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/');
    await page.goForward();
    await page.waitForURL(/\/pricing$/);
    await page.evaluate(() =>
      (window as unknown as { kerma: { track(n: string, p: object): void } }).kerma.track('Plan Selected', {
        plan: 'pro',
      }),
    );
    await page.fill('input[name=email]', 'Ada@Example.com');
    await page.fill('input[name=first_name]', 'Ada');
    await page.fill('input[name=company]', 'Analytical Engines');
    await page.fill('input[name=password]', 'hunter2-secret');
    await page.fill('input[name=card_number]', '4111 1111 1111 1111');
    await page.fill('input[name=notes]', '4242-4242-4242-4242');
    await Promise.all([page.waitForURL(/\/thanks/), page.click('#send')]);
    await page.waitForLoadState('load');
    const anonymousId = await page.evaluate(() => localStorage.getItem('kerma_aid'));
    expect(anonymousId).toMatch(/^[0-9a-f-]{36}$/);
    await context.close();

    const { contacts } = await until(
      () => api<{ contacts: Array<{ id: string }> }>('/api/contacts?email=ada@example.com'),
      (r) => r.contacts.length === 1,
      'the contact',
    );
    const detail = await until(
      () => api<Detail>(`/api/contacts/${contacts[0]!.id}?eventsLimit=100`),
      (d) => d.events.filter((e) => e.type === 'page').length >= 5 && d.events.some((e) => e.name === 'Form Submitted'),
      'page views and the form event',
    );
    const pages = detail.events.filter((e) => e.type === 'page').map((e) => e.path);
    expect(pages.sort()).toEqual(['/', '/', '/pricing', '/pricing', '/thanks']);
    expect(detail.events.find((e) => e.name === 'Plan Selected')?.properties).toEqual({ plan: 'pro' });
    expect(detail.firstTouch).toMatchObject({
      source: 'newsletter',
      medium: 'email',
      campaign: 'spring-launch',
      channel: 'Email',
      landingPage: '/',
      clickIds: { gclid: 'abc123' },
    });
    expect(detail.traits).toMatchObject({ email: 'Ada@Example.com', first_name: 'Ada', company: 'Analytical Engines' });
    const stored = JSON.stringify(rows('SELECT properties, traits, context FROM events'));
    expect(stored).not.toContain('hunter2');
    expect(stored).not.toMatch(/4111|4242/);
    expect(detail.traits).not.toHaveProperty('password');
    const identities = rows<{ kind: string; value: string }>(
      'SELECT kind, value FROM identities WHERE contact_id = ?',
      detail.id,
    );
    expect(identities).toContainEqual({ kind: 'anonymous', value: anonymousId });
    // The SPA view's referrer is the page it came from.
    const pricing = rows<{ referrer: string }>(
      "SELECT referrer FROM events WHERE path = '/pricing' ORDER BY timestamp",
    );
    expect(pricing[0]?.referrer).toMatch(/\/\?utm_source=newsletter/);
    expect(preflights).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a form marked data-kerma-ignore identifies nobody', async () => {
    const page = await browser.newPage({ userAgent: PERSON_USER_AGENT });
    await page.goto(`${siteUrl}/`);
    await page.fill('#private input[name=email]', 'hidden@example.com');
    await Promise.all([page.waitForURL(/\/thanks/), page.click('#send-private')]);
    await page.waitForLoadState('load');
    await page.close();
    await new Promise((r) => setTimeout(r, 1500));
    const { contacts } = await api<{ contacts: unknown[] }>('/api/contacts?email=hidden@example.com');
    expect(contacts).toEqual([]);
  });

  it('cookieless mode stores nothing in the browser; the server derives a daily visitor hash', async () => {
    const context = await browser.newContext({ userAgent: PERSON_USER_AGENT });
    const page = await context.newPage();
    await page.goto(`${siteUrl}/cookieless?utm_source=partner`);
    await page.goto(`${siteUrl}/cookieless?again=1`);
    const storage = await page.evaluate(() => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
    }));
    expect(storage).toEqual({ local: 0, session: 0, cookie: '' });
    expect(await context.cookies()).toEqual([]);
    await context.close();
    const events = await until(
      () =>
        rows<{ anonymous_id: string; ip: string | null }>(
          "SELECT anonymous_id, ip FROM events WHERE path = '/cookieless'",
        ),
      (r) => r.length === 2,
      'two cookieless page views',
    );
    expect(events[0]!.anonymous_id).toMatch(/^ck_[\w-]{22}$/);
    // The same browser on the same day is the same visitor: one visitor, one session.
    expect(events[1]!.anonymous_id).toBe(events[0]!.anonymous_id);
    expect(rows('SELECT * FROM visitors WHERE anonymous_id = ?', events[0]!.anonymous_id)).toHaveLength(1);
    expect(rows('SELECT day FROM visitor_salts')).toHaveLength(1);
  });

  it('consent mode sends and stores nothing until consent is given, then sends what was held', async () => {
    const context = await browser.newContext({ userAgent: PERSON_USER_AGENT });
    const page = await context.newPage();
    await page.goto(`${siteUrl}/consent?utm_source=consent-test`);
    await page.waitForFunction(() => (window as unknown as { kerma?: unknown }).kerma !== undefined);
    await new Promise((r) => setTimeout(r, 1200));
    expect(rows("SELECT 1 FROM events WHERE path = '/consent'")).toEqual([]);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.evaluate(() => (window as unknown as { kerma: { consent(g: boolean): void } }).kerma.consent(true));
    await until(
      () => rows("SELECT 1 FROM events WHERE path = '/consent'"),
      (r) => r.length === 1,
      'the held page view',
    );
    expect(await page.evaluate(() => localStorage.getItem('kerma_consent'))).toBe('1');
    await page.evaluate(() =>
      (window as unknown as { kerma: { identify(id: string, t: object): void } }).kerma.identify('user-42', {
        email: 'grace@example.com',
        plan: 'pro',
      }),
    );
    const { contacts } = await until(
      () => api<{ contacts: Array<{ userId: string; traits: object }> }>('/api/contacts?email=grace@example.com'),
      (r) => r.contacts.length === 1,
      'the identified contact',
    );
    expect(contacts[0]).toMatchObject({ userId: 'user-42', traits: { plan: 'pro' } });
    await context.close();
  });

  it('Do-Not-Track is honoured when the snippet asks for it', async () => {
    const context = await browser.newContext({ userAgent: PERSON_USER_AGENT });
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' }));
    const page = await context.newPage();
    await page.goto(`${siteUrl}/dnt`);
    await page.waitForFunction(() => (window as unknown as { kerma?: unknown }).kerma !== undefined);
    await page.evaluate(() =>
      (window as unknown as { kerma: { track(n: string): void } }).kerma.track('Should Not Arrive'),
    );
    await new Promise((r) => setTimeout(r, 1500));
    await context.close();
    expect(rows("SELECT 1 FROM events WHERE path = '/dnt' OR name = 'Should Not Arrive'")).toEqual([]);
  });
});
