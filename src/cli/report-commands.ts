import { type Command, Option } from 'commander';
import type { Config } from '../config.js';
import { openRuntime } from '../kerma-runtime.js';
import type { FunnelRow } from '../reports/funnel-math.js';
import { type FunnelDimension, funnelReport } from '../reports/funnel-report.js';
import { reportRange } from '../reports/report-range.js';
import { formatReport, num, pct, type ReportColumn, type ReportFormat } from './format-report.js';

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

/** `kerma report funnel|…`: the reports, as a table, CSV or JSON. */
export function registerReportCommands<T extends { workspace?: string }>(
  program: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  const report = program.command('report').description('Reports: funnel');
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
        const runtime = await openRuntime(config);
        try {
          const ws = await runtime.workspaces.resolve(options.workspace);
          const range = reportRange(options, ws.timeZone);
          const result = await funnelReport(
            runtime.storage.db,
            ws,
            { by: options.by, touch: options.touch, ...range },
            config.exchangeRates,
          );
          process.stdout.write(formatReport([...result.rows, result.total], FUNNEL_COLUMNS, options.format, result));
        } finally {
          await runtime.close();
        }
      },
    );
}
