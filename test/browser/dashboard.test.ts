/// <reference lib="dom" />
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchChromium } from '../support/browser.js';
import { DATA, requireShared } from '../support/captures.js';
import { type RunningServer, startServer } from '../support/crash-harness.js';
import { kerma, ROOT } from '../support/run-kerma.js';
import { XEDUCATION_LEAKY } from '../support/xeducation-split.js';

/**
 * The dashboard in Chromium on `kerma demo` data: every page loads without a console error, Home shows the API's
 * numbers, a lead's explanation opens, and what came from events is shown as text, never run.
 */
describe('dashboard in Chromium (kerma demo data)', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let secretKey: string;
  let writeKey: string;
  const errors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kerma-dashboard-'));
    const db = join(dir, 'kerma.db');
    const demo = kerma(['demo', '--db', db, '--days', '60', '--visitors-per-day', '120']);
    expect(demo.code, demo.stderr).toBe(0);
    secretKey = /secret key: (sk_\S+)/.exec(demo.stdout)![1]!;
    writeKey = /write key: {2}(wk_\S+)/.exec(demo.stdout)![1]!;
    server = await startServer(['--db', db], { KERMA_COMMIT_DELAY_MS: '0' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  });
  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const r = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${secretKey}`, ...init.headers },
    });
    return (await r.json()) as T;
  };

  it('serves the dashboard with security headers and asks for the secret key, which never lands in the URL', async () => {
    const r = await fetch(`${server.url}/`);
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('set-cookie')).toBeNull();
    await page.goto(server.url);
    await page.getByLabel('Secret key').fill(writeKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/write key/);
    // The browser logs that deliberate 403; every error after this one counts.
    errors.length = 0;
    await page.getByLabel('Secret key').fill(secretKey);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-metric=traffic] .value');
    expect(page.url()).not.toContain(secretKey);
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('Home shows the same Traffic, Contacts and Leads as the API, with the daily chart', async () => {
    const headline = await api<Record<'traffic' | 'contacts' | 'leads', { current: number; previous: number }>>(
      '/api/reports/headline?days=30',
    );
    for (const metric of ['traffic', 'contacts', 'leads'] as const) {
      const shown = await page.locator(`[data-metric=${metric}] .value`).textContent();
      expect(Number(shown!.replace(/,/g, '')), metric).toBe(headline[metric].current);
      expect(await page.locator(`[data-metric=${metric}] .change`).textContent()).toContain(
        `(${headline[metric].previous.toLocaleString('en')})`,
      );
    }
    expect(headline.traffic.current).toBeGreaterThan(0);
    await page.waitForSelector('.chart canvas');
    await shot(page, 'home');
    copyFileSync(join(ARTIFACTS, 'dashboard-home.png'), join(ARTIFACTS, 'home.png'));
  });

  it('Funnel shows stages by channel, spend KPIs and findings', async () => {
    await page.getByRole('link', { name: 'Funnel' }).click();
    await page.waitForSelector('#funnel-table');
    const funnel = await api<{ rows: Array<{ key: string; contacts: number }> }>(
      `/api/reports/funnel?by=channel&from=${day(-89)}&to=${day(0)}`,
    );
    const first = page.locator('#funnel-table tbody tr').first();
    expect(await first.locator('td').nth(0).textContent()).toBe(funnel.rows[0]!.key);
    expect(Number(await first.locator('td').nth(1).textContent())).toBe(funnel.rows[0]!.contacts);
    await page.waitForSelector('#kpi-table');
    await page.selectOption('#funnel-by', 'campaign');
    await page.waitForFunction(() => location.hash.includes('by=campaign'));
    await page.waitForSelector('#funnel-table');
    await shot(page, 'funnel');
  });

  it('Leads sorts and filters; a lead opens with its score explanation; accept moves it to SQL', async () => {
    await page.getByRole('link', { name: 'Leads' }).click();
    await page.waitForSelector('#leads-table');
    const scores = await page.locator('#leads-table tbody td:nth-child(2)').allTextContents();
    expect(scores.length).toBeGreaterThan(10);
    expect(scores.map(Number)).toEqual([...scores.map(Number)].sort((a, b) => b - a));
    await page.selectOption('#lead-stage', 'mql');
    await page.waitForFunction(() => location.hash.includes('stage=mql'));
    await page.waitForSelector('#leads-table');
    const stages = await page.locator('#leads-table tbody td:nth-child(5)').allTextContents();
    expect(new Set(stages)).toEqual(new Set(['mql']));
    await shot(page, 'leads');
    await page.locator('#leads-table tbody a').first().click();
    await page.waitForSelector('#score-explanation');
    expect(await page.locator('#score-explanation tbody tr').count()).toBeGreaterThan(0);
    await shot(page, 'lead');
    const id = decodeURIComponent(page.url().split('#/leads/')[1]!);
    await page.getByRole('button', { name: 'Accept (to SQL)' }).click();
    await expect.poll(async () => (await api<{ stage: string }>(`/api/contacts/${id}`)).stage).toBe('sql');
  });

  it('an event property holding markup is shown as text, never run', async () => {
    const xss = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const sent = await fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
      body: JSON.stringify({
        batch: [
          { type: 'identify', userId: 'xss-1', traits: { email: 'xss@example.com', company: xss }, messageId: 'xss-a' },
          { type: 'track', userId: 'xss-1', event: 'Clicked', properties: { label: xss }, messageId: 'xss-b' },
        ],
      }),
    });
    expect(sent.status).toBe(200);
    const { contacts } = await api<{ contacts: Array<{ id: string }> }>('/api/contacts?email=xss@example.com');
    await page.goto(`${server.url}/#/leads/${contacts[0]!.id}`);
    await page.waitForSelector('#events-table');
    expect(await page.locator('#events-table').textContent()).toContain('<script>window.__xss=2</script>');
    expect(await page.locator('pre.json').textContent()).toContain('onerror=');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('main img, main script').count()).toBe(0);
  });

  it('Model shows the active rules and says why a backtest cannot run on too few outcomes', async () => {
    await page.getByRole('link', { name: 'Model' }).click();
    await page.waitForSelector('#rules-table');
    expect(await page.locator('#rules-table').textContent()).toContain('pricing-page');
    expect(errors, errors.join('\n')).toEqual([]);
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await expect.poll(() => page.locator('#backtest-result').textContent()).toMatch(/needs at least 20 contacts/);
    // The API refused that backtest with a 400, which the browser logs; the page said why. Errors after it count.
    errors.length = 0;
    await shot(page, 'model');
  });

  it('Settings lists the keys and fills the tracker snippet with a new write key', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.waitForSelector('#snippet');
    expect(await page.locator('#snippet').inputValue()).toContain(`${server.url}/kerma.js`);
    await page.getByRole('button', { name: 'Create a write key for the snippet' }).click();
    await expect.poll(() => page.locator('#snippet').inputValue()).toMatch(/data-write-key="wk_/);
    await shot(page, 'settings');
  });

  it('works at phone width, by keyboard, with no console error on any page', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/#/home`);
    await page.waitForSelector('[data-metric=leads] .value');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'home-phone');
    // Tab from the top reaches the skip link, then the navigation.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-metric], #funnel-table, h1');
    expect(errors, errors.join('\n')).toEqual([]);
  });
});

function shot(page: Page, name: string) {
  return page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
}

function day(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

/** The lead view's prediction and the Model page's backtest charts need outcomes: the X Education leads have them. */
describe('dashboard in Chromium (X Education leads with a fit model and a predictive model)', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kerma-dashboard-xe-'));
    const db = ['--db', join(dir, 'kerma.db')];
    const ws = JSON.parse(kerma(['workspace', 'create', 'X Education', '--json', ...db]).stdout) as {
      secretKey: string;
    };
    const leads = requireShared(join(DATA, 'xeducation', 'leads.csv'));
    expect(kerma(['import', 'contacts', leads, '--id', 'Prospect ID', ...db]).code).toBe(0);
    expect(kerma(['model', 'apply', join(ROOT, 'examples', 'xeducation', 'fit-model.yaml'), ...db]).code).toBe(0);
    const trained = kerma(['train', '--outcome', 'column:Converted', '--exclude', XEDUCATION_LEAKY.join(','), ...db]);
    expect(trained.code, trained.stderr).toBe(0);
    server = await startServer(db);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    await page.goto(server.url);
    await page.getByLabel('Secret key').fill(ws.secretKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('[data-metric=traffic] .value');
  });
  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists leads by probability; a lead shows the factors that raise and lower it', async () => {
    await page.goto(`${server.url}/#/leads?sort=probability`);
    await page.waitForSelector('#leads-table');
    const shown = await page.locator('#leads-table tbody td:nth-child(4)').allTextContents();
    const values = shown.map((t) => Number.parseFloat(t));
    expect(values.length).toBe(100);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    await page.locator('#leads-table tbody a').first().click();
    await page.waitForSelector('#prediction-factors');
    const factors = await page.locator('#prediction-factors li').allTextContents();
    expect(factors.length).toBeGreaterThan(2);
    expect(factors.join('\n')).toMatch(/lead_origin|total_time_spent_on_website|lead_profile/);
    expect(factors.join('\n')).not.toMatch(/^ ?(tags|lead_quality|last_activity|last_notable_activity) =/m);
    expect(await page.locator('main').textContent()).toMatch(/chance of column:Converted \(predictive model 1, gbdt\)/);
    await shot(page, 'lead-prediction');
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('backtests the active rules against a trait outcome and draws lift and precision/recall', async () => {
    await page.getByRole('link', { name: 'Model' }).click();
    await page.waitForSelector('#rules-table');
    await page.getByLabel('Outcome').fill('trait:converted');
    await page.getByLabel('Score taken').selectOption('now');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await page.waitForSelector('#recommendation li');
    expect(await page.locator('#backtest-result').textContent()).toMatch(/ROC AUC 0\.85[12]/);
    expect(await page.locator('#recommendation').textContent()).toMatch(/For the target precision: threshold -?\d+/);
    expect(await page.locator('#backtest-result canvas').count()).toBe(2);
    expect(await page.locator('main').textContent()).toMatch(/Version 1 \(gbdt\) predicts column:Converted/);
    await shot(page, 'model-backtest');
    expect(errors, errors.join('\n')).toEqual([]);
  });
});
