import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readContactRow } from '../../src/models/read-contact-row.js';
import { rescoreRead } from '../../src/models/rescore-rows.js';
import { accountScores } from '../../src/scoring/account-score.js';
import { assignChangeEvents, unnamedChangeTimes } from '../../src/scoring/assign-change-events.js';
import {
  backtestMetrics,
  recommendForCapacity,
  recommendForPrecision,
  rocAuc,
} from '../../src/scoring/backtest-metrics.js';
import { ByteReader, ByteWriter } from '../../src/scoring/byte-buffer.js';
import { decodeChangeLog, encodeChangeLog } from '../../src/scoring/change-log-codec.js';
import { compilePattern } from '../../src/scoring/compile-pattern.js';
import { decodeEventDigest, encodeEventDigest } from '../../src/scoring/event-digest-codec.js';
import { eventMayMatch, eventPrefilter } from '../../src/scoring/event-prefilter.js';
import { explainScore } from '../../src/scoring/explain-score.js';
import { matchEvent } from '../../src/scoring/match-condition.js';
import { formatModelError } from '../../src/scoring/model-error.js';
import { parseModelFile } from '../../src/scoring/parse-model-file.js';
import { recordedChanges, unpackChanges } from '../../src/scoring/recorded-changes.js';
import { replayContact } from '../../src/scoring/replay-contact.js';
import { scoreAt } from '../../src/scoring/score-at.js';
import { applyEvent, applyTraits, emptyOutput } from '../../src/scoring/score-contact.js';
import { emptyScoreState, type ScoreState } from '../../src/scoring/score-state.js';
import { decodeScoreState, encodeScoreState } from '../../src/scoring/score-state-codec.js';
import type { ScoreChange, ScoringEvent } from '../../src/scoring/scoring-event.js';
import type { ScoringModel } from '../../src/scoring/scoring-model.js';
import { prefixEnd } from '../../src/storage/sqlite/prefix-end.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5); // a Monday
const clock = { dayOf: (ms: number) => new Date(ms).toISOString().slice(0, 10) };

const MODEL = `name: test
half_life_days: 10
fit:
  - id: senior-title
    when: { trait: job_title, matches: "(?i)\\\\b(ceo|cto|vp)\\\\b" }
    points: 20
  - id: target-industry
    when: { trait: industry, in: [software, technology] }
    points: 15
  - id: size
    when: { trait: company_size, between: [50, 500] }
    points: 10
  - id: free-mail
    when: { trait: email, domain_in: [gmail.com] }
    points: -10
engagement:
  - id: pricing
    when: { event: page, path: { prefix: /pricing } }
    points: 15
    limit: { per: day, times: 1 }
  - id: demo
    when: { event: Demo Requested }
    points: 25
    limit: { per: ever }
  - id: webinar
    when: { event: track, name: { matches: "^Webinar" }, properties: { minutes: { between: [30, 600] } } }
    points: 10
    limit: { per: week, times: 2 }
    half_life_days: null
  - id: careers
    when: { event: page, path: { prefix: /careers } }
    points: -5
  - id: blog
    group: content
    when: { event: page, path: { prefix: /blog } }
    points: 5
caps:
  content: 10
thresholds: { mql: 50, nurture: 20, unqualified: 10 }
grades: { A: 40, B: 25, C: 10, engagement: { 1: 40, 2: 20, 3: 5 } }
categories:
  - id: customers
    category: existing_customer
    when: { trait: customer, equals: true }
triggers:
  - id: hot
    when: { score: { crosses_above: 60 } }
    then: [ { webhook: sales } ]
  - id: cooled
    when: { score: { crosses_below: 30 } }
    then: [ { webhook: sales } ]
  - id: a1
    when: { grade: { enters: A1 } }
    then: [ { webhook: sales } ]
`;

function model(text = MODEL): ScoringModel {
  const parsed = parseModelFile(text);
  if (!parsed.ok) throw new Error(parsed.errors.map(formatModelError).join('\n'));
  return parsed.model;
}

let n = 0;
const page = (path: string, at: number): ScoringEvent => ({
  id: `e${++n}`,
  type: 'page',
  name: null,
  path,
  url: `https://x.test${path}`,
  properties: {},
  at,
});
const track = (name: string, at: number, properties: Record<string, unknown> = {}): ScoringEvent => ({
  id: `e${++n}`,
  type: 'track',
  name,
  path: null,
  url: null,
  properties,
  at,
});

describe('model file', () => {
  it('names path, line and what is accepted for an unknown operator', () => {
    const text = MODEL.replace('path: { prefix: /pricing }', 'path: { prefx: /pricing }');
    const parsed = parseModelFile(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const line = text.split('\n').findIndex((l) => l.includes('prefx')) + 1;
    expect(parsed.errors.map(formatModelError)).toEqual([
      `engagement[0].when.path: unknown operator "prefx" (line ${line}); expected one of prefix, equals, matches`,
    ]);
  });

  it('reports every problem at once, each with its line', () => {
    const text = MODEL.replace('points: 20', 'points: lots')
      .replace('in: [software, technology]', 'inn: [software]')
      .replace('mql: 50', 'mql: 5');
    const parsed = parseModelFile(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const messages = parsed.errors.map(formatModelError);
    expect(messages.some((m) => /^fit\[0\]\.points: .*\(line 6\)/.test(m))).toBe(true);
  });

  it('refuses a regex that does not compile and one that could backtrack catastrophically', () => {
    expect(compilePattern('(unclosed').ok).toBe(false);
    const evil = parseModelFile(MODEL.replace('"(?i)\\\\b(ceo|cto|vp)\\\\b"', '"(a+)+$"'));
    expect(evil.ok).toBe(false);
    if (!evil.ok)
      expect(formatModelError(evil.errors[0]!)).toMatch(
        /fit\[0\]\.when\.matches: .*backtrack catastrophically.*\(line 5\)/,
      );
    expect(compilePattern('(?i)^/pricing').ok).toBe(true);
  });

  it('refuses bad YAML, unknown keys, duplicate ids and thresholds out of order', () => {
    const bad = (text: string) => {
      const p = parseModelFile(text);
      return p.ok ? [] : p.errors.map(formatModelError);
    };
    expect(bad('name: [unclosed')[0]).toMatch(/not valid YAML.*\(line 1\)/);
    expect(bad(MODEL.replace('half_life_days: 10', 'half_life_days: 10\nhalflife: 3'))[0]).toMatch(
      /halflife: unknown key "halflife" \(line 3\)/,
    );
    expect(bad(MODEL.replace('id: careers', 'id: pricing'))[0]).toMatch(
      /engagement\[3\]\.id: rule id "pricing" is used twice/,
    );
    expect(bad(MODEL.replace('unqualified: 10', 'unqualified: 70')).join()).toMatch(
      /unqualified \(70\) is above mql \(50\)/,
    );
    expect(bad(MODEL.replace('crosses_above: 60', 'crosses_abov: 60')).join()).toMatch(
      /unknown trigger condition "score.crosses_abov"/,
    );
  });
});

describe('scoring', () => {
  const m = model();

  it('scores fit from traits with every condition kind', () => {
    const state = emptyScoreState();
    const out = emptyOutput();
    applyTraits(
      m,
      state,
      { job_title: 'VP Sales', industry: 'Software', company_size: '120', email: 'a@gmail.com' },
      T0,
      out,
    );
    expect(scoreAt(m, state, T0).fit).toBe(20 + 15 + 10 - 10);
    applyTraits(
      m,
      state,
      { job_title: 'Intern', industry: 'Software', company_size: 120, email: 'a@acme.io' },
      T0 + DAY,
      out,
    );
    expect(scoreAt(m, state, T0 + DAY).fit).toBe(25);
    expect(out.changes.filter((c) => c.kind === 'fit').map((c) => [c.ruleId, c.points])).toEqual([
      ['senior-title', 20],
      ['target-industry', 15],
      ['size', 10],
      ['free-mail', -10],
      ['senior-title', -20],
      ['free-mail', 10],
    ]);
  });

  it('decays engagement by its half-life, not fit; a rule may opt out of decay', () => {
    const { state } = replayContact(
      m,
      {
        traits: { industry: 'software' },
        createdAt: T0,
        events: [page('/pricing', T0), track('Webinar Live', T0, { minutes: 45 })],
      },
      clock,
    );
    const later = scoreAt(m, state, T0 + 10 * DAY);
    expect(later.fit).toBe(15);
    expect(later.engagement).toBeCloseTo(15 / 2 + 10, 10);
    expect(scoreAt(m, state, T0 + 20 * DAY).engagement).toBeCloseTo(15 / 4 + 10, 10);
  });

  it('applies per-rule limits per day, per week and once ever, and caps a group', () => {
    const events = [
      page('/pricing', T0),
      page('/pricing/team', T0 + 1000),
      page('/pricing', T0 + DAY),
      track('Demo Requested', T0 + 2000),
      track('Demo Requested', T0 + DAY),
      track('Webinar A', T0 + 3000, { minutes: 40 }),
      track('Webinar B', T0 + 4000, { minutes: 40 }),
      track('Webinar C', T0 + 5000, { minutes: 40 }),
      track('Webinar D', T0 + 7 * DAY, { minutes: 40 }),
      track('Webinar short', T0 + 7 * DAY, { minutes: 5 }),
      ...[1, 2, 3, 4].map((i) => page(`/blog/${i}`, T0 + 6000 + i)),
    ];
    const { output } = replayContact(m, { traits: {}, createdAt: T0, events }, clock);
    const fired = (id: string) => output.changes.filter((c) => c.ruleId === id).length;
    expect(fired('pricing')).toBe(2);
    expect(fired('demo')).toBe(1);
    expect(fired('webinar')).toBe(3);
    expect(fired('blog')).toBe(4);
    const explained = explainScore(m, output.changes, T0 + 6010, false);
    expect(explained.contributions.find((c) => c.ruleId === 'cap:content')?.decayed).toBeCloseTo(-10, 6);
  });

  it('explains exactly the score it gives, now and at any past date, and replay equals event-by-event scoring', () => {
    const events = [
      page('/pricing', T0 + DAY),
      track('Demo Requested', T0 + 2 * DAY),
      page('/careers', T0 + 3 * DAY),
      page('/blog/a', T0 + 3 * DAY),
      page('/blog/b', T0 + 3 * DAY),
      page('/blog/c', T0 + 4 * DAY),
    ];
    const traits = { job_title: 'CTO', industry: 'software' };
    const replay = replayContact(m, { traits, createdAt: T0, events }, clock);
    const live = emptyScoreState();
    const out = emptyOutput();
    applyTraits(m, live, traits, T0, out);
    for (const e of events) applyEvent(m, live, e, clock, out);
    for (const at of [T0, T0 + 2 * DAY + 5, T0 + 4 * DAY, T0 + 30 * DAY]) {
      const fromState = scoreAt(m, replay.state, Math.max(at, T0 + 4 * DAY));
      expect(scoreAt(m, live, Math.max(at, T0 + 4 * DAY)).total).toBeCloseTo(fromState.total, 9);
      const explained = explainScore(m, out.changes, at, false);
      expect(explained.contributions.reduce((s, c) => s + c.decayed, 0)).toBeCloseTo(explained.total, 9);
    }
    const now = explainScore(m, out.changes, T0 + 30 * DAY, false);
    expect(now.total).toBeCloseTo(scoreAt(m, live, T0 + 30 * DAY).total, 9);
    expect(now.grade).toBe(scoreAt(m, live, T0 + 30 * DAY).grade);
    const before = explainScore(m, out.changes, T0 + DAY - 1, false);
    expect(before.total).toBe(35);
    expect(before.contributions.map((c) => c.ruleId).sort()).toEqual(['senior-title', 'target-industry']);
  });

  it('grades fit A–D by engagement 1–4 and keeps a lead category out of MQL', () => {
    const events = [track('Demo Requested', T0), page('/pricing', T0 + 1), page('/blog/1', T0 + 1)];
    const hot = replayContact(
      m,
      { traits: { job_title: 'CEO', industry: 'software', company_size: 100 }, createdAt: T0, events },
      clock,
    );
    const reading = scoreAt(m, hot.state, T0 + 1);
    expect(reading.grade).toBe('A1');
    expect(reading.status).toBe('mql');
    const customer = replayContact(
      m,
      { traits: { job_title: 'CEO', industry: 'software', company_size: 100, customer: true }, createdAt: T0, events },
      clock,
    );
    expect(scoreAt(m, customer.state, T0 + 1).total).toBe(reading.total);
    expect(scoreAt(m, customer.state, T0 + 1).status).toBe('nurture');
  });

  it('fires a trigger exactly once per crossing and re-arms it when the score falls back', () => {
    const state = emptyScoreState();
    const out = emptyOutput();
    applyTraits(m, state, { job_title: 'CEO', industry: 'software', company_size: 100 }, T0, out); // 45
    applyEvent(m, state, page('/pricing', T0), clock, out); // 60 → crosses 60
    applyEvent(m, state, page('/blog/x', T0 + 1), clock, out); // 65, still above: no new firing
    expect(out.firings.filter((f) => f.triggerId === 'hot')).toHaveLength(1);
    // Twenty days later engagement has decayed to a quarter: the score is below 60, the next award crosses again.
    applyEvent(m, state, page('/careers', T0 + 20 * DAY), clock, out);
    applyEvent(m, state, track('Demo Requested', T0 + 20 * DAY + 1), clock, out);
    expect(out.firings.filter((f) => f.triggerId === 'hot').map((f) => f.at)).toEqual([T0, T0 + 20 * DAY + 1]);
    expect(out.statusChanges.map((s) => s.to)).toContain('mql');
  });

  it('replays to the same state and changes when it reads the score only after the last matched event', () => {
    const event = fc.record({
      kind: fc.constantFrom('/pricing', '/blog/x', '/careers', '/other', 'Demo Requested', 'Webinar A', 'Other'),
      day: fc.integer({ min: 0, max: 60 }),
      ms: fc.integer({ min: 0, max: 5 }),
      minutes: fc.integer({ min: 0, max: 90 }),
    });
    const traits = fc.record({
      job_title: fc.constantFrom('CEO', 'Intern'),
      industry: fc.constantFrom('software', 'retail'),
      company_size: fc.integer({ min: 10, max: 1000 }),
      customer: fc.boolean(),
    });
    fc.assert(
      fc.property(traits, fc.array(event, { maxLength: 40 }), fc.integer({ min: 0, max: 70 }), (t, list, cut) => {
        const events = list.map((e) =>
          e.kind.startsWith('/')
            ? page(e.kind, T0 + e.day * DAY + e.ms)
            : track(e.kind, T0 + e.day * DAY + e.ms, { minutes: e.minutes }),
        );
        const history = { traits: t, createdAt: T0, events };
        const until = T0 + cut * DAY;
        const each = replayContact(m, history, clock, until);
        const last = replayContact(m, history, clock, until, { crossings: false });
        expect(last.state).toEqual(each.state);
        expect(last.output.changes).toEqual(each.output.changes);
        expect(last.output.firings).toEqual([]);
        expect(last.output.statusChanges).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('fires crosses_below only after the score was above', () => {
    const state = emptyScoreState();
    const out = emptyOutput();
    applyTraits(m, state, {}, T0, out);
    applyEvent(m, state, page('/careers', T0), clock, out);
    expect(out.firings.filter((f) => f.triggerId === 'cooled')).toHaveLength(0);
    applyEvent(m, state, track('Demo Requested', T0 + 1), clock, out);
    applyEvent(m, state, page('/pricing', T0 + 2), clock, out);
    applyEvent(m, state, page('/careers', T0 + 30 * DAY), clock, out);
    expect(out.firings.filter((f) => f.triggerId === 'cooled')).toHaveLength(1);
  });
});

describe('backtest metrics', () => {
  it('computes ROC AUC like a pairwise count with ties as halves', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const rows = Array.from({ length: 400 }, () => {
      const positive = rand() < 0.3;
      return { score: Math.round(rand() * 20 + (positive ? 5 : 0)), positive, at: 0 };
    });
    let wins = 0;
    let pairs = 0;
    for (const p of rows.filter((r) => r.positive)) {
      for (const q of rows.filter((r) => !r.positive)) {
        pairs++;
        wins += p.score > q.score ? 1 : p.score === q.score ? 0.5 : 0;
      }
    }
    expect(rocAuc(rows)).toBeCloseTo(wins / pairs, 12);
  });

  it('reports precision, recall, lift and recommends thresholds for a precision or a capacity', () => {
    const rows = [
      ...Array.from({ length: 10 }, (_, i) => ({ score: 90 + i, positive: true, at: T0 + i * DAY })),
      ...Array.from({ length: 10 }, (_, i) => ({ score: 50 + i, positive: i % 2 === 0, at: T0 + i * DAY })),
      ...Array.from({ length: 20 }, (_, i) => ({ score: i, positive: false, at: T0 + 13 * DAY })),
    ];
    const metrics = backtestMetrics(rows, [{ band: 'all', from: null, to: null }], [50]);
    expect(metrics.weeks).toBeCloseTo(13 / 7, 9);
    const at50 = metrics.thresholds.find((t) => t.threshold === 50)!;
    expect([at50.above, at50.truePositives, at50.precision, at50.recall]).toEqual([20, 15, 0.75, 1]);
    expect(metrics.deciles[0]!.lift).toBeCloseTo(1 / (15 / 40), 9);
    const precise = recommendForPrecision(metrics, 1);
    // 59 is a negative just above the mixed band: only from 90 up is every lead a positive.
    expect(precise.ok && precise.threshold).toBe(90);
    const capacity = recommendForCapacity(metrics, 5);
    expect(capacity.ok && capacity.row.above).toBeLessThanOrEqual(5 * metrics.weeks);
  });
});

describe('account scores', () => {
  const members = [
    { id: 'a', email: 'a@acme.io', traits: { company: 'Acme' }, score: 50 },
    { id: 'b', email: 'b@acme.io', traits: { company: 'ACME ' }, score: 30 },
    { id: 'c', email: 'c@acme.io', traits: {}, score: 20 },
    { id: 'd', email: 'd@acme.io', traits: {}, score: 10 },
    { id: 'e', email: 'e@gmail.com', traits: { company: 'Solo' }, score: 90 },
  ];
  it('groups by email domain without personal mailboxes and sums the best three by default', () => {
    expect(accountScores({ key: 'email_domain', companyTrait: 'company', aggregate: 'top3' }, members)).toEqual([
      {
        account: 'acme.io',
        score: 100,
        contacts: 4,
        top: [
          { id: 'a', score: 50 },
          { id: 'b', score: 30 },
          { id: 'c', score: 20 },
        ],
      },
    ]);
    expect(accountScores({ key: 'email_domain', companyTrait: 'company', aggregate: 'sum' }, members)[0]!.score).toBe(
      110,
    );
  });
  it('groups by a company trait, case and blanks aside', () => {
    const byCompany = accountScores({ key: 'company', companyTrait: 'company', aggregate: 'max' }, members);
    expect(byCompany.map((a) => [a.account, a.score, a.contacts])).toEqual([
      ['solo', 90, 1],
      ['acme', 50, 2],
    ]);
  });
});

describe('event prefilter', () => {
  const rules = (lines: string) => model(`name: p\nengagement:\n${lines}thresholds: { mql: 50 }\n`);
  it('narrows on type, name and path, leaving regex tests to the rules', () => {
    const only = eventPrefilter([
      rules(`  - id: a
    when: { event: page, path: { prefix: /pricing } }
    points: 1
  - id: b
    when: { event: Demo Requested }
    points: 1
  - id: c
    when: { event: page, path: { matches: "^/docs" } }
    points: 1
`),
    ]);
    expect(only).toEqual([
      { type: 'page', name: null, path: { op: 'prefix', value: '/pricing' } },
      { type: 'track', name: { op: 'equals', value: 'Demo Requested' }, path: null },
      { type: 'page', name: null, path: null },
    ]);
  });
  it('reads every event when a rule can match any, and none when no rule looks at events', () => {
    const any = rules(`  - id: u
    when: { name: { matches: "^Demo" } }
    points: 1
`);
    expect(any.engagement[0]!.when.type).toBeNull();
    expect(eventPrefilter([model(), any])).toBeNull();
    expect(
      eventPrefilter([
        model(
          'name: p\nfit:\n  - id: f\n    when: { trait: t, exists: true }\n    points: 1\nthresholds: { mql: 50 }\n',
        ),
      ]),
    ).toEqual([]);
  });
  it('lets the same events through in memory as the database read does', () => {
    const only = eventPrefilter([
      rules(`  - id: a
    when: { event: page, path: { prefix: /pricing } }
    points: 1
  - id: b
    when: { event: Demo Requested }
    points: 1
  - id: c
    when: { name: { equals: Home }, event: page }
    points: 1
`),
    ]);
    expect(eventMayMatch(only, 'page', null, '/pricing/team')).toBe(true);
    expect(eventMayMatch(only, 'page', null, '/Pricing')).toBe(false);
    expect(eventMayMatch(only, 'page', null, null)).toBe(false);
    expect(eventMayMatch(only, 'page', 'Home', '/')).toBe(true);
    expect(eventMayMatch(only, 'track', 'Demo Requested', null)).toBe(true);
    expect(eventMayMatch(only, 'track', 'demo requested', null)).toBe(false);
    expect(eventMayMatch(only, 'screen', 'Demo Requested', null)).toBe(false);
    expect(eventMayMatch(null, 'identify', null, null)).toBe(true);
    expect(eventMayMatch([], 'page', null, '/pricing')).toBe(false);
  });
  it('tests a prefix on SQLite as a range of its byte order that holds exactly the texts starting with it', () => {
    expect(prefixEnd('/pricing')).toBe('/pricinh');
    expect(prefixEnd('/\u{1F600}')).toBe('/\u{1F601}');
    expect(prefixEnd('a\u{D7FF}')).toBe('a\u{E000}');
    expect(prefixEnd('')).toBeNull();
    expect(prefixEnd('a\u{10FFFF}')).toBeNull();
    expect(prefixEnd('a\uD800')).toBeNull();
    // SQLite compares text as UTF-8 bytes (BINARY); JavaScript's startsWith is the rule's own test.
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    const text = fc.string({ unit: 'binary', maxLength: 6 });
    fc.assert(
      fc.property(text, text, fc.boolean(), (prefix, rest, extend) => {
        const end = prefixEnd(prefix);
        fc.pre(end !== null);
        // Half the texts start with the prefix; the others fall anywhere, near it or not.
        const value = extend ? prefix + rest : rest;
        const inRange =
          Buffer.compare(bytes(value), bytes(prefix)) >= 0 && Buffer.compare(bytes(value), bytes(end!)) < 0;
        expect(inRange).toBe(value.startsWith(prefix));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('byte buffer varints', () => {
  const bytesOf = (n: number) => {
    const out = new ByteWriter();
    out.varint(n);
    return Array.from(out.done());
  };
  it('writes seven bits a byte, low bits first, on both sides of 2^28 and 2^31, and reads each back', () => {
    expect(bytesOf(0)).toEqual([0]);
    expect(bytesOf(127)).toEqual([127]);
    expect(bytesOf(128)).toEqual([0x80, 1]);
    expect(bytesOf(2 ** 28 - 1)).toEqual([0xff, 0xff, 0xff, 0x7f]);
    expect(bytesOf(2 ** 28)).toEqual([0x80, 0x80, 0x80, 0x80, 1]);
    expect(bytesOf(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 7]);
    expect(bytesOf(2 ** 31)).toEqual([0x80, 0x80, 0x80, 0x80, 8]);
    expect(bytesOf(2 ** 53 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    fc.assert(
      fc.property(fc.array(fc.maxSafeNat(), { maxLength: 20 }), (values) => {
        const out = new ByteWriter();
        for (const n of values) out.varint(n);
        const from = new ByteReader(out.done(), 'test');
        expect(values.map(() => from.varint())).toEqual(values);
        expect(from.atEnd()).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
  it('refuses a varint cut off or longer than nine bytes', () => {
    expect(() => new ByteReader(Uint8Array.from([0x80, 0x80]), 'test').varint()).toThrow('test: cut off');
    expect(() => new ByteReader(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80]), 'test').varint()).toThrow(
      'test: cut off',
    );
    expect(() => new ByteReader(Uint8Array.from(Array(10).fill(0x80)), 'test').varint()).toThrow(
      'test: a number is too long',
    );
  });
});

describe('event digest', () => {
  const decode = (digest: ReturnType<typeof encodeEventDigest>) => {
    const events: Array<{ type: string; name: string | null; path: string | null; at: number }> = [];
    const keys = new Map<string, number>();
    decodeEventDigest(digest, (type, name, path, at, key) => {
      events.push({ type, name, path, at });
      // One number per combination of type, name and path, and one combination per number.
      const combination = JSON.stringify([type, name, path]);
      expect(keys.get(combination) ?? key).toBe(key);
      keys.set(combination, key);
    });
    expect(new Set(keys.values()).size).toBe(keys.size);
    return events;
  };
  it('gives back every event in its order, times out of order and texts of any kind included', () => {
    const events = [
      { type: 'page', name: null, path: '/pricing', at: Date.UTC(2026, 0, 1) },
      { type: 'page', name: null, path: '/pricing', at: Date.UTC(2026, 0, 1) },
      { type: 'track', name: 'Demo Requested', path: null, at: Date.UTC(2025, 11, 31) },
      { type: 'page', name: 'Home', path: '/\u{1F600}/ü', at: Date.UTC(2026, 0, 2) },
      { type: 'identify', name: null, path: null, at: -5 },
      { type: 'track', name: '', path: '"quoted"\\', at: 2 ** 52 },
    ];
    const digest = encodeEventDigest(events);
    expect(decode(digest)).toEqual(events);
    expect(JSON.parse(digest.terms)).toHaveLength(9);
    expect(decode(encodeEventDigest([]))).toEqual([]);
    const event = fc.record({
      type: fc.constantFrom('page', 'track', 'identify'),
      name: fc.option(fc.string({ unit: 'binary', maxLength: 4 })),
      path: fc.option(fc.string({ maxLength: 4 })),
      at: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (list) => {
        expect(decode(encodeEventDigest(list))).toEqual(list);
      }),
      { numRuns: 500 },
    );
  });
  it("tells a rescore which rules each of a digest's events meets, and the replay scores the same with it", () => {
    // The shared model (prefixes, an exact name, limits of every kind, a negative rule, a capped group) and two rules
    // more that a digest's events can meet: a path regex that overlaps a prefix, and a name regex without the
    // property test the shared webinar rule has (a digest keeps no properties, so that one never matches here).
    const digestModel = model(
      MODEL.replace(
        'engagement:\n',
        `engagement:
  - id: team-plans
    when: { event: page, path: { matches: "^/pricing/(team|enterprise)$" } }
    points: 7
  - id: any-webinar
    when: { event: track, name: { matches: "^Webinar" } }
    points: 3
    limit: { per: week, times: 2 }
`,
      ),
    );
    expect(digestModel.engagement.map((rule) => rule.id)).toContain('team-plans');
    const setup = { model: digestModel, version: 1, workspaceId: 'w', timeZone: 'UTC', now: T0 + 70 * DAY };
    const read = rescoreRead(setup);
    expect(read.engagement).toBe(digestModel.engagement);
    const { engagement: _, ...withoutRules } = read;
    const event = fc.record({
      kind: fc.constantFrom(
        '/pricing',
        '/pricing/team',
        '/pricing/enterprise',
        '/blog/x',
        '/careers',
        '/other',
        'Demo Requested',
        'Webinar A',
        'Webinar B',
        'Other',
      ),
      day: fc.integer({ min: 0, max: 80 }),
      ms: fc.integer({ min: 0, max: 5 }),
    });
    let carried = 0;
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (list) => {
        const events = list
          .map((e) => ({
            type: e.kind.startsWith('/') ? 'page' : 'track',
            name: e.kind.startsWith('/') ? null : e.kind,
            path: e.kind.startsWith('/') ? e.kind : null,
            at: T0 + e.day * DAY + e.ms,
          }))
          .sort((a, b) => a.at - b.at);
        const digest = encodeEventDigest(events);
        const row = {
          id: 'c1',
          traits: '{}',
          created_at: T0,
          stage: 'contact',
          events: null,
          digest_terms: digest.terms,
          digest_data: digest.data,
        };
        const told = readContactRow(row, read).history;
        const tested = readContactRow(row, withoutRules).history;
        expect(tested.events.every((e) => e.matches === undefined)).toBe(true);
        expect(told.events.map(({ matches: _m, ...e }) => e)).toEqual(tested.events);
        for (const e of told.events) {
          expect(e.matches).toEqual(digestModel.engagement.map((rule) => matchEvent(rule.when, e)));
          carried += 1;
        }
        const clockAt = setup.now;
        const a = replayContact(digestModel, told, clock, clockAt, { crossings: false });
        const b = replayContact(digestModel, tested, clock, clockAt, { crossings: false });
        expect(a.state).toEqual(b.state);
        expect(a.output.changes).toEqual(b.output.changes);
      }),
      { numRuns: 500 },
    );
    expect(carried).toBeGreaterThan(1000);
  });
  it('numbers terms past 127 in more than one byte, and reads every cut of such a digest as cut off or shorter', () => {
    const events = Array.from({ length: 150 }, (_, i) => ({
      type: i % 3 === 0 ? 'page' : 'track',
      name: i % 3 === 0 ? null : `Event ${i % 120}`,
      path: `/p/${i}`,
      at: Date.UTC(2026, 0, 1) + (i % 7) * 3_600_000 * (i % 2 === 0 ? 1 : -1) * i,
    }));
    const digest = encodeEventDigest(events);
    expect(JSON.parse(digest.terms).length).toBeGreaterThan(200);
    expect(decode(digest)).toEqual(events);
    for (let length = 0; length < digest.data.length; length++) {
      const cut = { ...digest, data: digest.data.subarray(0, length) };
      let got: ReturnType<typeof decode> | null = null;
      try {
        got = decode(cut);
      } catch (error) {
        expect(String(error)).toMatch(/cut off/);
      }
      // Cut between two events, a digest is the events before the cut.
      if (got !== null) expect(got).toEqual(events.slice(0, got.length));
    }
    const tooLong = Uint8Array.from([...Array(9).fill(0xff), 0x01, 1, 0, 0]);
    expect(() => decode({ terms: '["page"]', data: tooLong })).toThrow(/too long/);
    const termTooLong = Uint8Array.from([2, ...Array(9).fill(0xff), 0x01, 0, 0]);
    expect(() => decode({ terms: '["page"]', data: termTooLong })).toThrow(/too long/);
  });
  it('refuses a time that is not a whole millisecond, and a damaged digest', () => {
    expect(() => encodeEventDigest([{ type: 'page', name: null, path: null, at: 1.5 }])).toThrow(/not an integer/);
    const digest = encodeEventDigest([{ type: 'page', name: 'A', path: '/a', at: 1000 }]);
    expect(() => decode({ ...digest, data: digest.data.subarray(0, digest.data.length - 1) })).toThrow(/cut off/);
    expect(() => decode({ ...digest, terms: '["page"]' })).toThrow(/not listed/);
  });
});

describe('score state codec', () => {
  const number = fc.oneof(
    fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
    fc.double(),
    fc.constantFrom(0, -0, 2 ** 51 - 1, 2 ** 51, -(2 ** 51), 1.5),
  );
  const id = fc.string({ unit: 'binary', maxLength: 6 });
  const state = fc.record({
    fit: fc.dictionary(id, number),
    buckets: fc.array(fc.record({ group: id, halfLifeDays: fc.option(number), value: number, at: number }), {
      maxLength: 4,
    }),
    counts: fc.dictionary(
      id,
      fc.record({ ever: number, day: fc.string(), inDay: number, week: fc.string(), inWeek: number }),
    ),
    category: fc.option(fc.constantFrom('customer', 'competitor', 'partner', 'non_potential')),
    lastEventAt: number,
    armed: fc.dictionary(id, fc.boolean()),
    grade: fc.option(fc.string({ maxLength: 3 })),
    status: fc.option(fc.constantFrom('mql', 'nurture', 'unqualified', 'none')),
  }) as fc.Arbitrary<ScoreState>;

  it('gives back every state exactly, keys in their order, -0, NaN and large numbers included', () => {
    fc.assert(
      fc.property(state, (s) => {
        const back = decodeScoreState(encodeScoreState(s));
        expect(back).toEqual(s);
        expect(Object.keys(back.fit)).toEqual(Object.keys(s.fit));
        expect(Object.keys(back.counts)).toEqual(Object.keys(s.counts));
      }),
      { numRuns: 500 },
    );
  });

  it('stores a replayed state in a third of the room of its JSON, and still reads JSON stored before', () => {
    const events = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0
        ? track(i % 2 ? 'Demo Requested' : 'Webinar A', T0 + i * DAY, { minutes: 45 })
        : page(i % 2 ? '/pricing' : '/blog/x', T0 + i * DAY),
    );
    const history = { traits: { job_title: 'CEO', industry: 'software', company_size: 120 }, createdAt: T0, events };
    const { state: replayed } = replayContact(model(), history, clock, T0 + 60 * DAY);
    const json = JSON.stringify(replayed);
    const packed = encodeScoreState(replayed);
    expect(replayed.buckets.length).toBeGreaterThan(0);
    expect(packed.length * 2.5).toBeLessThan(json.length);
    expect(decodeScoreState(packed)).toEqual(replayed);
    // Rows written before the binary form: JSON text (SQLite), or its UTF-8 bytes (PostgreSQL's bytea column).
    expect(decodeScoreState(json)).toEqual(replayed);
    expect(decodeScoreState(new TextEncoder().encode(json))).toEqual(replayed);
  });

  it('refuses a damaged state', () => {
    const packed = encodeScoreState({ ...emptyScoreState(), fit: { senior: 20 }, grade: 'B2' });
    expect(() => decodeScoreState(packed.subarray(0, packed.length - 1))).toThrow(/cut off/);
    expect(() => decodeScoreState(Uint8Array.of(...packed, 0))).toThrow(/left over/);
    expect(() => decodeScoreState(Uint8Array.of(9, ...packed.subarray(1)))).toThrow(/unknown format 9/);
  });
});

describe('recorded score changes', () => {
  it('names the event behind a change recorded without one by rule and time, and leaves it unnamed where none fits', () => {
    const m = model();
    const change = (ruleId: string, at: number, kind: 'fit' | 'engagement' = 'engagement'): ScoreChange => ({
      ruleId,
      kind,
      group: kind,
      points: 1,
      halfLifeDays: null,
      eventId: null,
      at,
    });
    const views = [page('/pricing', 10), page('/blog/a', 10), page('/pricing/x', 20)];
    const named = assignChangeEvents(
      m,
      [
        change('senior-title', 5, 'fit'),
        change('pricing', 10),
        change('blog', 10),
        change('pricing', 20),
        // No second pricing view at 20, no event at 30, no such rule: each stays unnamed.
        change('pricing', 20),
        change('demo', 30),
        change('gone', 10),
        { ...change('careers', 40), eventId: 'kept' },
      ],
      views,
    );
    expect(named.map((c) => c.eventId)).toEqual([
      null,
      views[0]!.id,
      views[1]!.id,
      views[2]!.id,
      null,
      null,
      null,
      'kept',
    ]);
    expect(unnamedChangeTimes(named)).toEqual([20, 30, 10]);
  });
  const changes = [
    {
      ruleId: 'senior',
      kind: 'fit',
      group: 'fit',
      points: 20,
      halfLifeDays: null,
      eventId: null,
      at: 1_700_000_000_000,
    },
    {
      ruleId: 'pricing',
      kind: 'engagement',
      group: 'web',
      points: 15,
      halfLifeDays: 30,
      eventId: '0190a5c4-7f3e-7c1a-9b2d-4e5f6a7b8c9d',
      at: 1_700_000_100_000,
    },
    {
      ruleId: 'pricing',
      kind: 'engagement',
      group: 'web',
      points: 15,
      halfLifeDays: 30,
      eventId: 'e2',
      at: 1_699_999_000_000,
    },
    {
      ruleId: 'senior',
      kind: 'fit',
      group: 'fit',
      points: -20,
      halfLifeDays: null,
      eventId: null,
      at: 1_700_000_200_000,
    },
  ] satisfies ScoreChange[];

  it('round-trip through the change log, each rule named once, a canonical UUID in 16 bytes', () => {
    const log = encodeChangeLog(changes);
    expect(decodeChangeLog(log)).toEqual(changes);
    expect(
      Buffer.from(log)
        .toString('latin1')
        .match(/pricing/g),
    ).toHaveLength(1);
    expect(Buffer.from(log).includes('0190a5c4')).toBe(false);
    expect(decodeChangeLog(encodeChangeLog([]))).toEqual([]);
    // A third of the JSON the rescore wrote before.
    const json = JSON.stringify({
      rules: [
        ['senior', 'f', 'fit', null],
        ['pricing', 'e', 'web', 30],
      ],
      changes: changes.map((c) => [c.ruleId === 'senior' ? 0 : 1, c.points, c.eventId, c.at]),
    });
    expect(log.length).toBeLessThan(json.length / 2);
  });

  it('keep odd event ids, fractional and negative numbers, and one id under both kinds apart', () => {
    const odd = [
      { ruleId: 'x', kind: 'fit', group: 'fit', points: 2.5, halfLifeDays: null, eventId: null, at: 1 },
      {
        ruleId: 'x',
        kind: 'engagement',
        group: 'web',
        points: -0.125,
        halfLifeDays: 7.5,
        eventId: 'a"b\\c\u2028ü',
        at: 2.5,
      },
      { ruleId: 'x', kind: 'engagement', group: 'other', points: 1e-7, halfLifeDays: null, eventId: '', at: -3 },
      {
        ruleId: 'ü',
        kind: 'engagement',
        group: 'engagement',
        points: -0,
        halfLifeDays: 14,
        eventId: 'x'.repeat(300),
        at: 0,
      },
      // Upper-case and non-canonical UUIDs stay text, so they come back as they were sent.
      {
        ruleId: 'u',
        kind: 'engagement',
        group: 'engagement',
        points: 1,
        halfLifeDays: 1,
        eventId: '0190A5C4-7F3E-7C1A-9B2D-4E5F6A7B8C9D',
        at: 2 ** 60,
      },
      {
        ruleId: 'u',
        kind: 'engagement',
        group: 'engagement',
        points: 1,
        halfLifeDays: 1,
        eventId: '0190a5c47f3e7c1a9b2d4e5f6a7b8c9d',
        at: -(2 ** 60),
      },
    ] satisfies ScoreChange[];
    expect(decodeChangeLog(encodeChangeLog(odd))).toEqual(odd);
  });

  it('round-trip any changes (property test)', () => {
    const change = fc.record({
      ruleId: fc.constantFrom('a', 'b', 'pricing-page', 'ü'),
      kind: fc.constantFrom('fit' as const, 'engagement' as const),
      group: fc.constantFrom('fit', 'engagement', 'web'),
      points: fc.oneof(fc.integer({ min: -100, max: 100 }), fc.double({ noNaN: true })),
      halfLifeDays: fc.option(
        fc.oneof(fc.integer({ min: 1, max: 365 }), fc.double({ noNaN: true, min: 0.01, max: 1000 })),
      ),
      eventId: fc.option(fc.oneof(fc.uuid(), fc.string(), fc.string({ unit: 'grapheme' }))),
      at: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double({ noNaN: true })),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 40 }), (list) => {
        expect(decodeChangeLog(encodeChangeLog(list))).toEqual(list);
      }),
    );
  });

  it('refuse a damaged log instead of reading garbage', () => {
    const log = encodeChangeLog(changes);
    expect(() => decodeChangeLog(log.subarray(0, log.length - 1))).toThrow(/cut off/);
    expect(() => decodeChangeLog(Uint8Array.of(9))).toThrow(/unknown format 9/);
    expect(() => decodeChangeLog(Uint8Array.from([...log, 0]))).toThrow(/bytes left/);
  });

  it('read the JSON that rescores wrote before, and prefer the change log when a row has one', () => {
    const text =
      '{"rules":[["senior","f","fit",null],["pricing","e","web",30]],"changes":[[0,20,null,1],[1,15,"e1",2],[0,-20,null,4]]}';
    const fromJson = [
      { ruleId: 'senior', kind: 'fit', group: 'fit', points: 20, halfLifeDays: null, eventId: null, at: 1 },
      { ruleId: 'pricing', kind: 'engagement', group: 'web', points: 15, halfLifeDays: 30, eventId: 'e1', at: 2 },
      { ruleId: 'senior', kind: 'fit', group: 'fit', points: -20, halfLifeDays: null, eventId: null, at: 4 },
    ];
    expect(unpackChanges(text)).toEqual(fromJson);
    expect(recordedChanges({ packed_changes: text, change_log: null })).toEqual(fromJson);
    expect(recordedChanges({ packed_changes: null, change_log: encodeChangeLog(changes) })).toEqual(changes);
    expect(recordedChanges({ packed_changes: null, change_log: null })).toEqual([]);
  });
});
