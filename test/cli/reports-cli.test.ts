import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA, requireShared } from '../support/captures.js';
import { kerma } from '../support/run-kerma.js';

const FACEBOOK = join(DATA, 'facebook-ads', 'kag_conversion_data.csv');

// ../shared/data/README.md, Facebook ads by xyz_campaign_id:
// impressions, clicks, spent, conversions, approved, CTR %, CPC, CPL, cost per approved.
const REFERENCE: Record<string, number[]> = {
  '916': [482_925, 113, 149.71, 58, 24, 0.0234, 1.3249, 2.5812, 6.2379],
  '936': [8_128_187, 1984, 2893.37, 537, 183, 0.0244, 1.4584, 5.388, 15.8108],
  '1178': [204_823_716, 36_068, 55_662.15, 2669, 872, 0.0176, 1.5433, 20.8551, 63.8327],
};

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

describe('kerma import spend and kerma report kpis (built, on the Facebook ads data)', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    requireShared(FACEBOOK);
    dir = mkdtempSync(join(tmpdir(), 'kerma-kpis-'));
    db = join(dir, 'kpis.db');
    expect(kerma(['workspace', 'create', 'Ads', '--json', '--db', db]).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports the Facebook export as spend; CTR, CPC, CPL and cost per approved per campaign equal the reference', () => {
    const noDate = kerma(['import', 'spend', FACEBOOK, '--db', db]);
    expect(noDate.code).toBe(2);
    expect(noDate.stderr).toMatch(/Facebook ads export without dates: say which day it is with --date YYYY-MM-DD/);
    const r = kerma(['import', 'spend', FACEBOOK, '--db', db, '--date', '2026-01-15']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1143 rows (facebook format): 1143 stored, 0 rejected\n');
    // Importing again replaces, never doubles.
    expect(kerma(['import', 'spend', FACEBOOK, '--db', db, '--date', '2026-01-15']).code).toBe(0);

    const report = kerma([
      'report',
      'kpis',
      '--db',
      db,
      '--by',
      'campaign',
      '--from',
      '2026-01-01',
      '--to',
      '2026-01-31',
      '--format',
      'json',
    ]);
    expect(report.code, report.stderr).toBe(0);
    const { rows } = JSON.parse(report.stdout) as {
      rows: Array<{
        key: string;
        impressions: number;
        clicks: number;
        cost: number;
        ctr: number;
        cpc: number;
        platform: { conversions: number; approvedConversions: number; cpl: number; costPerApproved: number };
      }>;
    };
    const measured = Object.fromEntries(
      rows.map((row) => [
        row.key,
        [
          row.impressions,
          row.clicks,
          round(row.cost, 2),
          row.platform.conversions,
          row.platform.approvedConversions,
          round(row.ctr * 100, 4),
          round(row.cpc, 4),
          round(row.platform.cpl, 4),
          round(row.platform.costPerApproved, 4),
        ],
      ]),
    );
    expect(measured).toEqual(REFERENCE);
    // Facebook spend books onto the Paid Social channel (facebook / paid_social).
    const byChannel = JSON.parse(
      kerma(['report', 'kpis', '--db', db, '--from', '2026-01-15', '--to', '2026-01-15', '--format', 'json']).stdout,
    );
    expect(byChannel.rows.map((x: { key: string }) => x.key)).toEqual(['Paid Social']);
    const table = kerma([
      'report',
      'kpis',
      '--db',
      db,
      '--by',
      'campaign',
      '--from',
      '2026-01-01',
      '--to',
      '2026-01-31',
    ]);
    expect(table.stdout).toMatch(/│ 1178 .*│ 0\.0176% │ 1\.5433 │/);
    expect(table.stdout).toContain('no data');
  });

  it('says which columns a spend file lacks, and which rows are bad, keeping the rest', () => {
    const wrong = join(dir, 'wrong.csv');
    writeFileSync(wrong, 'day,source,spend\n2026-01-01,google,10\n');
    const refused = kerma(['import', 'spend', wrong, '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /wrong\.csv line 1: missing column\(s\) date, medium, campaign, cost, currency, impressions, clicks; expected date, source, medium, campaign, cost, currency, impressions, clicks .*; found day, source, spend/,
    );
    const mixed = join(dir, 'mixed.csv');
    writeFileSync(
      mixed,
      'Date,Source,Medium,Campaign,Cost,Currency,Impressions,Clicks\n2026-02-01,google,cpc,brand,12.5,EUR,1000,40\n02/02/2026,google,cpc,brand,1,EUR,1,1\n2026-02-03,google,cpc,brand,-3,EUR,1,1\n2026-02-04,google,cpc,brand,3,EURO,1,1\n',
    );
    const r = kerma(['import', 'spend', mixed, '--db', db]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(
      [
        '4 rows (generic format): 1 stored, 3 rejected',
        '  line 3: "02/02/2026" in column "date" is not a date as YYYY-MM-DD',
        '  line 4: "-3" in column "cost" is not a number of 0 or more',
        '  line 5: "EURO" in column "currency" is not a 3-letter ISO 4217 code',
        '',
      ].join('\n'),
    );
  });
});
