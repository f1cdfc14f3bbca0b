import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { getDelivery, listDeliveries, replayDelivery } from '../automation/delivery-log.js';
import { DeliveryWorker } from '../automation/delivery-worker.js';
import { listEmailTemplates, parseTemplateFile, saveEmailTemplate } from '../automation/email-templates.js';
import { testWebhook } from '../automation/test-webhook.js';
import {
  addWebhookEndpoint,
  listWebhookEndpoints,
  removeWebhookEndpoint,
  setWebhookEnabled,
} from '../automation/webhook-endpoints.js';
import type { Config } from '../config.js';
import { KermaError } from '../errors.js';
import { type KermaRuntime, openRuntime } from '../kerma-runtime.js';
import type { Workspace } from '../workspaces/workspace-service.js';
import { withWorkspace } from './with-workspace.js';

const limit = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return n;
};

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

/** `kerma webhooks …`, `kerma deliveries …`, `kerma templates …`. */
export function registerAutomationCommands<T extends { workspace?: string }>(
  program: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  const run =
    <A extends unknown[], O extends T = T>(
      body: (runtime: KermaRuntime, ws: Workspace, options: O, ...args: A) => Promise<void>,
    ) =>
    // commander calls an action with the arguments, then the options, then the command itself.
    async (...input: unknown[]) => {
      const options = input[input.length - 2] as O;
      const args = input.slice(0, -2) as A;
      await withWorkspace(configFrom(options), options.workspace, (runtime, ws) => body(runtime, ws, options, ...args));
    };

  const webhooks = program.command('webhooks').description('Webhook endpoints that triggers deliver to');
  withDb(
    webhooks
      .command('add')
      .description('Add an endpoint; prints its signing secret once')
      .argument('<name>')
      .argument('<url>'),
  )
    .option('--json', 'print {"id", "name", "url", "secret"}')
    .action(
      run(async (runtime, ws, options: T & { json?: boolean }, name: string, url: string) => {
        const endpoint = await addWebhookEndpoint(runtime.storage.db, ws.id, name, url, runtime.config.production);
        if (options.json) print(JSON.stringify({ id: endpoint.id, name, url: endpoint.url, secret: endpoint.secret }));
        else {
          print(`Webhook endpoint "${name}" → ${endpoint.url}`);
          print(`  signing secret: ${endpoint.secret}  (Standard Webhooks; shown once)`);
          print(`  triggers deliver to it with: then: [ { webhook: ${name} } ]`);
        }
      }),
    );
  withDb(webhooks.command('list').description('List endpoints'))
    .option('--json', 'print JSON')
    .action(
      run(async (runtime, ws, options: T & { json?: boolean }) => {
        const all = await listWebhookEndpoints(runtime.storage.db, ws.id);
        if (options.json) return print(JSON.stringify(all));
        if (all.length === 0) return print('no webhook endpoints; add one with `kerma webhooks add NAME URL`');
        for (const e of all)
          print(`${e.name}\t${e.url}\t${e.enabled ? 'enabled' : `disabled: ${e.disabledReason ?? 'by hand'}`}`);
      }),
    );
  withDb(
    webhooks.command('test').description('Send a signed test message to an endpoint now').argument('<name>'),
  ).action(
    run(async (runtime, ws, _options: T, name: string) => {
      const result = await testWebhook(runtime.storage.db, ws.id, name);
      if (!result.ok) throw new KermaError('unavailable', `${result.url}: ${result.error} (after ${result.ms} ms)`);
      print(`${result.url} answered ${result.statusCode} in ${result.ms} ms`);
    }),
  );
  withDb(webhooks.command('remove').description('Remove an endpoint').argument('<name>')).action(
    run(async (runtime, ws, _options: T, name: string) => {
      await removeWebhookEndpoint(runtime.storage.db, ws.id, name);
      print(`endpoint "${name}" removed`);
    }),
  );
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    withDb(
      webhooks
        .command(verb)
        .description(`${verb[0]!.toUpperCase()}${verb.slice(1)} an endpoint`)
        .argument('<name>'),
    ).action(
      run(async (runtime, ws, _options: T, name: string) => {
        await setWebhookEnabled(runtime.storage.db, ws.id, name, enabled, enabled ? null : 'disabled by hand');
        print(`endpoint "${name}" ${enabled ? 'enabled' : 'disabled'}`);
      }),
    );
  }

  const deliveries = program.command('deliveries').description('The delivery log of webhooks and emails');
  withDb(deliveries.command('log').description('List deliveries, newest first'))
    .addOption(
      new Option('--status <status>', 'only this status').choices(['pending', 'delivered', 'failed', 'skipped']),
    )
    .addOption(new Option('--limit <n>', 'how many').default(50).argParser(limit))
    .option('--json', 'print JSON')
    .action(
      run(async (runtime, ws, options: T & { status?: string; limit: number; json?: boolean }) => {
        const rows = await listDeliveries(runtime.storage.db, ws.id, { status: options.status, limit: options.limit });
        if (options.json) return print(JSON.stringify(rows));
        for (const d of rows) {
          print(
            `${d.id}\t${d.createdAt}\t${d.channel}:${d.channel === 'webhook' ? d.target : JSON.parse(d.target).template}\t${d.trigger ?? ''}\t${d.status}\t${d.attempts} attempt(s)${d.lastError ? `\t${d.lastError}` : ''}`,
          );
        }
      }),
    );
  withDb(deliveries.command('show').description('One delivery with every attempt').argument('<id>')).action(
    run(async (runtime, ws, _options: T, id: string) => {
      print(JSON.stringify(await getDelivery(runtime.storage.db, ws.id, id), null, 2));
    }),
  );
  withDb(deliveries.command('replay').description('Send a delivery again').argument('<id>')).action(
    run(async (runtime, ws, _options: T, id: string) => {
      await replayDelivery(runtime.storage.db, ws.id, id);
      print(`delivery ${id} queued again; a running \`kerma serve\` (or \`kerma deliveries run\`) sends it`);
    }),
  );
  withDb(
    deliveries.command('run').description('Deliver everything due now, once (kerma serve does this continuously)'),
  ).action(async (options: T) => {
    const config = configFrom(options);
    const runtime = await openRuntime(config);
    const worker = new DeliveryWorker(runtime.storage.db, { ...config, logger: runtime.logger });
    try {
      const attempted = await worker.runOnce();
      print(`${attempted} delivery attempt(s) made`);
    } finally {
      await worker.stop();
      await runtime.close();
    }
  });

  const templates = program.command('templates').description('Email templates for trigger emails');
  withDb(
    templates
      .command('set')
      .description('Add or replace a template from a YAML file (subject, text, optional html; Mustache fields)')
      .argument('<name>')
      .argument('<file>'),
  ).action(
    run(async (runtime, ws, _options: T, name: string, file: string) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new KermaError('invalid_input', `cannot read template file ${file}: ${(error as Error).message}`);
      }
      await saveEmailTemplate(runtime.storage.db, ws.id, name, parseTemplateFile(text, file));
      print(`template "${name}" saved; triggers use it with: { email: { template: ${name}, to: contact } }`);
    }),
  );
  withDb(templates.command('list').description('List templates')).action(
    run(async (runtime, ws) => {
      for (const t of await listEmailTemplates(runtime.storage.db, ws.id)) print(`${t.name}\t${t.subject}`);
    }),
  );
}
