import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunnelRow } from '../../src/reports/funnel-math.js';
import { seededRandom } from '../../src/seeded-random.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const DAY = 86_400_000;
const SOURCES = [
  '?utm_source=google&utm_medium=cpc&utm_campaign=brand',
  '?utm_source=google&utm_medium=cpc&utm_campaign=generic',
  '?utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm',
  '?utm_source=newsletter&utm_medium=email&utm_campaign=march',
  '',
];
const LANDINGS = ['/', '/pricing', '/blog/a'];
const STAGES = ['mql', 'sql', 'meeting', 'won', 'lost'] as const;

interface Person {
  id: string;
  createdAt: number;
  first: Record<string, string | null>;
  last: Record<string, string | null>;
  reached: Partial<Record<(typeof STAGES)[number], number>>;
  value: number | null;
  rejections: string[];
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The funnel computed here from each contact's own record, to hold the report against. */
function expectedRows(people: Person[], keyOf: (p: Person) => string | null) {
  const groups = new Map<string, Person[]>();
  for (const p of people) {
    const key = keyOf(p) ?? '(none)';
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const row = (key: string, group: Person[]) => {
    const has = (s: (typeof STAGES)[number]) => group.filter((p) => p.reached[s] !== undefined).length;
    const days = (from: (p: Person) => number | undefined, to: (p: Person) => number | undefined) =>
      median(
        group.flatMap((p) => {
          const a = from(p);
          const b = to(p);
          return a !== undefined && b !== undefined ? [(b - a) / DAY] : [];
        }),
      );
    return {
      key,
      contacts: group.length,
      ...Object.fromEntries(STAGES.map((s) => [s, has(s)])),
      revenue: group.reduce((sum, p) => sum + (p.reached.won !== undefined ? (p.value ?? 0) : 0), 0),
      medianCycleDays: days(
        (p) => p.reached.mql,
        (p) => p.reached.won,
      ),
      medianDays: {
        contactToMql: days(
          (p) => p.createdAt,
          (p) => p.reached.mql,
        ),
        mqlToSql: days(
          (p) => p.reached.mql,
          (p) => p.reached.sql,
        ),
        sqlToMeeting: days(
          (p) => p.reached.sql,
          (p) => p.reached.meeting,
        ),
        meetingToWon: days(
          (p) => p.reached.meeting,
          (p) => p.reached.won,
        ),
      },
      rejections: group.reduce((n, p) => n + p.rejections.length, 0),
    };
  };
  return {
    rows: [...groups].map(([key, group]) => row(key, group)).sort((a, b) => a.key.localeCompare(b.key)),
    total: row('all', people),
  };
}

const shape = (r: FunnelRow) => ({
  key: r.key,
  contacts: r.contacts,
  ...Object.fromEntries(STAGES.map((s) => [s, r[s]])),
  revenue: r.revenue,
  medianCycleDays: r.medianCycleDays,
  medianDays: r.medianDays,
  rejections: r.rejections.total,
});

// A seeded workspace of 120 people over 60 days (channels, campaigns, landing pages, a later visit by another
// channel, stages with skipped ones, deal values corrected, sales rejections), and the funnel report held against
// the same numbers computed here from the contacts' own records, for every dimension, both touches, two ranges.
describe(`Funnel report against an independent computation (${testEngine})`, () => {
  let t: TestApp;
  let people: Person[] = [];
  const start = Date.UTC(2026, 2, 1);

  beforeAll(async () => {
    t = await createTestApp();
    const r = seededRandom(5);
    const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!;
    const batch: object[] = [];
    const updates: object[] = [];
    let seq = 0;
    for (let i = 0; i < 120; i++) {
      const at = start + Math.floor(r() * 60 * DAY);
      const page = (query: string, path: string, when: number) => ({
        type: 'page',
        messageId: `f-${++seq}`,
        anonymousId: `anon-${i}`,
        timestamp: new Date(when).toISOString(),
        context: { page: { url: `https://example.com${path}${query}`, path } },
      });
      batch.push(page(pick(SOURCES), pick(LANDINGS), at));
      batch.push({
        type: 'identify',
        messageId: `f-${++seq}`,
        anonymousId: `anon-${i}`,
        userId: `p${i}`,
        traits: { email: `p${i}@example.com` },
        timestamp: new Date(at + 60_000).toISOString(),
      });
      // A third come back later through another source: their last touch differs from the first.
      if (r() < 0.35) batch.push(page(pick(SOURCES), pick(LANDINGS), at + 3 * DAY));
      let when = at + Math.floor(r() * 5 * DAY);
      const stage = (name: string, extra: object = {}) =>
        updates.push({ crmId: `p${i}`, stage: name, at: new Date(when).toISOString(), ...extra });
      if (r() < 0.6) {
        stage('mql');
        when += Math.floor(DAY + r() * 6 * DAY);
        if (r() < 0.5) {
          stage('sql');
          when += Math.floor(DAY + r() * 6 * DAY);
          if (r() < 0.6) stage('meeting');
          when += Math.floor(DAY + r() * 20 * DAY);
          const outcome = r();
          if (outcome < 0.4) {
            stage('won', { value: 100 * Math.floor(1 + r() * 50) });
            // The CRM corrects the amount a day later.
            if (r() < 0.3) {
              when += DAY;
              stage('won', { value: 777 });
            }
          } else if (outcome < 0.7) stage('lost');
        }
      } else if (r() < 0.1) {
        // Straight to won: MQL, SQL and meeting are recorded as skipped.
        when += Math.floor(10 * DAY);
        stage('won', { value: 2500 });
      }
    }
    for (let i = 0; i < batch.length; i += 100) {
      const res = await t.sendBatch(batch.slice(i, i + 100));
      expect(res.statusCode, res.body).toBe(200);
    }
    const crm = await t.api('POST', '/api/crm/stages', { updates });
    expect(crm.json()).toMatchObject({ failed: 0 });
    // Sales rejects some of the MQLs still at MQL.
    const { contacts } = await t.read<{ contacts: Array<{ id: string; stage: string }> }>(
      '/api/contacts?limit=500&stage=mql',
    );
    for (const c of contacts.slice(0, 6)) {
      const res = await t.api('POST', `/api/contacts/${c.id}/reject`, {
        reason: c.id < 'm' ? 'no_budget' : 'competitor',
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    // Each contact's own record: its row, its stage history, its rejections.
    const db = t.runtime.storage.db;
    const rows = await db.selectFrom('contacts').selectAll().where('workspace_id', '=', t.workspaceId).execute();
    const history = await db
      .selectFrom('stage_changes')
      .selectAll()
      .where('workspace_id', '=', t.workspaceId)
      .orderBy('at')
      .orderBy('seq')
      .execute();
    const rejected = await db
      .selectFrom('sales_rejections')
      .selectAll()
      .where('workspace_id', '=', t.workspaceId)
      .execute();
    people = rows.map((c) => {
      const mine = history.filter((h) => h.contact_id === c.id);
      const reached: Person['reached'] = {};
      for (const h of mine) {
        const s = h.to_stage as (typeof STAGES)[number];
        if (STAGES.includes(s) && reached[s] === undefined) reached[s] = Number(h.at);
      }
      const valued = mine.filter((h) => h.to_stage === 'won' && h.value !== null);
      const last = JSON.parse(c.last_touch ?? '{}') as Record<string, string | null>;
      return {
        id: c.id,
        createdAt: Number(c.created_at),
        first: {
          channel: c.first_channel,
          source: c.first_source,
          medium: c.first_medium,
          campaign: c.first_campaign,
          landingPage: c.first_landing_page,
        },
        last,
        reached,
        value: valued.length ? Number(valued[valued.length - 1]!.value) : null,
        rejections: rejected.filter((x) => x.contact_id === c.id).map((x) => x.reason),
      };
    });
    expect(people).toHaveLength(120);
    // The data holds what the report must get right: wins, losses, skipped stages, later touches, missing keys.
    expect(people.filter((p) => p.reached.won !== undefined).length).toBeGreaterThanOrEqual(8);
    expect(people.filter((p) => p.reached.lost !== undefined).length).toBeGreaterThanOrEqual(5);
    expect(people.filter((p) => p.first.campaign !== p.last.campaign).length).toBeGreaterThanOrEqual(10);
    expect(people.filter((p) => p.first.campaign === null).length).toBeGreaterThanOrEqual(10);
    expect(people.filter((p) => p.rejections.length > 0)).toHaveLength(Math.min(6, contacts.length));
  });
  afterAll(async () => t.close());

  for (const touch of ['first', 'last'] as const) {
    for (const by of ['channel', 'source', 'medium', 'campaign', 'landingPage'] as const) {
      it(`by ${by} on the ${touch} touch, over the whole range and over two weeks`, async () => {
        for (const [from, to] of [
          ['2026-03-01', '2026-04-30'],
          ['2026-03-10', '2026-03-23'],
        ] as const) {
          const report = await t.read<{ rows: FunnelRow[]; total: FunnelRow }>(
            `/api/reports/funnel?from=${from}&to=${to}&by=${by}&touch=${touch}`,
          );
          const cohort = people.filter(
            (p) => p.createdAt >= Date.parse(`${from}T00:00:00Z`) && p.createdAt < Date.parse(`${to}T00:00:00Z`) + DAY,
          );
          const expected = expectedRows(cohort, (p) => (touch === 'first' ? p.first[by] : p.last[by]) ?? null);
          const got = report.rows.map(shape).sort((a, b) => a.key.localeCompare(b.key));
          const close = (rows: ReturnType<typeof shape>[]) =>
            rows.map((x) => ({
              ...x,
              medianCycleDays: x.medianCycleDays === null ? null : Number(x.medianCycleDays.toFixed(9)),
              medianDays: Object.fromEntries(
                Object.entries(x.medianDays).map(([k, v]) => [k, v === null ? null : Number(v.toFixed(9))]),
              ),
            }));
          expect(close(got)).toEqual(close(expected.rows));
          expect(close([shape(report.total)])).toEqual(close([expected.total]));
        }
      });
    }
  }
});
