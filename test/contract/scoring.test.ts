import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactDetail, ContactView } from '../../src/contacts/contact-wire.js';
import { scoredContacts } from '../../src/contacts/scored-contacts.js';
import { type ApplyModelRequest, applyModel } from '../../src/models/apply-model.js';
import type { ContactScoreView } from '../../src/models/contact-score.js';
import { digestInserts } from '../../src/models/insert-digest-rows.js';
import { loadContactHistories, pageRanges } from '../../src/models/load-contact-histories.js';
import { refreshDecayedScores } from '../../src/models/refresh-decayed-scores.js';
import { rescoreRows } from '../../src/models/rescore-rows.js';
import { eraseContact } from '../../src/privacy/erase-contact.js';
import { decodeChangeLog } from '../../src/scoring/change-log-codec.js';
import { encodeEventDigest } from '../../src/scoring/event-digest-codec.js';
import { eventFieldsRead } from '../../src/scoring/event-fields-read.js';
import { eventPrefilter } from '../../src/scoring/event-prefilter.js';
import { parseModelFile } from '../../src/scoring/parse-model-file.js';
import { decodeScoreState } from '../../src/scoring/score-state-codec.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const DAY = 86_400_000;
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
let seq = 0;
/** A stored or computed change log as hex, so rows from either driver compare as values. */
const hex = (log: Uint8Array | null | undefined) => (log ? Buffer.from(log).toString('hex') : null);
const mid = () => `s-${++seq}-${Math.random().toString(36).slice(2)}`;

const MODEL = (factor: number) => `name: contract-${factor}
half_life_days: 10
fit:
  - id: senior
    when: { trait: title, matches: "(?i)\\\\b(cto|ceo)\\\\b" }
    points: ${20 * factor}
  - id: software
    when: { trait: industry, equals: software }
    points: ${10 * factor}
engagement:
  - id: pricing
    when: { event: page, path: { prefix: /pricing } }
    points: ${15 * factor}
    limit: { per: day, times: 1 }
  - id: demo
    when: { event: Demo Requested }
    points: ${30 * factor}
thresholds: { mql: 50, unqualified: 5 }
triggers:
  - id: hot
    when: { score: { crosses_above: 50 } }
    then: [ { webhook: sales } ]
`;

function compiled(text: string) {
  const parsed = parseModelFile(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.model;
}

describe(`scoring models on stored history (${testEngine})`, () => {
  let t: TestApp;
  const send = (batch: object[]) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: `Basic ${Buffer.from(`${t.writeKey}:`).toString('base64')}` },
      payload: JSON.stringify({ batch }),
    });
  const apply = (factor: number) =>
    applyModel(t.runtime.storage.db, {
      workspaceId: t.workspaceId,
      timeZone: 'UTC',
      model: compiled(MODEL(factor)),
      source: MODEL(factor),
    });
  /** Applies a model file's text as of NOW; `options` adds to or overrides the request (threads, file, progress). */
  const applyText = (text: string, options: Partial<ApplyModelRequest> = {}) =>
    applyModel(t.runtime.storage.db, {
      workspaceId: t.workspaceId,
      timeZone: 'UTC',
      model: compiled(text),
      source: text,
      now: NOW,
      ...options,
    });
  const byEmail = async (email: string) =>
    (await t.read<{ contacts: ContactView[] }>(`/api/contacts?email=${encodeURIComponent(email)}`)).contacts[0]!;
  const score = (id: string, at?: number) =>
    t.read<ContactScoreView>(
      `/api/contacts/${id}/score${at === undefined ? '' : `?at=${encodeURIComponent(iso(at))}`}`,
    );

  /** A version's stored score rows, in contact order, as values that compare alike from either driver. */
  const versionRows = async (version: number) =>
    (
      await t.runtime.storage.db
        .selectFrom('contact_scores')
        .select([
          'contact_id',
          'state',
          'total',
          'fit',
          'engagement',
          'grade',
          'status',
          'next_seq',
          'packed_changes',
          'change_log',
        ])
        .where('workspace_id', '=', t.workspaceId)
        .where('model_version', '=', version)
        .orderBy('contact_id')
        .execute()
    ).map((row) => ({
      ...row,
      total: Number(row.total),
      next_seq: Number(row.next_seq),
      change_log: hex(row.change_log),
    }));

  beforeAll(async () => {
    t = await createTestApp();
    const anon = 'anon-hot';
    const pricingAt = NOW - 20 * DAY;
    const demoAt = NOW - 5 * DAY;
    const response = await send([
      {
        type: 'page',
        messageId: mid(),
        anonymousId: anon,
        properties: { url: 'https://x.test/pricing', path: '/pricing' },
        timestamp: iso(pricingAt),
      },
      {
        type: 'page',
        messageId: mid(),
        anonymousId: anon,
        properties: { url: 'https://x.test/pricing/team', path: '/pricing/team' },
        timestamp: iso(pricingAt + 1000),
      },
      {
        type: 'identify',
        messageId: mid(),
        anonymousId: anon,
        userId: 'hot',
        traits: { email: 'hot@acme.io', title: 'CTO', industry: 'Software' },
        timestamp: iso(NOW - 10 * DAY),
      },
      { type: 'track', messageId: mid(), userId: 'hot', event: 'Demo Requested', timestamp: iso(demoAt) },
      {
        type: 'identify',
        messageId: mid(),
        userId: 'cold',
        traits: { email: 'cold@acme.io', title: 'Intern' },
        timestamp: iso(NOW - 3 * DAY),
      },
      ...Array.from({ length: 60 }, (_, i) => ({
        type: 'identify',
        messageId: mid(),
        userId: `bulk-${i}`,
        traits: { email: `bulk-${i}@acme.io`, industry: i % 2 ? 'software' : 'retail' },
        timestamp: iso(NOW - 2 * DAY),
      })),
    ]);
    expect(response.statusCode).toBe(200);
  });
  afterAll(async () => t.close());

  it('answers 404 with what to do while no model is active', async () => {
    const hot = await byEmail('hot@acme.io');
    const r = await t.app.inject({
      method: 'GET',
      url: `/api/contacts/${hot.id}/score`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(r.statusCode).toBe(404);
    expect(r.json().error.message).toMatch(/no scoring model is active.*kerma model apply/);
  });

  it('rescores every contact from history on apply, counting anonymous history once identified', async () => {
    const result = await apply(1);
    expect(result).toMatchObject({ version: 1, contacts: 62, mql: 1, promotedToMql: 1 });
    const hot = await byEmail('hot@acme.io');
    const s = await score(hot.id);
    const pricing = 15 * 2 ** -((20 * DAY) / (10 * DAY));
    const demo = 30 * 2 ** -((5 * DAY) / (10 * DAY));
    expect(s.fit).toBe(30);
    expect(s.engagement).toBeCloseTo(pricing + demo, 2);
    expect(s.total).toBeCloseTo(30 + pricing + demo, 2);
    expect(s.contributions.reduce((sum, c) => sum + c.decayed, 0)).toBeCloseTo(s.total, 9);
    expect(s.contributions.map((c) => c.ruleId).sort()).toEqual(['demo', 'pricing', 'senior', 'software']);
    expect(s.contributions.find((c) => c.ruleId === 'demo')?.eventId).toBeTruthy();
    expect(s.model).toEqual({ name: 'contract-1', version: 1 });
    expect(hot.score).toBeGreaterThan(50);
    expect(hot.stage).toBe('mql');
    const detail = await t.read<ContactDetail>(`/api/contacts/${hot.id}`);
    expect(detail.stages.map((x) => [x.from, x.to, x.source])).toEqual([
      [null, 'contact', 'created'],
      ['contact', 'mql', 'score'],
    ]);
    const top = await t.read<{ contacts: ContactView[] }>('/api/contacts?sort=score&limit=1');
    expect(top.contacts[0]!.id).toBe(hot.id);
  });

  it('explains the score at a past date: before the demo request it had only fit and decayed pricing', async () => {
    const hot = await byEmail('hot@acme.io');
    const at = NOW - 6 * DAY;
    const s = await score(hot.id, at);
    expect(s.contributions.map((c) => c.ruleId).sort()).toEqual(['pricing', 'senior', 'software']);
    expect(s.total).toBeCloseTo(30 + 15 * 2 ** -(14 / 10), 6);
    expect(s.at).toBe(iso(at));
    const bad = await t.app.inject({
      method: 'GET',
      url: `/api/contacts/${hot.id}/score?at=yesterday`,
      headers: { authorization: `Bearer ${t.secretKey}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/at: expected an ISO date/);
  });

  it('switches versions atomically: every read sees all old scores or all new ones', async () => {
    const sums = new Set<number>();
    let done = false;
    const reader = (async () => {
      while (!done) {
        const page = await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500');
        sums.add(Math.round(page.contacts.reduce((sum, c) => sum + c.score, 0) * 1000) / 1000);
      }
    })();
    const before = (await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500')).contacts.reduce(
      (s, c) => s + c.score,
      0,
    );
    const result = await apply(2);
    done = true;
    await reader;
    const after = (await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500')).contacts.reduce(
      (s, c) => s + c.score,
      0,
    );
    expect(result.version).toBe(2);
    expect(after).toBeCloseTo(before * 2, 3);
    for (const sum of sums) expect([Math.round(before * 1000) / 1000, Math.round(after * 1000) / 1000]).toContain(sum);
    const hot = await byEmail('hot@acme.io');
    const detail = await t.read<ContactDetail>(`/api/contacts/${hot.id}`);
    expect(detail.stages).toHaveLength(2); // already MQL: not promoted twice
  });

  const outboxFor = (contactId: string) =>
    t.runtime.storage.db
      .selectFrom('outbox')
      .selectAll()
      .where('workspace_id', '=', t.workspaceId)
      .where('contact_id', '=', contactId)
      .execute();

  it('scores live in the ingest commit: MQL with a history row, one outbox row per crossing, duplicates change nothing', async () => {
    const cold = await byEmail('cold@acme.io');
    expect(await outboxFor(cold.id)).toHaveLength(0); // a rescore fires nothing
    const before = await score(cold.id);
    const batch = [
      {
        type: 'page',
        messageId: mid(),
        userId: 'cold',
        properties: { url: 'https://x.test/pricing', path: '/pricing' },
        timestamp: iso(NOW - 1000),
      },
      { type: 'track', messageId: mid(), userId: 'cold', event: 'Demo Requested', timestamp: iso(NOW - 500) },
    ];
    expect((await send(batch)).statusCode).toBe(200);
    const after = await score(cold.id);
    // Model version 2 doubles every rule: pricing 30, demo 60.
    expect(after.engagement - before.engagement).toBeCloseTo(90, 0);
    expect(after.contributions.filter((c) => c.ruleId === 'demo')).toHaveLength(1);
    const contact = await byEmail('cold@acme.io');
    expect(contact.score).toBeCloseTo(after.total, 0);
    expect(contact.stage).toBe('mql');
    const detail = await t.read<ContactDetail>(`/api/contacts/${cold.id}`);
    expect(detail.stages.at(-1)).toMatchObject({ from: 'contact', to: 'mql', source: 'score' });
    const fired = await outboxFor(cold.id);
    expect(fired).toHaveLength(1);
    expect(JSON.parse(fired[0]!.payload)).toMatchObject({
      trigger: 'hot',
      modelVersion: 2,
      contactId: cold.id,
      actions: [{ webhook: 'sales' }],
    });
    expect((await send(batch)).statusCode).toBe(200); // the same batch again: duplicates
    expect((await send([{ ...batch[0]!, messageId: mid(), timestamp: iso(NOW - 100) }])).statusCode).toBe(200); // still above
    expect(await outboxFor(cold.id)).toHaveLength(1);
    expect((await score(cold.id)).contributions.filter((c) => c.ruleId === 'demo')).toHaveLength(1);
  });

  it('scores anonymous history once the visitor identifies, and an out-of-order event, exactly as a rescore does', async () => {
    const anon = 'anon-late';
    expect(
      (
        await send([
          {
            type: 'page',
            messageId: mid(),
            anonymousId: anon,
            properties: { url: 'https://x.test/pricing', path: '/pricing' },
            timestamp: iso(NOW - 4 * DAY),
          },
          {
            type: 'page',
            messageId: mid(),
            anonymousId: anon,
            properties: { url: 'https://x.test/pricing', path: '/pricing' },
            timestamp: iso(NOW - 3 * DAY),
          },
        ])
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await send([
          {
            type: 'identify',
            messageId: mid(),
            anonymousId: anon,
            userId: 'late',
            traits: { email: 'late@acme.io', title: 'CEO' },
            timestamp: iso(NOW - DAY),
          },
        ])
      ).statusCode,
    ).toBe(200);
    const late = await byEmail('late@acme.io');
    const live = await score(late.id);
    expect(live.contributions.filter((c) => c.ruleId === 'pricing')).toHaveLength(2);
    // An event older than what was scored: the contact is replayed from its history.
    expect(
      (
        await send([
          { type: 'track', messageId: mid(), userId: 'late', event: 'Demo Requested', timestamp: iso(NOW - 5 * DAY) },
        ])
      ).statusCode,
    ).toBe(200);
    const liveAll = (await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500')).contacts;
    const liveScores = new Map(await Promise.all(liveAll.map(async (c) => [c.id, (await score(c.id)).total] as const)));
    expect(liveScores.get(late.id)).toBeGreaterThan(live.total);
    const rescored = await apply(2);
    expect(rescored.version).toBe(3);
    for (const c of liveAll) expect((await score(c.id)).total).toBeCloseTo(liveScores.get(c.id)!, 3);
    expect(await outboxFor(late.id)).toHaveLength(1); // crossed 50 once, when its anonymous history was attached; the demo request kept it above
  });

  it('loses no event that arrives while a model is being applied', async () => {
    let sent = 0;
    // Between the rescore's last page and the switch, events arrive for rescored contacts and a new one appears.
    const during = await applyModel(t.runtime.storage.db, {
      workspaceId: t.workspaceId,
      timeZone: 'UTC',
      model: compiled(MODEL(2)),
      source: MODEL(2),
      onProgress: async () => {
        // Contacts created here may sort after the page just written and be rescored on a later page; send once.
        if (sent > 0) return;
        for (let i = 0; i < 5; i++) {
          sent++;
          const r = await send([
            {
              type: 'page',
              messageId: mid(),
              userId: `bulk-${i}`,
              properties: { url: 'https://x.test/pricing', path: '/pricing' },
              timestamp: iso(NOW + i),
            },
            { type: 'track', messageId: mid(), userId: `bulk-${i}`, event: 'Demo Requested', timestamp: iso(NOW + i) },
            {
              type: 'identify',
              messageId: mid(),
              userId: `new-${i}`,
              traits: { email: `new-${i}@acme.io`, industry: 'software' },
              timestamp: iso(NOW + i),
            },
          ]);
          expect(r.statusCode).toBe(200);
        }
      },
    });
    expect(sent).toBe(5);
    const contacts = (await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500')).contacts;
    const scored = new Map(await Promise.all(contacts.map(async (c) => [c.id, (await score(c.id)).total] as const)));
    expect(scored.get((await byEmail('bulk-0@acme.io')).id)).toBeGreaterThan(89);
    expect(scored.get((await byEmail('new-0@acme.io')).id)).toBe(20);
    const fresh = await apply(2);
    expect(fresh.version).toBe(during.version + 1);
    for (const c of contacts) expect((await score(c.id)).total, c.email ?? c.id).toBeCloseTo(scored.get(c.id)!, 3);
  });

  it('refreshes decayed scores periodically, re-arming a trigger that then fires on the next crossing', async () => {
    const cold = await byEmail('cold@acme.io');
    expect(await outboxFor(cold.id)).toHaveLength(1);
    const later = NOW + 60 * DAY;
    const first = await refreshDecayedScores(t.runtime.storage.db, t.workspaceId, later);
    expect(first.updated).toBeGreaterThan(0);
    expect(first.firings).toBe(0);
    const again = await refreshDecayedScores(t.runtime.storage.db, t.workspaceId, later);
    expect(again.updated).toBe(0);
    const stored = await byEmail('cold@acme.io');
    expect(stored.score).toBeCloseTo((await score(cold.id, later)).total, 6);
    expect(stored.score).toBeLessThan(50);
    expect(stored.stage).toBe('mql'); // lifecycle does not fall back with the score
    expect(
      (
        await send([
          { type: 'track', messageId: mid(), userId: 'cold', event: 'Demo Requested', timestamp: iso(later) },
        ])
      ).statusCode,
    ).toBe(200);
    const fired = await outboxFor(cold.id);
    expect(fired).toHaveLength(2);
  });

  it('ranks accounts by the best three contact scores of each email domain', async () => {
    const { accounts } = await t.read<{ accounts: Array<{ account: string; score: number; contacts: number }> }>(
      '/api/accounts',
    );
    const all = (await t.read<{ contacts: ContactView[] }>('/api/contacts?limit=500')).contacts;
    const top3 = all
      .map((c) => c.score)
      .sort((a, b) => b - a)
      .slice(0, 3)
      .reduce((s, x) => s + x, 0);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ account: 'acme.io', contacts: all.length });
    expect(accounts[0]!.score).toBeCloseTo(top3, 6);
  });

  it('explains a rescored contact from its packed changes, then the live rows after them, and after a replay', async () => {
    const send1 = async (events: object[]) => expect((await send(events)).statusCode).toBe(200);
    await send1([
      { type: 'identify', messageId: mid(), userId: 'packed', traits: { email: 'packed@other.io', title: 'CEO' } },
      {
        type: 'page',
        messageId: mid(),
        userId: 'packed',
        properties: { path: '/pricing' },
        timestamp: iso(NOW - 9 * DAY),
      },
    ]);
    await apply(1);
    const id = (await byEmail('packed@other.io')).id;
    const rescored = await score(id);
    expect(rescored.contributions.map((c) => c.ruleId).sort()).toEqual(['pricing', 'senior']);
    // A row as rescores wrote it before the change log (JSON in packed_changes) explains the same.
    const db = t.runtime.storage.db;
    const key = { version: rescored.model.version, id };
    const row = await db
      .selectFrom('contact_scores')
      .select('change_log')
      .where('workspace_id', '=', t.workspaceId)
      .where('model_version', '=', key.version)
      .where('contact_id', '=', key.id)
      .executeTakeFirstOrThrow();
    const logged = decodeChangeLog(row.change_log!);
    const rules = [...new Map(logged.map((c) => [`${c.kind}:${c.ruleId}`, c])).values()];
    const json = JSON.stringify({
      rules: rules.map((r) => [r.ruleId, r.kind === 'fit' ? 'f' : 'e', r.group, r.halfLifeDays]),
      changes: logged.map((c) => [
        rules.findIndex((r) => r.ruleId === c.ruleId && r.kind === c.kind),
        c.points,
        c.eventId,
        c.at,
      ]),
    });
    const before = await score(id, NOW);
    await db
      .updateTable('contact_scores')
      .set({ packed_changes: json, change_log: null })
      .where('workspace_id', '=', t.workspaceId)
      .where('model_version', '=', key.version)
      .where('contact_id', '=', key.id)
      .execute();
    expect(await score(id, NOW)).toEqual(before);
    // In time order: appended after the packed changes, not a replay.
    await send1([{ type: 'track', messageId: mid(), userId: 'packed', event: 'Demo Requested', timestamp: iso(NOW) }]);
    // Read at one fixed time: scores read at "now" decay between reads.
    const at = NOW + 1000;
    const appended = await score(id, at);
    expect(appended.contributions.map((c) => c.ruleId).sort()).toEqual(['demo', 'pricing', 'senior']);
    expect(appended.contributions.reduce((sum, c) => sum + c.decayed, 0)).toBeCloseTo(appended.total, 9);
    const exported = await t.read<{ scoreChanges: Array<{ rule_id: string; seq: number; model_version: number }> }>(
      `/api/privacy/contacts/${id}/export`,
    );
    const latest = Math.max(...exported.scoreChanges.map((c) => c.model_version));
    const ofLatest = exported.scoreChanges.filter((c) => c.model_version === latest);
    expect(ofLatest.map((c) => [c.seq, c.rule_id])).toEqual([
      [0, 'senior'],
      [1, 'pricing'],
      [2, 'demo'],
    ]);
    // Older than the newest scored event: replayed from history, rows from seq 0, nothing counted twice.
    await send1([
      {
        type: 'page',
        messageId: mid(),
        userId: 'packed',
        properties: { path: '/pricing' },
        timestamp: iso(NOW - 2 * DAY),
      },
    ]);
    const replayed = await score(id, at);
    expect(replayed.contributions.map((c) => c.ruleId).sort()).toEqual(['demo', 'pricing', 'pricing', 'senior']);
    expect(replayed.total).toBeCloseTo(appended.total + 15 * 2 ** (-(at - (NOW - 2 * DAY)) / (10 * DAY)), 6);
    const fresh = await apply(1);
    expect(fresh.version).toBeGreaterThan(latest);
    expect((await score(id, at)).total).toBeCloseTo(replayed.total, 6);
  });

  it("names each rescored change's event by rule and time, one event per rule, also among events of one moment", async () => {
    // A rescore reads no event ids: the explanation and the export find each change's event again.
    const text = `name: moments
half_life_days: 30
engagement:
  - id: pricing
    when: { event: page, path: { prefix: /pricing } }
    points: 5
    limit: { per: day, times: 1 }
  - id: any-pricing
    when: { event: page, path: { prefix: /pricing } }
    points: 1
  - id: docs
    when: { event: page, path: { prefix: /docs } }
    points: 2
  - id: demo
    when: { event: Demo Requested, properties: { plan: team } }
    points: 9
thresholds: { mql: 500 }
`;
    const at = NOW - 3 * DAY;
    const ids = { a: `moment-b-${mid()}`, b: `moment-a-${mid()}`, docs: mid(), demo: mid(), solo: mid() };
    const view = (messageId: string, path: string) => ({
      type: 'page',
      messageId,
      userId: 'moments',
      properties: { url: `https://x.test${path}`, path },
      timestamp: iso(at),
    });
    const demo = (messageId: string, plan: string) => ({
      type: 'track',
      messageId,
      userId: 'moments',
      event: 'Demo Requested',
      properties: { plan },
      timestamp: iso(at + 1),
    });
    const response = await send([
      {
        type: 'identify',
        messageId: mid(),
        userId: 'moments',
        traits: { email: 'moments@acme.io' },
        timestamp: iso(at - DAY),
      },
      // Three page views in one millisecond: two fit both pricing rules, and the daily limit lets one count for
      // "pricing"; then two demo requests in the next millisecond, of which only one has the plan the rule asks for.
      view(ids.a, '/pricing/a'),
      view(ids.b, '/pricing/b'),
      view(ids.docs, '/docs/x'),
      demo(ids.solo, 'solo'),
      demo(ids.demo, 'team'),
    ]);
    expect(response.statusCode).toBe(200);
    const { version } = await applyText(text, { threads: 0 });
    const id = (await byEmail('moments@acme.io')).id;
    const named = (await score(id, NOW)).contributions.map((c) => [c.ruleId, c.eventId]);
    // Of two events that fit a limited rule in one moment, the first by id is named (ids.b sorts before ids.a).
    expect(named.sort()).toEqual(
      [
        ['any-pricing', ids.a],
        ['any-pricing', ids.b],
        ['demo', ids.demo],
        ['docs', ids.docs],
        ['pricing', ids.b],
      ].sort(),
    );
    const exported = await t.api('GET', `/api/privacy/contacts/${id}/export`);
    expect(exported.statusCode).toBe(200);
    type Exported = { model_version: number; rule_id: string; event_id: string | null };
    // The version active before scored the same events live, with their ids at hand; the rescore's are named here.
    const changes = (exported.json() as { scoreChanges: Exported[] }).scoreChanges.filter(
      (c) => c.model_version === version,
    );
    expect(changes.map((c) => [c.rule_id, c.event_id]).sort()).toEqual(named);
  });

  it('reads event URLs and properties in a rescore when the rules look at them, and leaves them out otherwise', async () => {
    const text = `name: fields
engagement:
  - id: demo-cta
    when: { event: CTA Clicked, properties: { cta: demo } }
    points: 7
  - id: utm-page
    when: { event: page, url: { matches: "utm_source=news" } }
    points: 3
  - id: any-cta
    when: { event: CTA Clicked }
    points: 1
thresholds: { mql: 50 }
`;
    const fields = compiled(text);
    expect(eventFieldsRead(fields)).toEqual({ url: true, properties: true });
    expect(eventFieldsRead(compiled(MODEL(1)))).toEqual({ url: false, properties: false });
    expect(
      (
        await send([
          { type: 'identify', messageId: mid(), userId: 'fields', traits: { email: 'fields@other.io' } },
          { type: 'track', messageId: mid(), userId: 'fields', event: 'CTA Clicked', properties: { cta: 'demo' } },
          { type: 'track', messageId: mid(), userId: 'fields', event: 'CTA Clicked', properties: { cta: 'docs' } },
          {
            type: 'page',
            messageId: mid(),
            userId: 'fields',
            properties: { url: 'https://x.test/?utm_source=news', path: '/' },
          },
        ])
      ).statusCode,
    ).toBe(200);
    await applyModel(t.runtime.storage.db, {
      workspaceId: t.workspaceId,
      timeZone: 'UTC',
      model: fields,
      source: text,
    });
    const s = await score((await byEmail('fields@other.io')).id);
    expect(s.contributions.map((c) => c.ruleId).sort()).toEqual(['any-cta', 'any-cta', 'demo-cta', 'utm-page']);
  });

  it('leaves out events no rule can match and scores exactly as a replay of every event', async () => {
    const text = `name: prefilter
fit:
  - id: senior
    when: { trait: title, equals: CTO }
    points: 20
engagement:
  - id: pricing
    when: { event: page, path: { prefix: /pricing } }
    points: 5
  - id: underscore
    when: { event: page, path: { prefix: /a_b } }
    points: 2
  - id: emoji
    when: { event: page, path: { prefix: "/\u{1F600}" } }
    points: 4
  - id: demo
    when: { event: Demo Requested }
    points: 9
    limit: { per: day, times: 1 }
  - id: any-signup
    when: { event: Signed Up, properties: { plan: team } }
    points: 3
thresholds: { mql: 50 }
`;
    const model = compiled(text);
    const anon = 'anon-prefilter';
    const page = (path: string, at: number) => ({
      type: 'page',
      messageId: mid(),
      anonymousId: anon,
      properties: { url: `https://x.test${path}`, path },
      timestamp: iso(at),
    });
    const response = await send([
      // The first and the last event match no rule: the fit still counts from the first, the state knows the last.
      page('/', NOW - 30 * DAY),
      page('/pricing/team', NOW - 20 * DAY),
      page('/Pricing', NOW - 19 * DAY),
      page('/axb', NOW - 18 * DAY),
      // Just past the prefixes: SQLite tests a prefix as a range, and these are its upper ends.
      page('/pricinh', NOW - 18 * DAY + 1),
      page('/a_c', NOW - 18 * DAY + 2),
      page('/a_b/c', NOW - 17 * DAY),
      page('/\u{1F600}/x', NOW - 16 * DAY),
      { type: 'track', messageId: mid(), anonymousId: anon, event: 'demo requested', timestamp: iso(NOW - 15 * DAY) },
      { type: 'track', messageId: mid(), anonymousId: anon, event: 'Demo Requested', timestamp: iso(NOW - 14 * DAY) },
      {
        type: 'track',
        messageId: mid(),
        anonymousId: anon,
        event: 'Signed Up',
        properties: { plan: 'solo' },
        timestamp: iso(NOW - 13 * DAY),
      },
      {
        type: 'identify',
        messageId: mid(),
        anonymousId: anon,
        userId: 'prefilter',
        traits: { email: 'prefilter@acme.io', title: 'CTO' },
        timestamp: iso(NOW - 10 * DAY),
      },
      page('/about', NOW - DAY),
      // After the moment the rescore scores as of: not counted, and not the last event the state knows.
      page('/later', NOW + DAY),
    ]);
    expect(response.statusCode).toBe(200);
    const only = eventPrefilter([model]);
    expect(only).toHaveLength(5);
    const fields = eventFieldsRead(model);
    const histories = async (options: Parameters<typeof loadContactHistories>[2]) => {
      const all = [];
      for await (const p of loadContactHistories(t.runtime.storage.db, t.workspaceId, options)) all.push(...p);
      return all;
    };
    // Without ids, as a rescore reads.
    const every = await histories({ fields, eventIds: false });
    const scored = await histories({ fields, only, until: NOW });
    const id = (await byEmail('prefilter@acme.io')).id;
    const paths = (h: typeof every) => h.find((c) => c.id === id)!.events.map((e) => e.path ?? e.name);
    expect(paths(every)).toHaveLength(14);
    expect(paths(scored)).toEqual(['/pricing/team', '/a_b/c', '/\u{1F600}/x', 'Demo Requested', 'Signed Up']);

    const applied = await applyText(text, { threads: 0 });
    const stored = await t.runtime.storage.db
      .selectFrom('contact_scores')
      .select(['contact_id', 'state', 'total', 'packed_changes', 'change_log'])
      .where('workspace_id', '=', t.workspaceId)
      .where('model_version', '=', applied.version)
      .orderBy('contact_id')
      .execute();
    const setup = { model, version: applied.version, workspaceId: t.workspaceId, timeZone: 'UTC', now: NOW };
    const expected = rescoreRows(setup, every)
      .scores.map((row) => ({
        contact_id: row.contact_id,
        state: decodeScoreState(row.state),
        total: row.total,
        packed_changes: row.packed_changes ?? null,
        change_log: hex(row.change_log),
      }))
      .sort((a, b) => (a.contact_id < b.contact_id ? -1 : 1));
    const readBack = stored.map((row) => ({
      ...row,
      state: decodeScoreState(row.state),
      total: Number(row.total),
      change_log: hex(row.change_log),
    }));
    expect(readBack).toEqual(expected);
    // Stored in binary (`encodeScoreState`), not as JSON.
    expect(stored.every((row) => row.state instanceof Uint8Array && row.state[0] === 1)).toBe(true);
    const state = readBack.find((row) => row.contact_id === id)!.state;
    expect(state.lastEventAt).toBe(Date.parse(iso(NOW - DAY)));
    const s = await score(id);
    expect(s.contributions.map((c) => c.ruleId).sort()).toEqual(['demo', 'emoji', 'pricing', 'senior', 'underscore']);
  });

  it('replays in worker threads exactly as on the calling thread', async () => {
    const text = MODEL(1);
    const applyWith = (options: Pick<ApplyModelRequest, 'threads' | 'file' | 'bulkScores'>) => applyText(text, options);
    // Each version's rows are read right after its apply: an apply prunes the versions before the previous one.
    const here = await applyWith({ threads: 0 });
    const expected = await versionRows(here.version);
    const threaded = await applyWith({ threads: 2 });
    const threadedRows = await versionRows(threaded.version);
    // On SQLite the workers then read their pages from the file themselves; PostgreSQL has no file to hand them.
    const reading = await applyWith({ threads: 2, file: t.runtime.storage.file });
    expect(here.threads).toBe(0);
    expect(threaded.threads).toBe(2);
    expect(threaded.workersRead).toBe(false);
    expect(reading.workersRead).toBe(t.runtime.storage.engine === 'sqlite');
    for (const other of [threaded, reading]) {
      expect(other.contacts).toBe(here.contacts);
      expect(other.changes).toBe(here.changes);
      expect(other.mql).toBe(here.mql);
    }
    expect(expected.length).toBeGreaterThan(3);
    // Every change of a rescore is in its binary log; none is written as JSON any more.
    expect(expected.some((row) => row.change_log !== null && row.next_seq > 0)).toBe(true);
    expect(expected.every((row) => row.packed_changes === null)).toBe(true);
    expect(threadedRows).toEqual(expected);
    expect(await versionRows(reading.version)).toEqual(expected);
    // The storage's bulk path for the rows (PostgreSQL: binary COPY; none on SQLite) stores the very same rows.
    expect(t.runtime.storage.bulkScores === null).toBe(t.runtime.storage.engine === 'sqlite');
    const bulk = await applyWith({ threads: 2, bulkScores: t.runtime.storage.bulkScores });
    expect(bulk.contacts).toBe(here.contacts);
    expect(await versionRows(bulk.version)).toEqual(expected);
    if (t.runtime.storage.bulkScores) {
      // A COPY the server refuses (rows that are there already) fails as a whole, and the pool carries on.
      const stored = await t.runtime.storage.db
        .selectFrom('contact_scores')
        .selectAll()
        .where('workspace_id', '=', t.workspaceId)
        .where('model_version', '=', bulk.version)
        .execute();
      await expect(t.runtime.storage.bulkScores(stored)).rejects.toThrow(/duplicate key/);
      expect(await versionRows(bulk.version)).toEqual(expected);
    }
  });

  it('splits a workspace into pages of 1,000 contacts by id, the last page shorter, none empty', async () => {
    const db = t.runtime.storage.db;
    const ws = await t.runtime.workspaces.create('Pages', { timeZone: 'UTC' });
    expect(await pageRanges(db, ws.id)).toEqual([]);
    // Ids whose order is not their insertion order, so the ranges follow the key, not the rows' arrival.
    const ids = Array.from({ length: 2_500 }, (_, i) => `p-${String((i * 7_919) % 2_500).padStart(4, '0')}`);
    const insert = async (some: string[]) => {
      for (let i = 0; i < some.length; i += 500) {
        await db
          .insertInto('contacts')
          .values(
            some.slice(i, i + 500).map((id) => ({
              workspace_id: ws.id,
              id,
              traits: '{}',
              stage: 'contact',
              created_at: NOW,
              updated_at: NOW,
              last_seen_at: NOW,
            })),
          )
          .execute();
      }
    };
    const below = (bound: string) => ids.filter((id) => id < bound);
    // 1,000 contacts, then 2,000: whole pages only; then 2,500: a last page of 500.
    await insert(below('p-1000'));
    expect(await pageRanges(db, ws.id)).toEqual([{ after: '', through: 'p-0999' }]);
    await insert(below('p-2000').filter((id) => id >= 'p-1000'));
    expect(await pageRanges(db, ws.id)).toEqual([
      { after: '', through: 'p-0999' },
      { after: 'p-0999', through: 'p-1999' },
    ]);
    await insert(ids.filter((id) => id >= 'p-2000'));
    const ranges = await pageRanges(db, ws.id);
    expect(ranges).toEqual([
      { after: '', through: 'p-0999' },
      { after: 'p-0999', through: 'p-1999' },
      { after: 'p-1999', through: 'p-2499' },
    ]);
    // Another workspace's contacts are in no range of this one's.
    expect((await pageRanges(db, t.workspaceId)).at(-1)?.through).not.toMatch(/^p-/);
  });

  it('reads each contact from the event digest its last rescore made, until one of its events changes', async () => {
    const db = t.runtime.storage.db;
    const text = MODEL(1);
    const applyNow = () => applyText(text, { threads: 0 });
    const digests = async () =>
      new Map(
        (
          await db
            .selectFrom('event_digests as d')
            .innerJoin('contacts as c', (j) =>
              j.onRef('c.workspace_id', '=', 'd.workspace_id').onRef('c.id', '=', 'd.contact_id'),
            )
            .select(['d.contact_id', 'd.gen', 'c.events_gen', 'd.terms'])
            .where('d.workspace_id', '=', t.workspaceId)
            .execute()
        ).map((r) => [
          r.contact_id,
          { holds: Number(r.gen) === Number(r.events_gen), gen: Number(r.gen), terms: r.terms },
        ]),
      );
    const contactCount = async () =>
      Number(
        (
          await db
            .selectFrom('contacts')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('workspace_id', '=', t.workspaceId)
            .executeTakeFirstOrThrow()
        ).n,
      );

    // Read from the events: no digest yet.
    await db.deleteFrom('event_digests').execute();
    const fromEvents = await applyNow();
    if (t.runtime.storage.engine === 'postgres') {
      // PostgreSQL keeps no digests: nothing is stored, and nothing moves events_gen.
      expect(await digests()).toEqual(new Map());
      const { rows } = await sql<{ n: number }>`select count(*) as n from contacts where events_gen <> 0`.execute(db);
      expect(Number(rows[0]!.n)).toBe(0);
      return;
    }
    const built = await digests();
    expect(built.size).toBe(await contactCount());
    expect([...built.values()].every((d) => d.holds)).toBe(true);
    // The same apply again reads every contact from its digest, and stores exactly the same rows.
    const fromEventsRows = await versionRows(fromEvents.version);
    const fromDigests = await applyNow();
    expect(await versionRows(fromDigests.version)).toEqual(fromEventsRows);
    expect(await digests()).toEqual(built);

    // A digest that holds is what the rescore reads: one emptied (same gen) leaves the contact only its fit (senior
    // and software).
    const hot = await byEmail('hot@acme.io');
    const empty = encodeEventDigest([]);
    await db
      .updateTable('event_digests')
      .set({ terms: empty.terms, data: empty.data })
      .where('workspace_id', '=', t.workspaceId)
      .where('contact_id', '=', hot.id)
      .execute();
    const emptied = await applyNow();
    const hotRow = async (version: number) => (await versionRows(version)).find((r) => r.contact_id === hot.id)!;
    const hotTotal = fromEventsRows.find((r) => r.contact_id === hot.id)!.total;
    expect((await hotRow(emptied.version)).total).toBe(30);
    // An event added to the contact moves its events_gen: the digest no longer holds, the events are read again
    // (the new one with them), and the rescore stores a new digest.
    const before = (await digests()).get(hot.id)!;
    expect(
      (
        await send([
          {
            type: 'page',
            messageId: mid(),
            userId: 'hot',
            properties: { url: 'https://x.test/pricing/new', path: '/pricing/new' },
            timestamp: iso(NOW - 2 * DAY),
          },
        ])
      ).statusCode,
    ).toBe(200);
    expect((await digests()).get(hot.id)!.holds).toBe(false);
    const added = await applyNow();
    const withNew = await hotRow(added.version);
    expect(withNew.total).toBeGreaterThan(hotTotal);
    const rebuilt = (await digests()).get(hot.id)!;
    expect(rebuilt.holds).toBe(true);
    expect(rebuilt.gen).toBeGreaterThan(before.gen);
    expect(JSON.parse(rebuilt.terms)).toContain('/pricing/new');

    // Changed or deleted events move it too, whatever code does it.
    const newest = await db
      .selectFrom('events')
      .select('message_id')
      .where('workspace_id', '=', t.workspaceId)
      .where('path', '=', '/pricing/new')
      .executeTakeFirstOrThrow();
    const moved = async (change: () => Promise<unknown>) => {
      const gen = (await digests()).get(hot.id)!.gen;
      await change();
      const after = (await digests()).get(hot.id)!;
      expect(after.holds).toBe(false);
      // The digest is left as it was; only the contact's events_gen moved.
      expect(after.gen).toBe(gen);
      await applyNow();
      expect((await digests()).get(hot.id)!.holds).toBe(true);
    };
    await moved(() =>
      db.updateTable('events').set({ path: '/careers' }).where('message_id', '=', newest.message_id).execute(),
    );
    await moved(() => db.deleteFrom('events').where('message_id', '=', newest.message_id).execute());
    expect((await hotRow((await applyNow()).version)).total).toBe(hotTotal);

    // A digest made before its contact's events moved, or of a contact erased since, is not stored.
    const stale = { workspace_id: t.workspaceId, contact_id: hot.id, gen: -1, ...encodeEventDigest([]) };
    const unknown = { ...stale, contact_id: 'c_not_a_contact', gen: 0 };
    for (const insert of digestInserts([stale, unknown])) {
      await db.executeQuery(CompiledQuery.raw(insert.sql, insert.values));
    }
    const kept = await digests();
    expect(kept.get(hot.id)!.holds).toBe(true);
    expect(kept.has('c_not_a_contact')).toBe(false);

    // An erasure deletes the contact's digest with its events.
    expect(
      (
        await send([
          {
            type: 'identify',
            messageId: mid(),
            userId: 'erased',
            traits: { email: 'erased@acme.io' },
            timestamp: iso(NOW - DAY),
          },
          {
            type: 'page',
            messageId: mid(),
            userId: 'erased',
            properties: { path: '/pricing/secret' },
            timestamp: iso(NOW - DAY),
          },
        ])
      ).statusCode,
    ).toBe(200);
    await applyNow();
    const erased = await byEmail('erased@acme.io');
    expect((await digests()).get(erased.id)!.terms).toContain('/pricing/secret');
    expect((await eraseContact(db, t.workspaceId, erased.id))?.eventDigests).toBe(1);
    expect(
      await db.selectFrom('event_digests').select('contact_id').where('contact_id', '=', erased.id).execute(),
    ).toEqual([]);
  });

  it('keeps the scores of the active version and the one before it, and prunes older ones', async () => {
    const db = t.runtime.storage.db;
    const counts = async () =>
      Object.fromEntries(
        await Promise.all(
          (['contact_scores', 'score_changes'] as const).map(async (table) => {
            const rows = await db
              .selectFrom(table)
              .select(['model_version', (eb) => eb.fn.countAll<number>().as('n')])
              .where('workspace_id', '=', t.workspaceId)
              .groupBy('model_version')
              .orderBy('model_version')
              .execute();
            return [table, rows.map((r) => [Number(r.model_version), Number(r.n)])];
          }),
        ),
      ) as Record<'contact_scores' | 'score_changes', number[][]>;
    const first = await apply(1);
    // A live change after the apply leaves a score_changes row under that version.
    await send([{ type: 'track', messageId: mid(), userId: 'hot', event: 'Demo Requested', timestamp: iso(NOW) }]);
    const second = await apply(2);
    const before = await counts();
    expect(before.contact_scores.map(([v]) => v)).toContain(first.version);
    expect(before.score_changes.map(([v]) => v)).toContain(first.version);
    const third = await apply(1);
    expect(third.pruned).toEqual([first.version]);
    expect(second.pruned).not.toContain(first.version);
    const after = await counts();
    // Only the active version and the one before it hold rows; the one before that was pruned, every row of it.
    expect(after.contact_scores.map(([v]) => v)).toEqual([second.version, third.version]);
    expect(after.score_changes.every(([v]) => v === second.version || v === third.version)).toBe(true);
    const kept = before.contact_scores.find(([v]) => v === second.version);
    expect(after.contact_scores.find(([v]) => v === second.version)).toEqual(kept);
    // The versions themselves stay listed with their model text.
    const versions = await db
      .selectFrom('scoring_models')
      .select('version')
      .where('workspace_id', '=', t.workspaceId)
      .execute();
    expect(versions.map((v) => v.version)).toContain(first.version);
    const hot = await byEmail('hot@acme.io');
    const explained = await score(hot.id);
    expect(explained.model.version).toBe(third.version);
    expect(explained.contributions.length).toBeGreaterThan(0);
  });

  it('leaves no score of a contact erased while the rescore ran', async () => {
    const db = t.runtime.storage.db;
    const text = MODEL(2);
    let stored = false;
    const applied = await applyText(text, {
      threads: 0,
      // Stands in for a page a worker read before an erasure and stored after it: a contact deleted while the rescore
      // runs, then the new version's row of it written.
      onProgress: async () => {
        if (stored) return;
        stored = true;
        await sql`insert into contacts (workspace_id, id, traits, created_at, updated_at, last_seen_at)
          values (${t.workspaceId}, 'c_erased_meanwhile', '{}', ${NOW}, ${NOW}, ${NOW})`.execute(db);
        await db
          .deleteFrom('contacts')
          .where('workspace_id', '=', t.workspaceId)
          .where('id', '=', 'c_erased_meanwhile')
          .execute();
        const { v } = await db
          .selectFrom('scoring_models')
          .select((eb) => eb.fn.max('version').as('v'))
          .where('workspace_id', '=', t.workspaceId)
          .executeTakeFirstOrThrow();
        await db
          .insertInto('contact_scores')
          .values({
            workspace_id: t.workspaceId,
            model_version: Number(v),
            contact_id: 'c_erased_meanwhile',
            state: '{}',
            total: 0,
            fit: 0,
            engagement: 0,
            grade: 'D4',
            status: 'unqualified',
            next_seq: 0,
            scored_at: NOW,
          })
          .execute();
      },
    });
    expect(stored).toBe(true);
    const rows = await db
      .selectFrom('contact_scores')
      .select(['contact_id', 'model_version'])
      .where('workspace_id', '=', t.workspaceId)
      .where('contact_id', '=', 'c_erased_meanwhile')
      .execute();
    expect(rows).toEqual([]);
    // Every contact still has its row of the new version.
    const scored = await db
      .selectFrom('contact_scores')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('workspace_id', '=', t.workspaceId)
      .where('model_version', '=', applied.version)
      .executeTakeFirstOrThrow();
    expect(Number(scored.n)).toBe(applied.contacts);
  });

  it('writes only the current scores the new version changes, and no contact row but those it promotes', async () => {
    const db = t.runtime.storage.db;
    const applyAt = (text: string) => applyText(text, { threads: 0 });
    // Every row written to current_scores is noted by a trigger, each contact row written by its updated_at.
    await sql`create table test_score_writes (contact_id text not null)`.execute(db);
    if (testEngine === 'postgres') {
      await sql`create function test_note_score_write() returns trigger language plpgsql as $$
        begin insert into test_score_writes values (new.contact_id); return null; end $$`.execute(db);
      await sql`create trigger test_score_writes after update on current_scores
        for each row execute function test_note_score_write()`.execute(db);
    } else {
      await sql`create trigger test_score_writes after update on current_scores
        begin insert into test_score_writes values (new.contact_id); end`.execute(db);
    }
    const written = async () => {
      const { rows } = await sql<{ contact_id: string }>`select contact_id from test_score_writes`.execute(db);
      await sql`delete from test_score_writes`.execute(db);
      return rows.map((r) => r.contact_id).sort();
    };
    const contacts = async () =>
      (
        await scoredContacts(db)
          .select(['id', 'score', 'stage', 'updated_at'])
          .where('contacts.workspace_id', '=', t.workspaceId)
          .orderBy('id')
          .execute()
      ).map((r) => ({ id: r.id, score: Number(r.score), stage: r.stage, at: Number(r.updated_at) }));
    try {
      await applyAt(MODEL(3));
      await written();
      // Marked, so that a contact row the next applies write shows.
      await db.updateTable('contacts').set({ updated_at: 1 }).where('workspace_id', '=', t.workspaceId).execute();
      const before = await contacts();
      // Renamed, the same rules as of the same moment: no score moves, and nothing is written.
      await applyAt(MODEL(3).replace('name: contract-3', 'name: contract-3-renamed'));
      expect(await contacts()).toEqual(before);
      expect(await written()).toEqual([]);
      // Other points: every contact with a score has its current score written; those at zero under both do not.
      await applyAt(MODEL(4));
      const after = await contacts();
      const moved = after.filter((r, i) => r.score !== before[i]!.score).map((r) => r.id);
      expect(moved.length).toBeGreaterThan(0);
      expect(await written()).toEqual(moved.sort());
      expect(after.some((r) => r.score === 0)).toBe(true);
      // Contact rows: only those the new version promoted to MQL.
      const promoted = after.filter((r, i) => r.stage !== before[i]!.stage);
      expect(promoted.every((r) => r.stage === 'mql' && r.at === NOW)).toBe(true);
      expect(after.filter((r, i) => r.stage === before[i]!.stage).every((r) => r.at === 1)).toBe(true);
    } finally {
      await sql`drop trigger test_score_writes${sql.raw(testEngine === 'postgres' ? ' on current_scores' : '')}`.execute(
        db,
      );
      await sql`drop table test_score_writes`.execute(db);
      if (testEngine === 'postgres') await sql`drop function test_note_score_write()`.execute(db);
    }
  });

  it('rebuilds the score index on SQLite when a change moves most scores, and lists by score as before', async () => {
    const db = t.runtime.storage.db;
    const applyAt = (text: string) => applyText(text);
    const scores = async () =>
      new Map(
        (
          await scoredContacts(db).select(['id', 'score']).where('contacts.workspace_id', '=', t.workspaceId).execute()
        ).map((r) => [r.id, Number(r.score)]),
      );
    /** Every contact through the API sorted by score, page after page. */
    const listed = async () => {
      const ids: string[] = [];
      let next: string | null = null;
      do {
        const page: { contacts: ContactView[]; next: string | null } = await t.read(
          `/api/contacts?sort=score&limit=7${next ? `&cursor=${next}` : ''}`,
        );
        ids.push(...page.contacts.map((c) => c.id));
        next = page.next;
      } while (next);
      return ids;
    };
    await applyAt(MODEL(5));
    const before = await scores();
    // Other points move every score that is not zero: about half of these contacts.
    const changed = await applyAt(MODEL(6));
    const after = await scores();
    const moved = [...after].filter(([id, s]) => s !== before.get(id)).length;
    expect(moved * 3).toBeGreaterThanOrEqual(after.size);
    expect(changed.scoreIndexRebuilt).toBe(testEngine === 'sqlite');
    // A change that moves no score leaves the index as it is.
    expect((await applyAt(MODEL(6).replace('name: contract-6', 'name: contract-6b'))).scoreIndexRebuilt).toBe(false);
    if (testEngine === 'sqlite') {
      const { rows } = await sql<{ sql: string }>`
        select sql from sqlite_master where type = 'index' and name = 'current_scores_score'`.execute(db);
      expect(rows.map((r) => r.sql)).toEqual([
        'CREATE INDEX "current_scores_score" on "current_scores" ("workspace_id", "score")',
      ]);
      const { rows: plan } = await sql<{ detail: string }>`
        explain query plan select contact_id from current_scores where workspace_id = ${t.workspaceId}
        order by score desc`.execute(db);
      expect(plan.map((r) => r.detail).join(' ')).toContain('current_scores_score');
    }
    const expected = [...after].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : -1)).map(([id]) => id);
    expect(await listed()).toEqual(expected);
  });

  it('reads a score state stored as JSON before the binary form, and live scoring carries on from it', async () => {
    const db = t.runtime.storage.db;
    const { version } = await apply(1);
    const hot = await byEmail('hot@acme.io');
    const stored = () =>
      db
        .selectFrom('contact_scores')
        .select('state')
        .where('workspace_id', '=', t.workspaceId)
        .where('model_version', '=', version)
        .where('contact_id', '=', hot.id)
        .executeTakeFirstOrThrow();
    const before = await score(hot.id, NOW);
    // As migration 0015 leaves a state written before it: JSON text on SQLite, its UTF-8 bytes on PostgreSQL.
    const json = JSON.stringify(decodeScoreState((await stored()).state));
    await db
      .updateTable('contact_scores')
      .set({ state: testEngine === 'postgres' ? Buffer.from(json) : json })
      .where('workspace_id', '=', t.workspaceId)
      .where('model_version', '=', version)
      .where('contact_id', '=', hot.id)
      .execute();
    expect(await score(hot.id, NOW)).toEqual(before);
    const now = await score(hot.id);
    const demoAt = Date.now();
    expect(
      (
        await send([
          { type: 'track', messageId: mid(), userId: 'hot', event: 'Demo Requested', timestamp: iso(demoAt) },
        ])
      ).statusCode,
    ).toBe(200);
    const after = await score(hot.id);
    // The demo request's 30 points, beside what decayed in the moments between the two reads.
    expect(after.total - now.total).toBeCloseTo(30, 2);
    const state = (await stored()).state;
    expect(state instanceof Uint8Array && state[0] === 1).toBe(true);
    expect(decodeScoreState(state).lastEventAt).toBe(demoAt);
  });
});
