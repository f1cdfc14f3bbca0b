import { describe, expect, it } from 'vitest';
import { currencyConverter } from '../../src/reports/convert-currency.js';
import { findings } from '../../src/reports/findings.js';
import {
  emptyFunnelRow,
  type FunnelTally,
  funnelRow,
  median,
  noRejections,
  ratio,
  sortFunnelRows,
} from '../../src/reports/funnel-math.js';
import { changePct, findSpikes, mad, slopePerDay } from '../../src/reports/headline-math.js';

const tally = (key: string, counts: Partial<FunnelTally> = {}): FunnelTally => ({
  key,
  ...{ contacts: 0, mql: 0, sql: 0, meeting: 0, won: 0, lost: 0, revenue: 0 },
  medianCycleDays: null,
  medianDays: { contactToMql: null, mqlToSql: null, sqlToMeeting: null, meetingToWon: null },
  rejections: noRejections(),
  ...counts,
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

  it('funnel rows: rates between stages from the counts, none where there is nothing to divide by; sorted', () => {
    const ads = funnelRow(tally('ads', { contacts: 4, mql: 3, sql: 2, meeting: 1, won: 1, lost: 1, revenue: 500 }));
    expect(ads).toMatchObject({ key: 'ads', contacts: 4, mql: 3, revenue: 500 });
    expect(ads.rates).toEqual({
      contactToMql: 0.75,
      mqlToSql: 2 / 3,
      sqlToMeeting: 0.5,
      meetingToWon: 1,
      mqlToWon: 1 / 3,
      winRate: 0.5,
    });
    expect(emptyFunnelRow('empty').rates).toEqual({
      contactToMql: null,
      mqlToSql: null,
      sqlToMeeting: null,
      meetingToWon: null,
      mqlToWon: null,
      winRate: null,
    });
    const seo = funnelRow(tally('seo', { contacts: 9, mql: 2 }));
    const email = funnelRow(tally('email', { contacts: 2, mql: 1 }));
    expect(sortFunnelRows([email, seo, ads]).map((r) => r.key)).toEqual(['ads', 'seo', 'email']);
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
    // Paid Search: 20 leads, 8 reached a meeting, 4 won (€1 000 each); Paid Social: 40 leads, 2 won (€100 each).
    const rows = [
      funnelRow(tally('Paid Search', { contacts: 20, mql: 20, sql: 8, meeting: 8, won: 4, revenue: 4000 })),
      funnelRow(tally('Paid Social', { contacts: 40, mql: 40, sql: 2, won: 2, revenue: 200 })),
    ];
    expect(findings({ funnel: rows, currency: 'EUR' }).map((f) => f.text)).toEqual([
      'Paid Search: 8 leads reached a meeting and 4 became deals worth €4 000, the most of any channel.',
      'Paid Social brought the most leads (40) but 95% stayed at MQL.',
      'Paid Social converts 4.0× worse than Paid Search (5.0% vs 20.0% of MQLs won).',
    ]);
    expect(findings({ funnel: [], currency: 'EUR' })).toEqual([]);
  });
});
