import { api } from '../api.js';
import { dailyChart, sparkline } from '../charts.js';
import { empty, h } from '../dom.js';
import { change, num } from '../format.js';

interface Metric {
  current: number;
  previous: number;
  changePct: number | null;
  trendPerDay: number | null;
  trendPerDayWithoutSpikes: number | null;
}
export interface Headline {
  days: number;
  from: string;
  to: string;
  traffic: Metric;
  contacts: Metric;
  leads: Metric;
  daily: Array<{ date: string; traffic: number; contacts: number; leads: number }>;
  spikes: Array<{ date: string; metric: string; value: number; baseline: number; threshold: number }>;
}

const METRICS = [
  { key: 'traffic', label: 'Traffic', help: 'new visitors' },
  { key: 'contacts', label: 'Contacts', help: 'new known contacts' },
  { key: 'leads', label: 'Leads', help: 'new MQLs' },
] as const;

/** Home: Traffic, Contacts and Leads for the last 30 days against the 30 before, and the daily chart with spikes. */
export async function homePage(root: HTMLElement): Promise<void> {
  const r = await api<Headline>('/api/reports/headline?days=30');
  const cards = METRICS.map((m) => {
    const metric = r[m.key];
    const spark = h('div', { class: 'spark' });
    const card = h(
      'section',
      { class: 'card', 'data-metric': m.key, 'aria-labelledby': `card-${m.key}` },
      h('h2', { id: `card-${m.key}` }, m.label, h('span', { class: 'help' }, ` ${m.help}`)),
      h('p', { class: 'value' }, num(metric.current)),
      h(
        'p',
        { class: `change ${(metric.changePct ?? 0) >= 0 ? 'up' : 'down'}` },
        `${change(metric.changePct)} vs the previous ${r.days} days (${num(metric.previous)})`,
      ),
      spark,
    );
    queueMicrotask(() =>
      sparkline(
        spark,
        r.daily.map((d) => d[m.key]),
        `${m.label} per day, ${r.from} to ${r.to}`,
      ),
    );
    return card;
  });
  const chart = h('div', { class: 'chart', role: 'img', 'aria-label': 'Traffic, contacts and leads per day' });
  const spikes = r.spikes.map((s) =>
    h('li', {}, `${s.date}: ${s.metric} ${num(s.value)} (usual ${num(s.baseline)}, spike above ${num(s.threshold)})`),
  );
  root.append(
    h('h1', {}, `Last ${r.days} days`, h('span', { class: 'help' }, ` ${r.from} – ${r.to}`)),
    h('div', { class: 'cards' }, cards),
    h('section', {}, h('h2', {}, 'Per day'), chart),
    h(
      'section',
      {},
      h('h2', {}, 'Spikes'),
      spikes.length
        ? h('ul', { class: 'spikes' }, spikes)
        : empty('No day was far above the usual (median + 3 × MAD).'),
      h(
        'p',
        { class: 'help' },
        `Traffic trend ${trend(r.traffic.trendPerDay)} a day; without spike days ${trend(r.traffic.trendPerDayWithoutSpikes)}.`,
      ),
    ),
  );
  const index = (metric: string) =>
    r.spikes.filter((s) => s.metric === metric).map((s) => r.daily.findIndex((d) => d.date === s.date));
  queueMicrotask(() =>
    dailyChart(
      chart,
      r.daily.map((d) => d.date),
      METRICS.map((m) => ({ label: m.label, values: r.daily.map((d) => d[m.key]), marks: index(m.key) })),
    ),
  );
}

function trend(x: number | null): string {
  return x === null ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
}
