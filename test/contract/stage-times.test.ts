import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

// The contact's stage columns (first time at each funnel stage, newest won value) are kept by the database from the
// stage history; whatever writes the history, they must equal the history's own aggregate.
describe(`Stage times kept on the contact (${testEngine})`, () => {
  let t: TestApp;
  const crm = async (updates: object[]) => {
    const r = await t.api('POST', '/api/crm/stages', { updates });
    expect(r.statusCode, r.body).toBeLessThan(300);
    return r.json() as { applied: number; failed: number };
  };
  /** Every contact's stage columns beside the same values computed from stage_changes. */
  const compare = async () => {
    const db = t.runtime.storage.db;
    const stored = await db
      .selectFrom('contacts')
      .select(['id', 'mql_at', 'sql_at', 'meeting_at', 'won_at', 'lost_at', 'funnel_at', 'won_value', 'won_currency'])
      .where('workspace_id', '=', t.workspaceId)
      .orderBy('id')
      .execute();
    const history = await db
      .selectFrom('stage_changes')
      .select(['contact_id', 'to_stage', 'at', 'seq', 'value', 'currency'])
      .where('workspace_id', '=', t.workspaceId)
      .execute();
    const expected = stored.map((c) => {
      const rows = history.filter((h) => h.contact_id === c.id);
      const first = (stages: string[]) => {
        const times = rows.filter((h) => stages.includes(h.to_stage)).map((h) => Number(h.at));
        return times.length ? Math.min(...times) : null;
      };
      const won = rows
        .filter((h) => h.to_stage === 'won' && h.value !== null)
        .sort((a, b) => Number(b.at) - Number(a.at) || b.seq - a.seq)[0];
      return {
        id: c.id,
        mql_at: first(['mql']),
        sql_at: first(['sql']),
        meeting_at: first(['meeting']),
        won_at: first(['won']),
        lost_at: first(['lost']),
        funnel_at: first(['mql', 'sql', 'meeting', 'won', 'lost']),
        won_value: won ? Number(won.value) : null,
        won_currency: won?.currency ?? null,
      };
    });
    const asNumbers = stored.map((c) => ({
      ...c,
      ...Object.fromEntries(
        (['mql_at', 'sql_at', 'meeting_at', 'won_at', 'lost_at', 'funnel_at', 'won_value'] as const).map((k) => [
          k,
          c[k] === null ? null : Number(c[k]),
        ]),
      ),
    }));
    expect(asNumbers).toEqual(expected);
    return asNumbers;
  };

  beforeAll(async () => {
    t = await createTestApp();
    const people = ['a', 'b', 'c', 'd', 'e'];
    const r = await t.sendBatch(
      people.map((p, i) => ({
        type: 'identify',
        messageId: `st-${p}`,
        userId: p,
        traits: { email: `${p}@example.com` },
        timestamp: `2026-03-0${i + 1}T10:00:00Z`,
      })),
    );
    expect(r.statusCode).toBe(200);
  });
  afterAll(async () => t.close());

  it('follows CRM updates, skipped stages, a corrected deal value and a back-dated stage', async () => {
    expect(
      await crm([
        { crmId: 'a', stage: 'mql', at: '2026-03-02T00:00:00Z' },
        { crmId: 'a', stage: 'sql', at: '2026-03-04T00:00:00Z' },
        { crmId: 'a', stage: 'won', at: '2026-03-20T00:00:00Z', value: 1000 },
        // Straight to won: the stages between are skipped rows.
        { crmId: 'b', stage: 'won', at: '2026-03-25T00:00:00Z', value: 500, currency: 'USD' },
        { crmId: 'c', stage: 'mql', at: '2026-03-05T00:00:00Z' },
        { crmId: 'c', stage: 'lost', at: '2026-03-09T00:00:00Z' },
      ]),
    ).toMatchObject({ applied: 6, failed: 0 });
    const first = await compare();
    expect(first.find((c) => c.won_value === 1000)).toMatchObject({ won_currency: 'EUR' });
    expect(first.find((c) => c.won_value === 500)).toMatchObject({ won_currency: 'USD' });
    // The CRM corrects the amount after the win, and sends an MQL date older than the one it sent first (the
    // history is rebuilt in time order).
    await crm([
      { crmId: 'a', stage: 'won', at: '2026-03-21T00:00:00Z', value: 1200 },
      { crmId: 'c', stage: 'mql', at: '2026-03-03T00:00:00Z' },
    ]);
    const second = await compare();
    expect(second.filter((c) => c.won_value !== null).map((c) => c.won_value)).toContain(1200);
    expect(second.filter((c) => c.funnel_at === null)).toHaveLength(2);
  });

  it('follows stage rows inserted one by one, in and out of time order, of every stage', async () => {
    const db = t.runtime.storage.db;
    const d = await t.read<{ contacts: Array<{ id: string; email: string }> }>('/api/contacts?limit=100');
    const ids = ['d@example.com', 'e@example.com'].map((email) => d.contacts.find((c) => c.email === email)!.id);
    const day = (n: number) => Date.UTC(2026, 3, n);
    // [contact, stage, day, value]: later and earlier firsts, rows that move no time (a later one of a stage already
    // reached), a stage outside the funnel, wins with and without a value, a lost before everything.
    const rows: Array<[number, string, number, number | null]> = [
      [0, 'sql', 10, null],
      [0, 'mql', 12, null],
      [0, 'sql', 11, null],
      [0, 'mql', 8, null],
      [0, 'mql', 9, null],
      [0, 'nurture', 2, null],
      [0, 'won', 20, 700],
      [0, 'meeting', 15, null],
      [0, 'won', 19, null],
      [0, 'lost', 1, null],
      [1, 'meeting', 5, null],
      [1, 'won', 6, null],
      [1, 'sql', 4, null],
      [1, 'meeting', 7, null],
    ];
    const seqs = await db
      .selectFrom('stage_changes')
      .select(['contact_id', (eb) => eb.fn.max('seq').as('seq')])
      .where('workspace_id', '=', t.workspaceId)
      .groupBy('contact_id')
      .execute();
    const next = new Map(seqs.map((r) => [r.contact_id, Number(r.seq)]));
    for (const [who, stage, at, value] of rows) {
      const contactId = ids[who]!;
      const seq = (next.get(contactId) ?? 0) + 1;
      next.set(contactId, seq);
      await db
        .insertInto('stage_changes')
        .values({
          workspace_id: t.workspaceId,
          contact_id: contactId,
          seq,
          from_stage: null,
          to_stage: stage,
          at: day(at),
          source: 'crm',
          reason: null,
          value,
          currency: value === null ? null : 'EUR',
        })
        .execute();
      await compare();
    }
    const [first, second] = (await compare()).filter((c) => ids.includes(c.id));
    expect([first, second].map((c) => c?.funnel_at).sort()).toEqual([day(1), day(4)].sort());
  });

  it('follows a scoring model that promotes contacts, and an erased contact takes its history with it', async () => {
    await t.applyModel(
      [
        'name: everyone',
        'fit:',
        '  - id: has-email',
        '    when: { trait: email, exists: true }',
        '    points: 5',
        'thresholds: { mql: 1 }',
      ].join('\n'),
    );
    const promoted = await compare();
    expect(promoted.filter((c) => c.mql_at !== null).length).toBeGreaterThanOrEqual(4);
    // The apply's own promotions leave the history's triggers as they were: a stage row written after it (an MQL
    // again, earlier than the promotion, and a first SQL) moves the contact's times.
    const e = (
      await t.read<{ contacts: Array<{ id: string; email: string }> }>('/api/contacts?limit=100')
    ).contacts.find((c) => c.email === 'e@example.com')!;
    expect(promoted.find((c) => c.id === e.id)?.mql_at).not.toBeNull();
    const db = t.runtime.storage.db;
    const last = await db
      .selectFrom('stage_changes')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('workspace_id', '=', t.workspaceId)
      .where('contact_id', '=', e.id)
      .executeTakeFirstOrThrow();
    await db
      .insertInto('stage_changes')
      .values(
        [
          ['mql', Date.UTC(2026, 0, 5)],
          ['sql', Date.UTC(2026, 0, 6)],
        ].map(([to, at], i) => ({
          workspace_id: t.workspaceId,
          contact_id: e.id,
          seq: Number(last.seq) + 1 + i,
          from_stage: null,
          to_stage: to as string,
          at: at as number,
          source: 'test',
        })),
      )
      .execute();
    const moved = (await compare()).find((c) => c.id === e.id)!;
    expect([moved.mql_at, moved.sql_at, moved.funnel_at]).toEqual([
      Date.UTC(2026, 0, 5),
      Date.UTC(2026, 0, 6),
      Date.UTC(2026, 0, 5),
    ]);
    const d = await t.read<{ contacts: Array<{ id: string; email: string }> }>('/api/contacts?limit=100');
    const target = d.contacts.find((c) => c.email === 'a@example.com')!;
    const erased = await t.api('DELETE', `/api/privacy/contacts/${target.id}`);
    expect(erased.statusCode, erased.body).toBeLessThan(300);
    const left = await compare();
    expect(left.map((c) => c.id)).not.toContain(target.id);
    const orphans = await sql<{
      n: number;
    }>`select count(*) as n from stage_changes where contact_id = ${target.id}`.execute(t.runtime.storage.db);
    expect(Number(orphans.rows[0]!.n)).toBe(0);
  });
});
