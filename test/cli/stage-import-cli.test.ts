import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA, requireShared } from '../support/captures.js';
import { kerma } from '../support/run-kerma.js';

const MQLS = join(DATA, 'olist', 'olist_marketing_qualified_leads_dataset.csv');
const DEALS = join(DATA, 'olist', 'olist_closed_deals_dataset.csv');

// The reference table of ../shared/data/README.md: origin → MQLs, won, median cycle days.
const REFERENCE: Record<string, [number, number, number]> = {
  organic_search: [2296, 271, 14.9],
  paid_search: [1586, 195, 15.7],
  social: [1350, 75, 30.6],
  unknown: [1099, 179, 11.8],
  direct_traffic: [499, 56, 10.6],
  email: [493, 15, 21.1],
  referral: [284, 24, 19.4],
  other: [150, 4, 9.6],
  display: [118, 6, 9.2],
  other_publicities: [65, 3, 35.8],
  '(blank)': [60, 14, 8.1],
};
// The same table's conversion % and declared monthly revenue of the won deals.
const REFERENCE_MONEY: Record<string, [number, number]> = {
  organic_search: [11.8, 51_426_000],
  paid_search: [12.3, 9_169_000],
  social: [5.56, 501_000],
  unknown: [16.29, 463_006],
  direct_traffic: [11.22, 60_000],
  email: [3.04, 15_000],
  referral: [8.45, 0],
  other: [2.67, 0],
  display: [5.08, 0],
  other_publicities: [4.62, 0],
  '(blank)': [23.33, 150_000],
};

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

describe('kerma import stages (built, on the Olist funnel)', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    requireShared(MQLS);
    dir = mkdtempSync(join(tmpdir(), 'kerma-stages-'));
    db = join(dir, 'olist.db');
    expect(kerma(['workspace', 'create', 'Olist', '--json', '--db', db]).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Nine runs of the built CLI on the full Olist files: about 25 s on a 2-core machine, more when it is busy.
  it('imports 8 000 MQLs and 842 won deals; the stage history reproduces the reference table', () => {
    const contacts = kerma([
      'import',
      'contacts',
      MQLS,
      '--db',
      db,
      '--id',
      'mql_id',
      '--created-at',
      'first_contact_date',
      '--channel',
      'origin',
    ]);
    expect(contacts.code, contacts.stderr).toBe(0);
    const mql = kerma([
      'import',
      'stages',
      MQLS,
      '--db',
      db,
      '--crm-id',
      'mql_id',
      '--set-stage',
      'mql',
      '--at',
      'first_contact_date',
    ]);
    expect(mql.code, mql.stderr).toBe(0);
    expect(mql.stdout).toMatch(/^8000 rows: 8000 applied, /);
    expect(mql.stderr).toMatch(/stage changes: done/);
    const wonArgs = [
      'import',
      'stages',
      DEALS,
      '--db',
      db,
      '--crm-id',
      'mql_id',
      '--set-stage',
      'won',
      '--at',
      'won_date',
      '--value',
      'declared_monthly_revenue',
      '--owner',
      'sr_id',
    ];
    const won = kerma(wonArgs);
    expect(won.code, won.stderr).toBe(0);
    // One deal is won before its MQL date in the source data: the won is kept (MQL counted as reached when it was
    // won) and the MQL change dated after the win drops out of the history.
    expect(won.stdout).toMatch(/^842 rows: 842 applied, 0 unchanged, 0 ignored/);

    const sqlite = new Database(db, { readonly: true });
    const rows = sqlite
      .prepare(
        `select json_extract(c.traits, '$.origin') as origin, c.stage,
                (select min(at) from stage_changes s where s.workspace_id = c.workspace_id and s.contact_id = c.id and s.to_stage = 'mql') as mql_at,
                (select min(at) from stage_changes s where s.workspace_id = c.workspace_id and s.contact_id = c.id and s.to_stage = 'won') as won_at
         from contacts c`,
      )
      .all() as Array<{ origin: string | null; stage: string; mql_at: number | null; won_at: number | null }>;
    sqlite.close();
    const groups = new Map<string, { mql: number; cycles: number[] }>();
    for (const r of rows) {
      const key = r.origin ?? '(blank)';
      const g = groups.get(key) ?? { mql: 0, cycles: [] };
      if (r.mql_at !== null) g.mql++;
      if (r.won_at !== null) g.cycles.push((r.won_at - r.mql_at!) / 86_400_000);
      groups.set(key, g);
    }
    const measured = Object.fromEntries(
      [...groups].map(([k, g]) => [k, [g.mql, g.cycles.length, Math.round(median(g.cycles) * 10) / 10]]),
    );
    expect(measured).toEqual(REFERENCE);
    expect(rows.filter((r) => r.stage === 'won')).toHaveLength(842);

    // The funnel report by channel (origin) says the same, with conversion % and revenue, for every origin and the total.
    const report = kerma([
      'report',
      'funnel',
      '--db',
      db,
      '--from',
      '2017-01-01',
      '--to',
      '2018-12-31',
      '--format',
      'json',
    ]);
    expect(report.code, report.stderr).toBe(0);
    const funnel = JSON.parse(report.stdout) as {
      rows: Array<{
        key: string;
        mql: number;
        won: number;
        revenue: number;
        rates: { mqlToWon: number };
        medianCycleDays: number;
      }>;
      total: { mql: number; won: number; rates: { mqlToWon: number }; medianCycleDays: number };
    };
    const byKey = Object.fromEntries(
      funnel.rows.map((r) => [
        r.key === '(none)' ? '(blank)' : r.key,
        [r.mql, r.won, Math.round(r.medianCycleDays * 10) / 10, Math.round(r.rates.mqlToWon * 10_000) / 100, r.revenue],
      ]),
    );
    expect(byKey).toEqual(
      Object.fromEntries(Object.entries(REFERENCE).map(([k, v]) => [k, [...v, ...REFERENCE_MONEY[k]!]])),
    );
    expect(funnel.total).toMatchObject({ mql: 8000, won: 842 });
    // 842 / 8000 = 10.525 %, which the reference prints as 10.52.
    expect(Math.abs(funnel.total.rates.mqlToWon * 100 - 10.52)).toBeLessThanOrEqual(0.005 + 1e-9);
    expect(Math.round(funnel.total.medianCycleDays * 10) / 10).toBe(14.7);
    const table = kerma(['report', 'funnel', '--db', db, '--from', '2017-01-01', '--to', '2018-12-31']);
    expect(table.stdout).toMatch(/│ organic_search\s+│\s+2296 │\s+2296 │\s+271 │/);

    const findings = kerma(['report', 'findings', '--db', db, '--from', '2017-01-01', '--to', '2018-12-31']);
    expect(findings.code, findings.stderr).toBe(0);
    expect(findings.stdout).toContain(
      '- organic_search: 271 became deals worth €51 426 000, the most of any channel.\n',
    );
    // (2296 − 271) / 2296 = 88.2 %
    expect(findings.stdout).toContain('- organic_search brought the most leads (2 296) but 88% stayed at MQL.\n');
    // other 4 / 150 = 2.67 % against the blank origin's 14 / 60 = 23.33 %
    expect(findings.stdout).toContain(
      '- other converts 8.8× worse than Contacts without a known source (2.7% vs 23.3% of MQLs won).\n',
    );

    // A re-run applies nothing twice.
    const again = kerma(wonArgs);
    expect(again.stdout).toMatch(
      /^842 rows: 0 applied, 0 unchanged, 0 ignored \(back after won\/lost\), 842 already imported/,
    );
  }, 120_000);

  it('names missing columns with line 1, and bad rows with their line, keeping the good ones (exit 3)', () => {
    const file = join(dir, 'stages.csv');
    writeFileSync(
      file,
      'email,stage,at,amount\nnew@x.co,Closed Won,2026-01-01,10\nb@x.co,won,2026-01-02,abc\nc@x.co,negotiation,2026-01-02,5\n,won,2026-01-01,1\nd@x.co,won,01/02/2026,1\n',
    );
    const missing = kerma(['import', 'stages', file, '--db', db, '--email', 'email', '--stage', 'phase']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /line 1: missing column\(s\) "phase"; the header has "email", "stage", "at", "amount"/,
    );
    const r = kerma([
      'import',
      'stages',
      file,
      '--db',
      db,
      '--email',
      'email',
      '--stage',
      'stage',
      '--at',
      'at',
      '--value',
      'amount',
      '--stage-map',
      'Closed Won=won',
      '--create-missing',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(
      '5 rows: 1 applied, 0 unchanged, 0 ignored (back after won/lost), 0 already imported, 1 contacts created, 4 rejected',
    );
    expect(r.stdout).toContain('line 3: "abc" in column "amount" is not an amount');
    expect(r.stdout).toContain(
      'line 4: column "stage": unknown stage "negotiation"; expected one of contact, mql, sql, meeting, won, lost',
    );
    expect(r.stdout).toContain('line 5: no value in column "email"');
    expect(r.stdout).toContain('line 6: column "at": "01/02/2026" is not a date');
  });

  it('exports offline conversions to a file and says what it left out; bad options exit 2', () => {
    const out = join(dir, 'google.csv');
    const r = kerma([
      'export',
      'offline-conversions',
      '--db',
      db,
      '--format',
      'google-ads',
      '--stage',
      'won',
      '--from',
      '2018-01-01',
      '--to',
      '2018-12-31',
      '--output',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    // Olist has no ad clicks: every won deal of 2018 is left out, and said so.
    expect(r.stderr).toMatch(
      /^0 conversion\(s\) exported to .*google\.csv; left out: \d+ without a Google click id\n$/,
    );
    expect(readFileSync(out, 'utf8')).toBe(
      'Parameters:TimeZone=+0000\nGoogle Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\n',
    );
    const bad = kerma([
      'export',
      'offline-conversions',
      '--db',
      db,
      '--format',
      'tiktok',
      '--stage',
      'won',
      '--from',
      '2018-01-01',
      '--to',
      '2018-12-31',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format: Invalid option: expected one of "google-ads"\|"meta"/);
  });
});
