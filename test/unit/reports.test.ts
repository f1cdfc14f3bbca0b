import { describe, expect, it } from 'vitest';
import { currencyConverter } from '../../src/reports/convert-currency.js';
import { findings } from '../../src/reports/findings.js';
import { type FunnelContact, funnelRow, funnelRows, median, ratio } from '../../src/reports/funnel-math.js';
import { changePct, findSpikes, mad, slopePerDay } from '../../src/reports/headline-math.js';

const DAY = 86_400_000;
const contact = (key: string, stages: Partial<FunnelContact> = {}): FunnelContact => ({
  key,
  createdAt: 0,
  mql: null,
  sql: null,
  meeting: null,
  won: null,
  lost: null,
  revenue: 0,
  rejections: [],
  ...stages,
});

describe('report math', () => {
  it('divides only when there is something to divide by', () => {
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(0, 4)).toBe(0);
    expect(median([])).toBeNull();
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(changePct(5, 0)).toBeNull();
    expect(changePct(15, 10)).toBe(50);
  });

  it('funnel rows: counts, rates, medians between stages, rejections, and a total', () => {
    const rows = funnelRows([
      contact('ads', { mql: 0, sql: 2 * DAY, meeting: 3 * DAY, won: 10 * DAY, revenue: 500 }),
      contact('ads', { mql: 0, sql: 4 * DAY, lost: 9 * DAY }),
      contact('ads', { mql: DAY, rejections: ['no_budget'] }),
      contact('ads'),
      contact('seo', { mql: 0 }),
    ]);
    const ads = rows.rows[0]!;
    expect(ads).toMatchObject({ key: 'ads', contacts: 4, mql: 3, sql: 2, meeting: 1, won: 1, lost: 1, revenue: 500 });
    expect(ads.rates).toEqual({
      contactToMql: 0.75,
      mqlToSql: 2 / 3,
      sqlToMeeting: 0.5,
      meetingToWon: 1,
      mqlToWon: 1 / 3,
      winRate: 0.5,
    });
    expect(ads.medianCycleDays).toBe(10);
    expect(ads.medianDays).toEqual({ contactToMql: 0, mqlToSql: 3, sqlToMeeting: 1, meetingToWon: 7 });
    expect(ads.rejections.byReason.no_budget).toBe(1);
    expect(rows.total).toMatchObject({ key: 'all', contacts: 5, mql: 4, won: 1 });
    expect(funnelRow('empty', []).rates.mqlToSql).toBeNull();
  });

  it('spikes above median + 3×MAD (MAD 0 taken as 1; no baseline when the median day is 0), and trends', () => {
    const series = [2, 3, 2, 4, 30, 3, 2].map((value, i) => ({ date: `d${i}`, value }));
    expect(mad(series.map((s) => s.value))).toBe(1);
    expect(findSpikes('traffic', series)).toEqual([
      { date: 'd4', metric: 'traffic', value: 30, baseline: 3, threshold: 6 },
    ]);
    expect(
      findSpikes(
        'leads',
        [0, 0, 0, 9, 0].map((value, i) => ({ date: `d${i}`, value })),
      ),
    ).toEqual([]);
    expect(slopePerDay([1, 2, 3])).toBe(1);
    expect(slopePerDay([1, null, 3])).toBe(1);
    expect(slopePerDay([5])).toBeNull();
  });

  it('converts currencies through the rate table and names a missing rate', () => {
    const eur = currencyConverter('EUR', { base: 'USD', rates: { EUR: 0.5, GBP: 0.25 } });
    expect(eur.convert(10, 'USD')).toBe(5);
    expect(eur.convert(10, 'GBP')).toBe(20);
    expect(eur.convert(10, 'EUR')).toBe(10);
    expect(eur.convert(10, 'JPY')).toBeNull();
    expect([...eur.missing]).toEqual(['JPY']);
  });

  it('findings say what the numbers say, and nothing where there is no data', () => {
    const rows = funnelRows([
      ...Array.from({ length: 20 }, (_, i) =>
        contact(
          'Paid Search',
          i < 8 ? { mql: 0, sql: 1, meeting: 2, won: i < 4 ? 3 : null, revenue: 1000 } : { mql: 0 },
        ),
      ),
      ...Array.from({ length: 40 }, (_, i) =>
        contact('Paid Social', i < 2 ? { mql: 0, sql: 1, won: 2, revenue: 100 } : { mql: 0 }),
      ),
    ]).rows;
    expect(findings({ funnel: rows, currency: 'EUR' }).map((f) => f.text)).toEqual([
      'Paid Search: 8 leads reached a meeting and 4 became deals worth €4 000, the most of any channel.',
      'Paid Social brought the most leads (40) but 95% stayed at MQL.',
      'Paid Social converts 4.0× worse than Paid Search (5.0% vs 20.0% of MQLs won).',
    ]);
    expect(findings({ funnel: [], currency: 'EUR' })).toEqual([]);
  });
});
