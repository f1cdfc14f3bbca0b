import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config.js';
import { KermaError } from '../errors.js';
import { applyRetention } from '../privacy/apply-retention.js';
import { eraseContact } from '../privacy/erase-contact.js';
import { exportContact } from '../privacy/export-contact.js';
import { findContact } from '../privacy/find-contact.js';
import { withWorkspace } from './with-workspace.js';

const days = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of days, at least 1');
  return n;
};

/** `kerma privacy erase|export|retention`. */
export function registerPrivacyCommands<T extends { workspace?: string }>(
  program: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  const privacy = program.command('privacy').description('GDPR / CCPA: erase or export a person, apply retention');
  const person = (c: Command) =>
    c.option('--email <address>', "the person's email").option('--contact <id>', 'the contact id');
  person(
    withDb(privacy.command('erase').description('Erase a person and every row with their data (rollup counts stay)')),
  )
    .option('--json', 'print what was deleted as JSON')
    .action(async (options: T & { email?: string; contact?: string; json?: boolean }) => {
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const id = await findContact(runtime.storage.db, ws.id, options);
        const rows = await eraseContact(runtime.storage.db, ws.id, id);
        if (!rows) throw new KermaError('not_found', `no contact with id "${id}" in this workspace`);
        if (options.json) process.stdout.write(`${JSON.stringify({ erased: true, contactId: id, rows })}\n`);
        else
          process.stdout.write(
            `erased contact ${id}: ${Object.entries(rows)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')}\n`,
          );
      });
    });
  person(withDb(privacy.command('export').description('Everything held on a person, as JSON')))
    .option('--output <file>', 'write to a file instead of standard output')
    .action(async (options: T & { email?: string; contact?: string; output?: string }) => {
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const id = await findContact(runtime.storage.db, ws.id, options);
        const data = await exportContact(runtime.storage.db, ws.id, id);
        if (!data) throw new KermaError('not_found', `no contact with id "${id}" in this workspace`);
        const text = `${JSON.stringify(data, null, 2)}\n`;
        if (options.output) writeFileSync(options.output, text);
        else process.stdout.write(text);
      });
    });
  withDb(privacy.command('retention').description('Delete raw events older than the retention period (rollups stay)'))
    .addOption(new Option('--days <n>', 'keep this many days (default: the retentionDays setting)').argParser(days))
    .action(async (options: T & { days?: number }) => {
      const config = configFrom(options);
      const keep = options.days ?? config.retentionDays;
      if (!keep)
        throw new KermaError(
          'invalid_input',
          'no retention period: pass --days N or set retentionDays (KERMA_RETENTION_DAYS)',
        );
      await withWorkspace(config, options.workspace, async (runtime, ws) => {
        const r = await applyRetention(runtime.storage.db, ws.id, keep, Date.now());
        process.stdout.write(`${r.deleted} events from before ${r.before} deleted; rollups kept\n`);
      });
    });
}
