import type { FunnelRow } from './funnel-math.js';
import type { HeadlineReport } from './headline-report.js';
import type { KpiRow } from './kpi-math.js';

export interface Finding {
  kind: 'revenue' | 'stuck-at-mql' | 'conversion-gap' | 'spend-without-deals' | 'rejections' | 'trend' | 'spike';
  text: string;
}

/** Channels with fewer MQLs than this are too small to compare conversion rates. */
const MIN_MQLS = 10;

const count = (n: number) => new Intl.NumberFormat('en-US').format(n).replace(/,/g, ' ');
/** Contacts without a touch are grouped under "(none)"; a sentence names them. */
const label = (key: string) => (key === '(none)' ? 'Contacts without a known source' : key);
const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

function money(value: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 0 })
    .format(value)
    .replace(/,/g, ' ');
}

const REASON_TEXT: Record<string, string> = {
  not_in_icp: 'not fitting the ideal customer profile',
  no_budget: 'no budget',
  no_authority: 'no authority',
  duplicate: 'duplicates',
  bad_data: 'bad data',
  competitor: 'being a competitor',
  other: 'other reasons',
};

/**
 * The few sentences that matter, from the numbers: which channel makes the revenue, which brings leads that stall,
 * how far apart the best and worst converting channels are, spend without deals, what sales rejects, and the trend.
 * Every number in a sentence is one of the report's numbers; nothing is said where there is no data.
 */
export function findings(input: {
  funnel: FunnelRow[];
  kpis?: KpiRow[];
  headline?: HeadlineReport;
  currency: string;
}): Finding[] {
  const out: Finding[] = [];
  const rows = input.funnel.filter((r) => r.key !== 'all');
  const byRevenue = [...rows].sort((a, b) => b.revenue - a.revenue || b.won - a.won);
  const top = byRevenue[0];
  if (top && top.won > 0) {
    const reached = top.meeting > top.won ? `${plural(top.meeting, 'lead', 'leads')} reached a meeting and ` : '';
    const deals = top.won === 1 ? '1 became a deal' : `${count(top.won)} became deals`;
    out.push({
      kind: 'revenue',
      text: `${label(top.key)}: ${reached}${deals} worth ${money(top.revenue, input.currency)}, the most of any channel.`,
    });
  }
  const byMql = [...rows].sort((a, b) => b.mql - a.mql);
  const most = byMql[0];
  if (most && most.mql >= MIN_MQLS) {
    const stayed = most.mql - most.sql;
    const share = stayed / most.mql;
    if (share >= 0.5) {
      out.push({
        kind: 'stuck-at-mql',
        text: `${label(most.key)} brought the most leads (${count(most.mql)}) but ${Math.round(share * 100)}% stayed at MQL.`,
      });
    }
  }
  const comparable = rows.filter((r) => r.mql >= MIN_MQLS && r.rates.mqlToWon !== null);
  if (comparable.length >= 2) {
    const sorted = [...comparable].sort((a, b) => b.rates.mqlToWon! - a.rates.mqlToWon!);
    const best = sorted[0]!;
    const worst = sorted[sorted.length - 1]!;
    if (best.rates.mqlToWon! > 0 && worst.rates.mqlToWon! > 0 && best.rates.mqlToWon! / worst.rates.mqlToWon! >= 2) {
      const times = best.rates.mqlToWon! / worst.rates.mqlToWon!;
      out.push({
        kind: 'conversion-gap',
        text: `${label(worst.key)} converts ${times.toFixed(1)}× worse than ${label(best.key)} (${(worst.rates.mqlToWon! * 100).toFixed(1)}% vs ${(best.rates.mqlToWon! * 100).toFixed(1)}% of MQLs won).`,
      });
    } else if (best.rates.mqlToWon! > 0 && worst.rates.mqlToWon === 0) {
      out.push({
        kind: 'conversion-gap',
        text: `${label(worst.key)} turned none of its ${count(worst.mql)} MQLs into a deal; ${label(best.key)} won ${(best.rates.mqlToWon! * 100).toFixed(1)}% of its MQLs.`,
      });
    }
  }
  for (const k of input.kpis ?? []) {
    if (k.key === 'all' || k.cost <= 0 || k.won > 0) continue;
    out.push({
      kind: 'spend-without-deals',
      text: `${label(k.key)} cost ${money(k.cost, input.currency)} and brought ${plural(k.contacts, 'contact', 'contacts')} but no won deal yet.`,
    });
  }
  const rejecting = rows
    .filter((r) => r.rejections.total > 0 && r.mql >= MIN_MQLS)
    .sort((a, b) => b.rejections.total / b.mql - a.rejections.total / a.mql)[0];
  if (rejecting) {
    const [reason, n] = Object.entries(rejecting.rejections.byReason).sort((a, b) => b[1] - a[1])[0]!;
    out.push({
      kind: 'rejections',
      text: `Sales rejected ${Math.round((rejecting.rejections.total / rejecting.mql) * 100)}% of ${label(rejecting.key)}'s MQLs, mostly (${n}) for ${REASON_TEXT[reason] ?? reason}.`,
    });
  }
  const h = input.headline;
  if (h) {
    for (const name of ['traffic', 'contacts', 'leads'] as const) {
      const m = h[name];
      if (m.changePct === null || Math.abs(m.changePct) < 10) continue;
      const label = name === 'traffic' ? 'New visitors' : name === 'contacts' ? 'New contacts' : 'New leads (MQL)';
      out.push({
        kind: 'trend',
        text: `${label} ${m.changePct > 0 ? 'rose' : 'fell'} ${Math.abs(m.changePct).toFixed(0)}% (${count(m.current)} vs ${count(m.previous)}) in the last ${h.days} days.`,
      });
    }
    // The three biggest spikes, in date order.
    const biggest = [...h.spikes].sort((a, b) => b.value / b.threshold - a.value / a.threshold).slice(0, 3);
    for (const s of biggest.sort((a, b) => a.date.localeCompare(b.date))) {
      out.push({
        kind: 'spike',
        text: `${s.date}: ${count(s.value)} ${s.metric === 'traffic' ? 'new visitors' : s.metric === 'contacts' ? 'new contacts' : 'new leads'}, far above the usual ${count(s.baseline)} a day.`,
      });
    }
  }
  return out;
}
