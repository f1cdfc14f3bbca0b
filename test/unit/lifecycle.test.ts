import { describe, expect, it } from 'vitest';
import { buildStageHistory, type StageEntry } from '../../src/lifecycle/build-stage-history.js';
import { parseInstant } from '../../src/lifecycle/parse-instant.js';
import { toStageUpdate } from '../../src/lifecycle/stage-update-input.js';
import { DEFAULT_STAGE_NAMES } from '../../src/lifecycle/stages.js';

const DAY = 86_400_000;
let seq = 0;
const entry = (to: StageEntry['to'], day: number, extra: Partial<StageEntry> = {}): StageEntry => ({
  seq: ++seq,
  to,
  at: day * DAY,
  source: 'crm',
  reason: null,
  value: null,
  currency: null,
  owner: null,
  reopen: false,
  updateId: `u${seq}`,
  ...extra,
});

describe('stage history', () => {
  it('records skipped stages as reached, flagged, at the moment of the jump', () => {
    const h = buildStageHistory([entry('won', 5, { value: 1200, currency: 'EUR', owner: 'ana@x.co' })]);
    expect(h.ok).toBe(true);
    if (!h.ok) return;
    expect(h.rows.map((r) => [r.from, r.to, r.skipped])).toEqual([
      ['contact', 'mql', true],
      ['mql', 'sql', true],
      ['sql', 'meeting', true],
      ['meeting', 'won', false],
    ]);
    expect(h.rows.every((r) => r.at === 5 * DAY)).toBe(true);
    expect(h.rows[3]).toMatchObject({ value: 1200, currency: 'EUR', owner: 'ana@x.co' });
    expect(h.rows[0]).toMatchObject({ value: null, owner: null });
    expect(h).toMatchObject({ stage: 'won', owner: 'ana@x.co' });
  });

  it('keeps time order whatever order updates arrive in, and skips only what was never reached', () => {
    const h = buildStageHistory([entry('won', 9), entry('mql', 1), entry('sql', 3)]);
    if (!h.ok) throw new Error('expected a history');
    expect(h.rows.map((r) => [r.from, r.to, r.at / DAY, r.skipped])).toEqual([
      ['contact', 'mql', 1, false],
      ['mql', 'sql', 3, false],
      ['sql', 'meeting', 9, true],
      ['meeting', 'won', 9, false],
    ]);
  });

  it('lost implies no earlier stage; won and lost are left only by a reopen', () => {
    const lost = buildStageHistory([entry('mql', 1), entry('lost', 2)]);
    if (!lost.ok) throw new Error('expected a history');
    expect(lost.rows.map((r) => r.to)).toEqual(['mql', 'lost']);
    const refused = buildStageHistory([entry('won', 1), entry('lost', 2)]);
    expect(refused).toMatchObject({ ok: false, stage: 'won', since: DAY });
    // A move back to a stage already reached is late news: ignored, the contact stays won.
    const late = entry('mql', 2);
    const ignored = buildStageHistory([entry('won', 1), late]);
    expect(ignored).toMatchObject({ ok: true, stage: 'won', ignored: [late] });
    expect(buildStageHistory([entry('mql', 1), entry('lost', 2), entry('sql', 3)])).toMatchObject({ ok: false });
    // The score never reopens a deal: its promotion after a back-dated close is left out.
    const promotion = entry('mql', 3, { source: 'score' });
    expect(buildStageHistory([promotion, entry('lost', 2)])).toMatchObject({
      ok: true,
      stage: 'lost',
      ignored: [promotion],
    });
    const reopened = buildStageHistory([entry('won', 1), entry('sql', 2, { reopen: true }), entry('lost', 3)]);
    expect(reopened.ok && reopened.rows.map((r) => [r.to, r.reopen])).toEqual([
      ['mql', false],
      ['sql', false],
      ['meeting', false],
      ['won', false],
      ['sql', true],
      ['lost', false],
    ]);
    // A back-dated change before a terminal one is fine; one that would sit after it is not.
    expect(buildStageHistory([entry('won', 5), entry('sql', 2)]).ok).toBe(true);
  });

  it('ties at one moment keep their arrival order', () => {
    const h = buildStageHistory([entry('sql', 1), entry('meeting', 1)]);
    expect(h.ok && h.rows.map((r) => r.to)).toEqual(['mql', 'sql', 'meeting']);
  });
});

describe('stage update input', () => {
  const context = {
    stageNames: { ...DEFAULT_STAGE_NAMES, sql: 'Sales accepted' },
    currency: 'EUR',
    source: 'crm' as const,
    now: Date.parse('2026-01-10T00:00:00Z'),
  };

  it('accepts a key or a display name, a date or date-time, and fills the workspace currency', () => {
    const r = toStageUpdate({ email: 'a@b.co', stage: 'sales ACCEPTED', at: '2026-01-02', value: 10 }, context);
    expect(r).toMatchObject({
      ok: true,
      update: { stage: 'sql', at: Date.parse('2026-01-02T00:00:00Z'), currency: 'EUR' },
    });
    expect(parseInstant('2026-01-02 10:30:00')).toBe(Date.parse('2026-01-02T10:30:00Z'));
    expect(parseInstant('2026-01-02T10:30:00+02:00')).toBe(Date.parse('2026-01-02T08:30:00Z'));
    expect(parseInstant('02/01/2026')).toBeNull();
  });

  it('says what is wrong: no contact key, unknown stage with the allowed list, bad or future date', () => {
    expect(toStageUpdate({ stage: 'sql' }, context)).toMatchObject({ ok: false, field: 'contactId' });
    expect(toStageUpdate({ crmId: 'x', stage: 'negotiation' }, context)).toEqual({
      ok: false,
      field: 'stage',
      message: 'unknown stage "negotiation"; expected one of contact, mql, sql ("Sales accepted"), meeting, won, lost',
    });
    expect(toStageUpdate({ crmId: 'x', stage: 'won', at: 'yesterday' }, context)).toMatchObject({ field: 'at' });
    expect(toStageUpdate({ crmId: 'x', stage: 'won', at: '2027-01-01' }, context)).toMatchObject({
      field: 'at',
      message: '2027-01-01 is in the future',
    });
  });
});
