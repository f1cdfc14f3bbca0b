import type { FunnelRow } from '../../src/reports/funnel-math.js';
import type { KpiRow } from '../../src/reports/kpi-math.js';
import { api } from '../api.js';
import { empty, h, replace, table } from '../dom.js';
import { dec, money, num, pct } from '../format.js';

const DIMENSIONS = [
  ['channel', 'Channel'],
  ['source', 'Source'],
  ['medium', 'Medium'],
  ['campaign', 'Campaign'],
  ['landingPage', 'Landing page'],
] as const;

/** Funnel: stages, conversion rates and revenue per channel (or source, campaign…), spend KPIs, findings. */
export async function funnelPage(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const by = DIMENSIONS.some(([d]) => d === params.get('by')) ? params.get('by')! : 'channel';
  const select = h(
    'select',
    {
      id: 'funnel-by',
      onchange: (e) => {
        location.hash = `#/funnel?by=${(e.target as HTMLSelectElement).value}`;
      },
    },
    DIMENSIONS.map(([value, label]) => h('option', { value, selected: value === by }, label)),
  );
  const body = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  root.append(
    h('h1', {}, 'Funnel'),
    h(
      'p',
      {},
      h('label', { for: 'funnel-by' }, 'Group by '),
      select,
      h('span', { class: 'help' }, ' first touch, last 90 days'),
    ),
    body,
  );
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10);
  const [funnel, kpis, findings] = await Promise.all([
    api<{ currency: string; rows: FunnelRow[]; total: FunnelRow }>(
      `/api/reports/funnel?by=${by}&from=${from}&to=${to}`,
    ),
    by === 'landingPage'
      ? Promise.resolve(null)
      : api<{ currency: string; rows: KpiRow[]; total: KpiRow }>(`/api/reports/kpis?by=${by}&from=${from}&to=${to}`),
    api<{ findings: Array<{ kind: string; text: string }> }>(`/api/reports/findings?from=${from}&to=${to}`),
  ]);
  const c = funnel.currency;
  const rows = [...funnel.rows, { ...funnel.total, key: 'All' }].map((r) => [
    r.key,
    r.contacts,
    r.mql,
    r.sql,
    r.meeting,
    r.won,
    r.lost,
    money(r.revenue, c),
    pct(r.rates.contactToMql),
    pct(r.rates.mqlToSql),
    pct(r.rates.mqlToWon),
    r.medianCycleDays === null ? '—' : `${dec(r.medianCycleDays)} d`,
  ]);
  const parts: HTMLElement[] = [
    funnel.rows.length
      ? table(
          `Contacts created ${from} – ${to} by first-touch ${by}`,
          [
            '',
            'Contacts',
            'MQL',
            'SQL',
            'Meeting',
            'Won',
            'Lost',
            'Revenue',
            'Contact→MQL',
            'MQL→SQL',
            'MQL→Won',
            'Cycle',
          ],
          rows,
          { id: 'funnel-table' },
        )
      : empty('No contacts in this window yet.'),
  ];
  const spend = kpis?.total.cost ?? 0;
  if (kpis && spend > 0) {
    parts.push(
      h('h2', {}, 'Spend'),
      table(
        `Ad spend and what it bought (${c})`,
        ['', 'Spend', 'Contacts', 'CPL', 'Cost per SQL', 'CAC', 'ROAS', 'Lead quality'],
        [...kpis.rows.filter((r) => r.cost > 0), { ...kpis.total, key: 'All' }].map((r) => [
          r.key,
          money(r.cost, c),
          r.contacts,
          money(r.cpl, c),
          money(r.costPerSql, c),
          money(r.cac, c),
          r.roas === null ? '—' : `${dec(r.roas)}×`,
          r.leadQuality === null ? '—' : num(r.leadQuality),
        ]),
        { id: 'kpi-table' },
      ),
    );
  } else if (kpis) {
    parts.push(
      h('h2', {}, 'Spend'),
      empty('No ad spend imported for this window: `kerma import spend FILE.csv` adds it.'),
    );
  }
  parts.push(
    h('h2', {}, 'Findings'),
    findings.findings.length
      ? h(
          'ul',
          { class: 'findings' },
          findings.findings.map((f) => h('li', {}, f.text)),
        )
      : empty('Nothing stands out yet.'),
  );
  replace(body, parts);
}
