import { Command, InvalidArgumentError, Option } from 'commander';
import { compileChannelRules } from '../attribution/group-channel.js';
import { DeliveryWorker } from '../automation/delivery-worker.js';
import { type Config, type ConfigOverrides, loadConfig } from '../config.js';
import { DEMO_MODEL } from '../demo/demo-model.js';
import { runDemo } from '../demo/run-demo.js';
import { seedDemoPipeline } from '../demo/seed-demo-pipeline.js';
import { seedDemoSpend } from '../demo/seed-demo-spend.js';
import { KermaError } from '../errors.js';
import { importContactsCsv } from '../identity/import-contacts-csv.js';
import { importEventsFile } from '../ingest/import-events-file.js';
import { openRuntime } from '../kerma-runtime.js';
import { activeModel } from '../models/active-model.js';
import { applyModel } from '../models/apply-model.js';
import { startDecayScheduler } from '../models/decay-scheduler.js';
import { startPredictionScheduler } from '../predictions/prediction-scheduler.js';
import { startRetentionScheduler } from '../privacy/retention-scheduler.js';
import { parseModelFile } from '../scoring/parse-model-file.js';
import { createApp } from '../server/create-app.js';
import { registerAutomationCommands } from './automation-commands.js';
import { registerExportCommands } from './export-commands.js';
import { registerModelCommands } from './model-commands.js';
import { registerPredictiveCommands } from './predictive-commands.js';
import { registerPrivacyCommands } from './privacy-commands.js';
import { createLazyProgress } from './progress.js';
import { registerReportCommands } from './report-commands.js';
import { registerSpendImport } from './spend-commands.js';
import { registerStageImport } from './stage-commands.js';
import { printRejected, withWorkspace } from './with-workspace.js';

interface DbOptions {
  db?: string;
  databaseUrl?: string;
  config?: string;
  workspace?: string;
}

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
};
const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number above 0');
  return n;
};

function withDb(command: Command): Command {
  return command
    .option('--db <file>', 'SQLite database file (default ./kerma.db)')
    .option('--database-url <url>', 'PostgreSQL URL (or KERMA_DATABASE_URL)')
    .option('--config <file>', 'YAML config file (or KERMA_CONFIG)')
    .option('--workspace <id>', 'workspace id (optional while there is only one)');
}

function configFrom(options: DbOptions & { port?: number; host?: string }): Config {
  const overrides: ConfigOverrides = {
    db: options.db,
    databaseUrl: options.databaseUrl,
    configFile: options.config,
    port: options.port,
    host: options.host,
    logLevel: process.env['KERMA_LOG_LEVEL'] ?? 'warn',
  };
  return loadConfig(process.env, overrides);
}

async function serve(config: Config, banner: string[] = []): Promise<void> {
  const runtime = await openRuntime({ ...config, logLevel: config.logLevel === 'warn' ? 'info' : config.logLevel });
  const app = createApp(runtime);
  const stopDecay = startDecayScheduler(runtime, config.decayIntervalMs);
  const stopPredictions = startPredictionScheduler(runtime, config.predictionIntervalMs);
  const stopRetention = startRetentionScheduler(runtime, config.retentionDays);
  const deliveries = new DeliveryWorker(runtime.storage.db, { ...config, logger: runtime.logger });
  deliveries.start(config.deliveryIntervalMs);
  const address = await app.listen({ port: config.port, host: config.host });
  const url = address.replace('[::1]', 'localhost');
  process.stdout.write(
    `Kerma listening on ${url}\nDashboard: ${url}/\n${banner.join('\n')}${banner.length ? '\n' : ''}`,
  );
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await stopDecay();
    await stopPredictions();
    await stopRetention();
    await deliveries.stop();
    await app.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const program = new Command();
program
  .name('kerma')
  .description('Lead scoring and lead-funnel analytics')
  .showHelpAfterError()
  // A bad flag or argument is bad input: exit 2, as the README promises (commander's own default is 1). Subcommands
  // defined below inherit this.
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

withDb(program.command('serve').description('Start the HTTP server (ingest, API, dashboard)'))
  .addOption(new Option('--port <port>', 'port to listen on (default 8080, or KERMA_PORT)').argParser(port))
  .option('--host <host>', 'address to bind (default 127.0.0.1, or KERMA_HOST)')
  .action(async (options: DbOptions & { port?: number; host?: string }) => {
    await serve(configFrom(options));
  });

const workspace = program.command('workspace').description('Manage workspaces and their keys');
withDb(
  workspace.command('create').description('Create a workspace and print its write and secret keys').argument('<name>'),
)
  .option('--time-zone <tz>', 'IANA time zone for daily reports', 'UTC')
  .option('--currency <code>', 'ISO 4217 currency for reports', 'EUR')
  .option('--json', 'print {"id", "writeKey", "secretKey"} as JSON')
  .action(async (name: string, options: DbOptions & { timeZone: string; currency: string; json?: boolean }) => {
    const runtime = await openRuntime(configFrom(options));
    try {
      const created = await runtime.workspaces.create(name, { timeZone: options.timeZone, currency: options.currency });
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ id: created.id, writeKey: created.writeKey, secretKey: created.secretKey })}\n`,
        );
      } else {
        process.stdout.write(
          `Workspace ${created.name} (${created.id})\n  write key:  ${created.writeKey}  (ingest only; safe in a browser)\n  secret key: ${created.secretKey}  (reads everything; keep it secret)\nKeys are stored hashed and cannot be shown again.\n`,
        );
      }
    } finally {
      await runtime.close();
    }
  });
withDb(workspace.command('list').description('List workspaces'))
  .option('--json', 'print JSON')
  .action(async (options: DbOptions & { json?: boolean }) => {
    const runtime = await openRuntime(configFrom(options));
    try {
      const all = await runtime.workspaces.list();
      if (options.json) process.stdout.write(`${JSON.stringify(all)}\n`);
      else for (const w of all) process.stdout.write(`${w.id}\t${w.name}\t${w.timeZone}\t${w.currency}\n`);
    } finally {
      await runtime.close();
    }
  });

const importCommand = program.command('import').description('Import data from files');
withDb(
  importCommand
    .command('events')
    .description('Import an NDJSON file of Segment-format messages (resumable)')
    .argument('<file>'),
)
  .option('--restart', 'ignore the saved position and read the file from the start')
  .action(async (file: string, options: DbOptions & { restart?: boolean }) => {
    const config = configFrom(options);
    await withWorkspace(config, options.workspace, async (runtime, ws) => {
      const progress = createLazyProgress('events', ' bytes');
      const result = await importEventsFile(runtime.storage, ws, file, {
        keepFullIp: config.keepFullIp,
        maxEventBytes: config.maxEventBytes,
        restart: options.restart ?? false,
        onProgress: (done, total) => progress.update(done, total),
      });
      progress.stop();
      if (result.resumedFromByte > 0) process.stdout.write(`resumed at byte ${result.resumedFromByte}\n`);
      process.stdout.write(
        `${result.lines} lines: ${result.inserted} stored, ${result.duplicates} already stored, ${result.rejected.length} rejected\n`,
      );
      printRejected(result.rejected);
      process.exitCode = result.rejected.length > 0 ? 3 : 0;
    });
  });

const traitMap = (value: string, previous: Record<string, string>) => {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1)
    throw new InvalidArgumentError('expected TRAIT=COLUMN, e.g. job_title="Job Title"');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
};
withDb(
  importCommand
    .command('contacts')
    .description('Import contacts from a CSV (comma or semicolon separated)')
    .argument('<file>'),
)
  .option('--email <column>', 'column with the email address')
  .option('--id <column>', 'column with the external / CRM id')
  .option('--created-at <column>', 'column with the creation date')
  .option('--map <trait=column>', 'map a column to a trait name (repeatable)', traitMap, {})
  .option('--only-mapped', 'import only the mapped columns (default: every column becomes a snake_case trait)')
  .option('--channel <column>', "column with the contact's channel (a CRM lead source): its first touch")
  .option('--source <column>', 'column with the first-touch source (utm_source)')
  .option('--medium <column>', 'column with the first-touch medium (utm_medium)')
  .option('--campaign <column>', 'column with the first-touch campaign (utm_campaign)')
  .action(
    async (
      file: string,
      options: DbOptions & {
        email?: string;
        id?: string;
        createdAt?: string;
        map: Record<string, string>;
        onlyMapped?: boolean;
        channel?: string;
        source?: string;
        medium?: string;
        campaign?: string;
      },
    ) => {
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const progress = createLazyProgress('contacts', ' bytes');
        const result = await importContactsCsv(
          runtime.storage,
          ws,
          file,
          {
            email: options.email,
            id: options.id,
            createdAt: options.createdAt,
            traits: options.map,
            onlyMapped: options.onlyMapped ?? false,
            touch: {
              channel: options.channel,
              source: options.source,
              medium: options.medium,
              campaign: options.campaign,
            },
          },
          { onProgress: (done, total) => progress.update(done, total) },
        );
        progress.stop();
        process.stdout.write(
          `${result.rows} rows: ${result.inserted} stored, ${result.duplicates} already stored, ${result.rejected.length} rejected\n`,
        );
        printRejected(result.rejected);
        process.exitCode = result.rejected.length > 0 ? 3 : 0;
      });
    },
  );

withDb(
  program.command('demo').description('Create a "Demo" workspace with realistic traffic, then optionally serve it'),
)
  .addOption(new Option('--days <n>', 'days of traffic').default(90).argParser(positive))
  .addOption(new Option('--visitors-per-day <n>', 'average new visitors a weekday').default(250).argParser(positive))
  .option('--serve', 'start the server afterwards')
  .addOption(new Option('--port <port>', 'port for --serve').argParser(port))
  .option('--host <host>', 'address to bind with --serve')
  .action(
    async (
      options: DbOptions & { days: number; visitorsPerDay: number; serve?: boolean; port?: number; host?: string },
    ) => {
      const config = configFrom(options);
      const runtime = await openRuntime(config);
      let banner: string[];
      try {
        const existing = await runtime.workspaces.findByName('Demo');
        // Keys are stored hashed, so a second run issues new ones for the existing demo workspace.
        const created = existing ? null : await runtime.workspaces.create('Demo', { timeZone: 'UTC', currency: 'EUR' });
        const ws = existing ?? created!;
        const writeKey = created?.writeKey ?? (await runtime.workspaces.addKey(ws.id, 'write'));
        const secretKey = created?.secretKey ?? (await runtime.workspaces.addKey(ws.id, 'secret'));
        // The model goes live before the traffic arrives, as on a real site: contacts become MQLs when their score
        // crosses the threshold, at that moment in the demo's history.
        let scoring = 'a scoring model was already active; kept it';
        if (!(await activeModel(runtime.storage.db, ws.id))) {
          const parsed = parseModelFile(DEMO_MODEL);
          if (!parsed.ok) throw new Error('the built-in demo model does not parse');
          await applyModel(runtime.storage.db, {
            file: runtime.storage.file,
            bulkScores: runtime.storage.bulkScores,
            workspaceId: ws.id,
            timeZone: ws.timeZone,
            model: parsed.model,
            source: DEMO_MODEL,
          });
          scoring = `scoring model "${parsed.model.name}" applied`;
        }
        const progress = createLazyProgress('demo events');
        const now = Date.now();
        const result = await runDemo(runtime.storage, ws, {
          days: options.days,
          visitorsPerDay: options.visitorsPerDay,
          now,
          onProgress: (done, total) => progress.update(done, total),
        });
        progress.stop();
        const pipeline = await seedDemoPipeline(runtime.storage, ws, { now });
        const cost = await seedDemoSpend(runtime.storage, ws, compileChannelRules(config.channelRules));
        const contacts = await runtime.storage.db
          .selectFrom('contacts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('workspace_id', '=', ws.id)
          .executeTakeFirstOrThrow();
        const mqls = await runtime.storage.db
          .selectFrom('stage_changes')
          .select((eb) => eb.fn.count<number>('contact_id').distinct().as('n'))
          .where('workspace_id', '=', ws.id)
          .where('to_stage', '=', 'mql')
          .executeTakeFirstOrThrow();
        scoring += `: ${Number(contacts.n)} contacts, ${Number(mqls.n)} became MQL; sales accepted ${pipeline.accepted} and rejected ${pipeline.rejected}, ${pipeline.meetings} meetings, ${pipeline.won} won, ${pipeline.lost} lost; ${Math.round(cost)} ${ws.currency} of ad spend`;
        banner = [
          `Demo workspace ${ws.id}: ${result.inserted} events stored${result.duplicates ? `, ${result.duplicates} were already there` : ''}; ${scoring}`,
          `  write key:  ${writeKey}`,
          `  secret key: ${secretKey}  (sign in / API: Authorization: Bearer <secret key>)`,
        ];
      } finally {
        await runtime.close();
      }
      if (options.serve) await serve(config, banner);
      else process.stdout.write(`${banner.join('\n')}\n`);
    },
  );

registerModelCommands<DbOptions>(program, withDb, configFrom);
registerPredictiveCommands<DbOptions>(program, withDb, configFrom);
registerPrivacyCommands<DbOptions>(program, withDb, configFrom);
registerStageImport<DbOptions>(importCommand, withDb, configFrom);
registerSpendImport<DbOptions>(importCommand, withDb, configFrom);
registerAutomationCommands<DbOptions>(program, withDb, configFrom);
registerExportCommands<DbOptions>(program, withDb, configFrom);
registerReportCommands<DbOptions>(program, withDb, configFrom);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof KermaError) {
    process.stderr.write(`kerma: ${error.message}\n`);
    process.exit(error.code === 'unavailable' ? 1 : 2);
  }
  process.stderr.write(`kerma: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
