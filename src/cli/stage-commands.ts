import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config.js';
import { importStagesCsv } from '../lifecycle/import-stages-csv.js';
import { createLazyProgress } from './progress.js';
import { printRejected, withWorkspace } from './with-workspace.js';

const pair = (value: string, previous: Record<string, string>) => {
  const at = value.lastIndexOf('=');
  if (at <= 0 || at === value.length - 1)
    throw new InvalidArgumentError('expected CRM_STAGE=STAGE, e.g. "Closed Won=won"');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
};

interface StageImportOptions {
  workspace?: string;
  contactId?: string;
  email?: string;
  crmId?: string;
  stage?: string;
  setStage?: string;
  at?: string;
  value?: string;
  currency?: string;
  reason?: string;
  owner?: string;
  updateId?: string;
  stageMap: Record<string, string>;
  createMissing?: boolean;
  fireTriggers?: boolean;
}

/** `kerma import stages FILE.csv`: stage history from a CRM export. */
export function registerStageImport<T extends { workspace?: string }>(
  importCommand: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  withDb(
    importCommand
      .command('stages')
      .description('Import stage changes (deals) from a CSV: contact, stage, date, value, owner')
      .argument('<file>'),
  )
    .option('--contact-id <column>', "column with Kerma's contact id")
    .option('--email <column>', 'column with the contact email')
    .option('--crm-id <column>', "column with the CRM's id of the contact (its user id in Kerma)")
    .option('--stage <column>', 'column with the stage (a Kerma stage, its display name, or mapped with --stage-map)')
    .option('--set-stage <stage>', 'every row is this stage (e.g. a file of won deals)')
    .option('--at <column>', 'column with the date of the change (default: now)')
    .option('--value <column>', 'column with the deal value')
    .option('--currency <column>', 'column with the ISO 4217 currency (default: the workspace currency)')
    .option('--reason <column>', 'column with a reason / note')
    .option('--owner <column>', 'column with the owner (sales rep)')
    .option('--update-id <column>', 'column with a unique id per change (default: a hash of the row)')
    .option('--stage-map <crm=stage>', 'map a CRM stage name to a Kerma stage (repeatable)', pair, {})
    .option('--create-missing', 'create contacts Kerma does not know (default: refuse those rows)')
    .option('--fire-triggers', 'fire stage triggers for changes that become current (default: off for imports)')
    .action(async (file: string, options: StageImportOptions & T) => {
      const config = configFrom(options);
      await withWorkspace(config, options.workspace, async (runtime, ws) => {
        const progress = createLazyProgress('stage changes', ' bytes');
        const result = await importStagesCsv(
          runtime.storage,
          ws,
          file,
          {
            contactId: options.contactId,
            email: options.email,
            crmId: options.crmId,
            stage: options.stage,
            fixedStage: options.setStage,
            at: options.at,
            value: options.value,
            currency: options.currency,
            reason: options.reason,
            owner: options.owner,
            updateId: options.updateId,
            stageMap: options.stageMap,
          },
          {
            stageNames: config.stageNames,
            createMissing: options.createMissing ?? false,
            fireTriggers: options.fireTriggers ?? false,
            onProgress: (done, total) => progress.update(done, total),
          },
        );
        progress.stop();
        process.stdout.write(
          `${result.rows} rows: ${result.applied} applied, ${result.unchanged} unchanged, ${result.ignored} ignored (back after won/lost), ${result.duplicates} already imported, ${result.created} contacts created, ${result.rejected.length} rejected\n`,
        );
        printRejected(result.rejected);
        process.exitCode = result.rejected.length > 0 ? 3 : 0;
      });
    });
}
