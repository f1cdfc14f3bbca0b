import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config.js';
import type { Finding } from '../reports/findings.js';
import { findingsReport } from '../reports/findings-report.js';
import type { FunnelRow } from '../reports/funnel-math.js';
import { type FunnelDimension, funnelReport } from '../reports/funnel-report.js';
import { headlineReport } from '../reports/headline-report.js';
import type { KpiRow } from '../reports/kpi-math.js';
import { type KpiDimension, kpiReport } from '../reports/kpi-report.js';
import { reportRange } from '../reports/report-range.js';
import { formatReport, num, pct, type ReportColumn, type ReportFormat } from './format-report.js';
import { withWorkspace } from './with-workspace.js';

const DIMENSIONS = ['channel', 'source', 'medium', 'campaign', 'landingPage'];

const FUNNEL_COLUMNS: ReportColumn<FunnelRow>[] = [
  { header: 'key', value: (r) => r.key },
  { header: 'contacts', value: (r) => r.contacts },
  { header: 'mql', value: (r) => r.mql },
  { header: 'sql', value: (r) => r.sql },
  { header: 'meeting', value: (r) => r.meeting },
  { header: 'won', value: (r) => r.won },
  { header: 'lost', value: (r) => r.lost },
  { header: 'revenue', value: (r) => num(r.revenue, 2) },
  { header: 'mql→sql', value: (r) => pct(r.rates.mqlToSql) },
  { header: 'mql→won', value: (r) => pct(r.rates.mqlToWon) },
  { header: 'win rate', value: (r) => pct(r.rates.winRate) },
  { header: 'cycle days', value: (r) => num(r.medianCycleDays) },
  { header: 'rejected', value: (r) => r.rejections.total },
];

const money = (value: number | null) => num(value, 2);

const FINDING_COLUMNS: ReportColumn<Finding>[] = [
  { header: 'kind', value: (r) => r.kind },
  { header: 'finding', value: (r) => r.text },
];

const DAILY_COLUMNS: ReportColumn<{ date: string; traffic: number; contacts: number; leads: number }>[] = [
  { header: 'date', value: (r) => r.date },
  { header: 'traffic', value: (r) => r.traffic },
  { header: 'contacts', value: (r) => r.contacts },
  { header: 'leads', value: (r) => r.leads },
];

const HEADLINE_COLUMNS: ReportColumn<{
  name: string;
  current: number;
  previous: number;
  changePct: number | null;
  trendPerDay: number | null;
  trendPerDayWithoutSpikes: number | null;
}>[] = [
  { header: '', value: (r) => r.name },
  { header: 'current', value: (r) => r.current },
  { header: 'previous', value: (r) => r.previous },
  {
    header: 'change',
    value: (r) => (r.changePct === null ? null : `${r.changePct >= 0 ? '+' : ''}${r.changePct.toFixed(1)}%`),
  },
  { header: 'trend/day', value: (r) => num(r.trendPerDay, 2) },
  { header: 'without spikes', value: (r) => num(r.trendPerDayWithoutSpikes, 2) },
];

const KPI_COLUMNS: ReportColumn<KpiRow>[] = [
  { header: 'key', value: (r) => r.key },
  { header: 'cost', value: (r) => money(r.cost) },
  { header: 'impr.', value: (r) => r.impressions },
  { header: 'clicks', value: (r) => r.clicks },
  { header: 'CTR', value: (r) => (r.ctr === null ? null : `${(r.ctr * 100).toFixed(4)}%`) },
  { header: 'CPC', value: (r) => num(r.cpc, 4) },
  { header: 'sessions', value: (r) => r.sessions },
  { header: 'contacts', value: (r) => r.contacts },
  { header: 'visit→contact', value: (r) => pct(r.visitToContact) },
  { header: 'CPL', value: (r) => money(r.cpl) },
  { header: 'CPL (platform)', value: (r) => num(r.platform.cpl, 4) },
  { header: 'per approved', value: (r) => num(r.platform.costPerApproved, 4) },
  { header: 'per MQL', value: (r) => money(r.costPerMql) },
  { header: 'per SQL', value: (r) => money(r.costPerSql) },
  { header: 'CAC', value: (r) => money(r.cac) },
  { header: 'revenue', value: (r) => money(r.revenue) },
  { header: 'ROAS', value: (r) => num(r.roas, 2) },
  { header: 'ROI', value: (r) => pct(r.roi) },
  { header: 'MQL:SQL', value: (r) => (r.mqlPerSql === null ? null : `${r.mqlPerSql.toFixed(1)}:1`) },
  { header: 'win rate', value: (r) => pct(r.winRate) },
  { header: 'cycle days', value: (r) => num(r.medianCycleDays) },
  { header: 'LTV', value: (r) => money(r.ltv) },
  { header: 'lead quality', value: (r) => num(r.leadQuality, 0) },
  { header: 'qual. abandon', value: (r) => pct(r.qualifiedVisitAbandonment) },
];

/** `kerma report funnel|…`: the reports, as a table, CSV or JSON. */
export function registerReportCommands<T extends { workspace?: string }>(
  program: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  const report = program.command('report').description('Reports: headline, funnel, KPIs, findings');
  const days = (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 366)
      throw new InvalidArgumentError('expected a whole number of days from 1 to 366');
    return n;
  };
  withDb(
    report.command('headline').description('Traffic, Contacts, Leads: the last N days vs the N before, spikes, trend'),
  )
    .addOption(new Option('--days <n>', 'window length').default(30).argParser(days))
    .option('--to <date>', 'last day, YYYY-MM-DD (default: today in the workspace time zone)')
    .addOption(new Option('--format <format>', 'output').choices(['table', 'csv', 'json']).default('table'))
    .action(async (options: T & { days: number; to?: string; format: ReportFormat }) => {
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const { to } = reportRange({ to: options.to }, ws.timeZone);
        const result = await headlineReport(runtime.storage.db, ws, { days: options.days, to });
        if (options.format !== 'table') {
          process.stdout.write(formatReport(result.daily, DAILY_COLUMNS, options.format, result));
          return;
        }
        const rows = (['traffic', 'contacts', 'leads'] as const).map((name) => ({ name, ...result[name] }));
        process.stdout.write(`${result.from} … ${result.to} vs ${result.previousFrom} … ${result.previousTo}\n`);
        process.stdout.write(formatReport(rows, HEADLINE_COLUMNS, 'table', result));
        for (const s of result.spikes) {
          process.stdout.write(
            `spike: ${s.date} ${s.metric} ${s.value} (median ${s.baseline}, threshold ${num(s.threshold)})\n`,
          );
        }
      });
    });
  const common = (command: Command) =>
    withDb(command)
      .option('--from <date>', 'first day, YYYY-MM-DD (default: 29 days before --to)')
      .option('--to <date>', 'last day, YYYY-MM-DD (default: today in the workspace time zone)')
      .addOption(new Option('--format <format>', 'output').choices(['table', 'csv', 'json']).default('table'));

  common(
    report
      .command('funnel')
      .description('Contacts created in the range, by channel: stages reached, revenue, rates, cycle'),
  )
    .addOption(new Option('--by <dimension>', 'group by').choices(DIMENSIONS).default('channel'))
    .addOption(
      new Option('--touch <touch>', 'attribute to the first or the last touch')
        .choices(['first', 'last'])
        .default('first'),
    )
    .action(
      async (
        options: T & { from?: string; to?: string; format: ReportFormat; by: FunnelDimension; touch: 'first' | 'last' },
      ) => {
        const config = configFrom(options);
        await withWorkspace(config, options.workspace, async (runtime, ws) => {
          const range = reportRange(options, ws.timeZone);
          const result = await funnelReport(
            runtime.storage.db,
            ws,
            { by: options.by, touch: options.touch, ...range },
            config.exchangeRates,
          );
          process.stdout.write(formatReport([...result.rows, result.total], FUNNEL_COLUMNS, options.format, result));
        });
      },
    );

  common(
    report
      .command('kpis')
      .description('Spend, costs per stage, ROAS, ROI, rates, LTV, lead quality by channel and in total'),
  )
    .addOption(new Option('--by <dimension>', 'group by').choices(DIMENSIONS).default('channel'))
    .action(async (options: T & { from?: string; to?: string; format: ReportFormat; by: KpiDimension }) => {
      const config = configFrom(options);
      await withWorkspace(config, options.workspace, async (runtime, ws) => {
        const range = reportRange(options, ws.timeZone);
        const result = await kpiReport(runtime.storage.db, ws, { by: options.by, ...range }, config);
        process.stdout.write(formatReport([...result.rows, result.total], KPI_COLUMNS, options.format, result));
        if (options.format === 'table' && result.email.delivered > 0) {
          process.stdout.write(
            `email: ${result.email.delivered} delivered, open rate ${pct(result.email.openRate)}, click rate ${pct(result.email.clickRate)}\n`,
          );
        }
      });
    });

  common(report.command('findings').description('The few sentences that matter for the range')).action(
    async (options: T & { from?: string; to?: string; format: ReportFormat }) => {
      const config = configFrom(options);
      await withWorkspace(config, options.workspace, async (runtime, ws) => {
        const result = await findingsReport(runtime.storage.db, ws, reportRange(options, ws.timeZone), config);
        if (options.format === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else if (options.format === 'csv')
          process.stdout.write(formatReport(result.findings, FINDING_COLUMNS, 'csv', result));
        else for (const f of result.findings) process.stdout.write(`- ${f.text}\n`);
      });
    },
  );
}
