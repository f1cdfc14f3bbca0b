import type { Command } from 'commander';
import { compileChannelRules } from '../attribution/group-channel.js';
import type { Config } from '../config.js';
import { importSpendCsv } from '../spend/import-spend.js';
import { createLazyProgress } from './progress.js';
import { printRejected, withWorkspace } from './with-workspace.js';

/** `kerma import spend FILE.csv`. */
export function registerSpendImport<T extends { workspace?: string }>(
  importCommand: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  withDb(
    importCommand
      .command('spend')
      .description(
        'Import ad spend: date, source, medium, campaign, cost, currency, impressions, clicks — or a Facebook ads export',
      )
      .argument('<file>'),
  )
    .option('--date <YYYY-MM-DD>', 'the day a file without dates (Facebook export) is booked on')
    .option('--currency <code>', 'currency of a file without a currency column (default: the workspace currency)')
    .option('--source <source>', 'utm source of Facebook rows (default facebook)')
    .option('--medium <medium>', 'utm medium of Facebook rows (default paid_social)')
    .action(
      async (file: string, options: T & { date?: string; currency?: string; source?: string; medium?: string }) => {
        const config = configFrom(options);
        await withWorkspace(config, options.workspace, async (runtime, ws) => {
          const progress = createLazyProgress('spend', ' bytes');
          const result = await importSpendCsv(runtime.storage.db, ws.id, file, {
            day: options.date,
            currency: (options.currency ?? ws.currency).toUpperCase(),
            source: options.source,
            medium: options.medium,
            channelRules: compileChannelRules(config.channelRules),
            onProgress: (done, total) => progress.update(done, total),
          });
          progress.stop();
          process.stdout.write(
            `${result.rows} rows (${result.format} format): ${result.stored} stored, ${result.rejected.length} rejected\n`,
          );
          printRejected(result.rejected);
          process.exitCode = result.rejected.length > 0 ? 3 : 0;
        });
      },
    );
}
