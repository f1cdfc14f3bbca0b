import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { KermaError } from '../errors.js';
import { exportOfflineConversions, offlineConversionsOptions } from '../exports/export-offline-conversions.js';
import { withWorkspace } from './with-workspace.js';

const SKIP_REASONS: Record<string, string> = {
  noClickId: 'without a Google click id',
  clickTooOld: 'with a click over 90 days before the conversion',
  noMatchKey: 'without email, phone, lead id or click id',
};

/** Sentence for what an export left out: `3 without a Google click id`. */
export function describeSkipped(skipped: Record<string, number>): string {
  const parts = Object.entries(skipped)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${SKIP_REASONS[reason] ?? reason}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** `kerma export offline-conversions`. */
export function registerExportCommands<T extends { workspace?: string }>(
  program: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  const exportCommand = program.command('export').description('Export data for other tools');
  withDb(
    exportCommand
      .command('offline-conversions')
      .description('Stage conversions for Google Ads (CSV by gclid) or Meta (Conversions API JSON)'),
  )
    .requiredOption('--format <format>', 'google-ads or meta')
    .requiredOption('--stage <stage>', 'mql, sql, meeting or won')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD (workspace time zone)')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD, inclusive')
    .option('--name <name>', 'conversion action (Google) or event name (Meta); default "Kerma <stage>"')
    .option('--output <file>', 'write to a file instead of standard output')
    .action(
      async (
        options: T & { format: string; stage: string; from: string; to: string; name?: string; output?: string },
      ) => {
        const parsed = offlineConversionsOptions.safeParse({
          format: options.format,
          stage: options.stage,
          from: options.from,
          to: options.to,
          ...(options.name ? { name: options.name } : {}),
        });
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`);
          throw new KermaError('invalid_input', issues.join('; '));
        }
        const config = configFrom(options);
        await withWorkspace(config, options.workspace, async (runtime, ws) => {
          const result = await exportOfflineConversions(runtime.storage.db, ws, parsed.data, config.stageNames);
          if (options.output) writeFileSync(options.output, result.body);
          else process.stdout.write(result.body);
          process.stderr.write(
            `${result.exported} conversion(s) exported${options.output ? ` to ${options.output}` : ''}; left out: ${describeSkipped(result.skipped)}\n`,
          );
        });
      },
    );
}
