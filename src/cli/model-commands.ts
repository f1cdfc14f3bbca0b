import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config.js';
import { KermaError } from '../errors.js';
import { applyModel } from '../models/apply-model.js';
import { parseCutPoint, parseOutcome } from '../models/backtest-options.js';
import { readModelFile } from '../models/read-model-file.js';
import { refreshDecayedScores } from '../models/refresh-decayed-scores.js';
import { runBacktest } from '../models/run-backtest.js';
import { formatBacktest } from './format-backtest.js';
import { createLazyProgress } from './progress.js';
import { withWorkspace } from './with-workspace.js';

const fraction = (value: string) => {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('expected a precision above 0 and at most 1, e.g. 0.8');
  return n;
};
const perWeek = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a number of leads per week above 0');
  return n;
};

/** `kerma model validate|backtest`. */
export function registerModelCommands<T extends { workspace?: string }>(
  program: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  const model = program.command('model').description('Scoring models: validate, apply, refresh, backtest');
  model
    .command('validate')
    .description('Check a model file; prints every error with its path and line')
    .argument('<file>')
    .action((file: string) => {
      const { model: compiled } = readModelFile(file);
      process.stdout.write(
        `${file}: model "${compiled.name}" is valid (${compiled.fit.length} fit, ${compiled.engagement.length} engagement rules, ${compiled.triggers.length} triggers)\n`,
      );
    });

  withDb(
    model
      .command('apply')
      .description('Store a new model version, rescore every contact from history, then switch to it at once')
      .argument('<file>'),
  ).action(async (file: string, options: T) => {
    const { model: compiled, text } = readModelFile(file);
    await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
      const progress = createLazyProgress('rescore contacts');
      const result = await applyModel(runtime.storage.db, {
        file: runtime.storage.file,
        bulkScores: runtime.storage.bulkScores,
        workspaceId: ws.id,
        timeZone: ws.timeZone,
        model: compiled,
        source: text,
        onProgress: (done, total) => progress.update(done, total),
      });
      progress.stop();
      process.stdout.write(
        `model "${compiled.name}" is version ${result.version} and active: ${result.contacts} contacts rescored, ${result.changes} score changes recorded, ${result.mql} at MQL (${result.promotedToMql} moved to stage MQL)${result.threads > 0 ? `; history replayed in ${result.threads} worker threads${result.workersRead ? ' reading it and storing the scores themselves' : ''}` : ''}${result.pruned.length > 0 ? `; scores of superseded version${result.pruned.length > 1 ? 's' : ''} ${result.pruned.join(', ')} deleted` : ''}\n`,
      );
    });
  });

  withDb(
    model
      .command('refresh')
      .description(
        'Bring every stored score to now (decay), firing what decay crossed; kerma serve does this periodically',
      ),
  ).action(async (options: T) => {
    await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
      const r = await refreshDecayedScores(runtime.storage.db, ws.id, Date.now());
      process.stdout.write(
        `${r.checked} scores checked, ${r.updated} moved, ${r.firings} triggers fired, ${r.promoted} moved to stage MQL\n`,
      );
    });
  });

  withDb(
    model
      .command('backtest')
      .description('Replay history under a model and report how well its score predicts an outcome')
      .argument('<file>'),
  )
    .requiredOption('--outcome <outcome>', 'won, sql, stage:NAME or trait:NAME (e.g. trait:converted)')
    .addOption(
      new Option(
        '--at <cut>',
        'score each contact at days:N after creation, when it became an MQL (mql), or now',
      ).default('days:30'),
    )
    .option('--compare <file>', 'a second model file to report side by side')
    .addOption(new Option('--precision <p>', 'recommend the threshold for this precision').argParser(fraction))
    .addOption(new Option('--capacity <n>', 'recommend the threshold for this many leads a week').argParser(perWeek))
    .option('--json', 'print the result as JSON')
    .action(
      async (
        file: string,
        options: T & {
          outcome: string;
          at: string;
          compare?: string;
          precision?: number;
          capacity?: number;
          json?: boolean;
        },
      ) => {
        const outcome = parseOutcome(options.outcome);
        if (!outcome.ok) throw new KermaError('invalid_input', outcome.message);
        const at = parseCutPoint(options.at);
        if (!at.ok) throw new KermaError('invalid_input', at.message);
        const models = [readModelFile(file).model, ...(options.compare ? [readModelFile(options.compare).model] : [])];
        await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
          const progress = createLazyProgress('backtest contacts');
          const total = await runtime.storage.db
            .selectFrom('contacts')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('workspace_id', '=', ws.id)
            .executeTakeFirstOrThrow();
          const result = await runBacktest(runtime.storage.db, {
            workspaceId: ws.id,
            timeZone: ws.timeZone,
            models,
            outcome: outcome.value,
            at: at.value,
            targetPrecision: options.precision,
            capacityPerWeek: options.capacity,
            onProgress: (done) => progress.update(done, Number(total.n)),
          });
          progress.stop();
          if (!result.ok) throw new KermaError('invalid_input', result.message);
          process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatBacktest(result));
        });
      },
    );
}
