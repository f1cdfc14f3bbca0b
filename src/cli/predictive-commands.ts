import { basename } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config.js';
import { KermaError } from '../errors.js';
import { type KermaRuntime, openRuntime } from '../kerma-runtime.js';
import { contactPrediction, predictionDisagreements } from '../predictions/contact-prediction.js';
import { evaluateOnRows } from '../predictions/evaluate-on-rows.js';
import { parsePredictionOutcome } from '../predictions/prediction-outcome.js';
import {
  activatePredictiveModel,
  listPredictiveModels,
  loadPredictiveModel,
  predictiveModelSummary,
  savePredictiveModel,
} from '../predictions/predictive-model-store.js';
import { readTrainingCsv } from '../predictions/read-training-csv.js';
import { scorePredictions } from '../predictions/score-predictions.js';
import { trainFromContacts } from '../predictions/train-from-contacts.js';
import type { ModelKind } from '../predictive/predictive-model.js';
import { DEFAULT_TRAINING, trainPredictiveModel } from '../predictive/train-predictive-model.js';
import type { Workspace } from '../workspaces/workspace-service.js';
import { formatModelCard } from './format-model-card.js';
import { createLazyProgress, createStepProgress } from './progress.js';
import { printRejected, withWorkspace } from './with-workspace.js';

interface TrainOptions {
  outcome: string;
  data?: string;
  model: ModelKind;
  exclude: string[];
  within?: number;
  seed: number;
  minRows: number;
  minPositives: number;
  activate: boolean;
  json?: boolean;
}

const whole = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number of at least ${min}`);
  return n;
};
const columnList = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean),
];

function parseOutcomeOption(text: string, data: string | undefined) {
  const outcome = parsePredictionOutcome(text);
  if (!outcome.ok) throw new KermaError('invalid_input', `--outcome: ${outcome.message}`);
  if (data && outcome.value.kind !== 'column')
    throw new KermaError('invalid_input', `--outcome: with --data the outcome is a column of the file: column:NAME`);
  return outcome.value;
}

/** The outcome column of a labelled file (`--outcome column:NAME`). */
function fileOutcomeColumn(text: string): string {
  const outcome = parseOutcomeOption(text, 'file');
  if (outcome.kind !== 'column') throw new Error('parseOutcomeOption lets only a column through with a file');
  return outcome.column;
}

/** A labelled CSV, listing on stderr the rows left out, each with its reason. */
async function readLabelledCsv(file: string, column: string, options: Parameters<typeof readTrainingCsv>[2] = {}) {
  const csv = await readTrainingCsv(file, column, options);
  if (csv.rejected.length > 0) {
    process.stderr.write(`${csv.rejected.length} row(s) left out, their outcome is not a yes or a no:\n`);
    printRejected(csv.rejected, process.stderr);
  }
  return csv;
}

function parseModelId(text: string): number | 'active' {
  if (text === 'active') return 'active';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new KermaError(
      'invalid_input',
      `--model: "${text}" is not a model id; expected a number from \`kerma predictive list\` or "active"`,
    );
  return n;
}

/** The workspace a model trained on a file goes to; on a database with none yet, one is created for it. */
async function workspaceForFile(runtime: KermaRuntime, id: string | undefined): Promise<Workspace> {
  if (!id && (await runtime.workspaces.list()).length === 0) {
    const created = await runtime.workspaces.create('Default');
    process.stderr.write(`no workspace yet: created workspace "Default" (${created.id}) to hold the model\n`);
    return created;
  }
  return runtime.workspaces.resolve(id);
}

/** `kerma train`, `kerma evaluate` and `kerma predictive list|show|activate|score|explain|disagreements`. */
export function registerPredictiveCommands<T extends { workspace?: string }>(
  program: Command,
  withDb: (command: Command) => Command,
  configFrom: (options: T) => Config,
): void {
  withDb(
    program
      .command('train')
      .description(
        'Train a predictive model on won/lost (or any yes/no) history, store it as a new version and use it',
      ),
  )
    .requiredOption('--outcome <outcome>', 'won, sql, stage:NAME, or column:NAME (a yes/no column or trait)')
    .option('--data <file.csv>', 'train on a CSV (comma or semicolon) instead of the workspace contacts')
    .addOption(new Option('--model <kind>', 'model kind').choices(['gbdt', 'logistic']).default('gbdt'))
    .option('--exclude <columns>', 'columns or traits to leave out, comma separated (repeatable)', columnList, [])
    .addOption(
      new Option(
        '--within <days>',
        'stage outcomes: reached within DAYS of creation (older contacts that have not are a no)',
      ).argParser(whole(1)),
    )
    .addOption(
      new Option('--seed <n>', 'seed of the validation split').default(DEFAULT_TRAINING.seed).argParser(whole(0)),
    )
    .addOption(
      new Option('--min-rows <n>', 'fewest rows to train on').default(DEFAULT_TRAINING.minRows).argParser(whole(1)),
    )
    .addOption(
      new Option('--min-positives <n>', 'fewest rows of each outcome')
        .default(DEFAULT_TRAINING.minPositives)
        .argParser(whole(1)),
    )
    .option('--no-activate', 'store the model without making it the active one')
    .option('--json', 'print {"modelId", "validation": {"auc", "logLoss", …}} as JSON')
    .action(async (options: T & TrainOptions) => {
      const outcome = parseOutcomeOption(options.outcome, options.data);
      if (options.within !== undefined && outcome.kind !== 'won' && outcome.kind !== 'sql' && outcome.kind !== 'stage')
        throw new KermaError('invalid_input', '--within applies to stage outcomes: won, sql or stage:NAME');
      const outcomeText = options.within ? `${options.outcome} within ${options.within} days` : options.outcome;
      const runtime = await openRuntime(configFrom(options));
      try {
        const ws = options.data
          ? await workspaceForFile(runtime, options.workspace)
          : await runtime.workspaces.resolve(options.workspace);
        const steps = createStepProgress();
        let result: Awaited<ReturnType<typeof trainFromContacts>>;
        let source = 'contacts';
        if (options.data && outcome.kind === 'column') {
          const reading = createLazyProgress('reading', ' bytes');
          const csv = await readLabelledCsv(options.data, outcome.column, {
            exclude: options.exclude,
            onProgress: (done, total) => reading.update(done, total),
          });
          reading.stop();
          source = `file:${basename(options.data)}`;
          result = trainPredictiveModel(csv.rows, csv.labels, csv.columns, {
            kind: options.model,
            outcome: options.outcome,
            seed: options.seed,
            validationShare: DEFAULT_TRAINING.validationShare,
            minRows: options.minRows,
            minPositives: options.minPositives,
            onProgress: steps.update,
          });
        } else {
          result = await trainFromContacts(runtime.storage.db, {
            workspaceId: ws.id,
            outcome,
            outcomeText,
            kind: options.model,
            exclude: options.exclude,
            withinDays: options.within ?? null,
            seed: options.seed,
            minRows: options.minRows,
            minPositives: options.minPositives,
            onProgress: steps.update,
          });
        }
        steps.stop();
        if (!result.ok) throw new KermaError('invalid_input', result.message);
        const version = await savePredictiveModel(runtime.storage.db, ws.id, result.model, {
          source,
          activate: options.activate,
        });
        let scored = 0;
        if (options.activate) {
          const progress = createLazyProgress('scoring contacts');
          scored = (await scorePredictions(runtime.storage.db, ws.id, { all: true, onProgress: progress.update }))
            .scored;
          progress.stop();
        }
        const card = result.model.card;
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({
              modelId: String(version),
              kind: card.kind,
              outcome: card.outcome,
              rows: card.rows,
              positives: card.positives,
              active: options.activate,
              contactsScored: scored,
              validation: {
                rows: card.validationRows,
                auc: card.validation.auc,
                logLoss: card.validation.logLoss,
                brier: card.validation.brier,
              },
            })}\n`,
          );
        } else {
          process.stdout.write(formatModelCard(version, result.model));
          process.stdout.write(
            options.activate
              ? `model ${version} is active: ${scored} contacts scored\n`
              : `model ${version} stored, not active (kerma predictive activate ${version})\n`,
          );
        }
      } finally {
        await runtime.close();
      }
    });

  withDb(program.command('evaluate').description('Measure a stored predictive model on a labelled CSV'))
    .requiredOption('--model <id>', 'model id (from kerma train or kerma predictive list), or "active"')
    .requiredOption('--data <file.csv>', 'CSV with the training columns and the outcome column')
    .requiredOption('--outcome <outcome>', 'column:NAME, a column of 1/0, true/false or yes/no')
    .option('--json', 'print {"rows", "positives", "auc", "logLoss", "brier", …} as JSON')
    .action(async (options: T & { model: string; data: string; outcome: string; json?: boolean }) => {
      const column = fileOutcomeColumn(options.outcome);
      const id = parseModelId(options.model);
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const stored = await loadPredictiveModel(runtime.storage.db, ws.id, id);
        if (!stored) throw new KermaError('not_found', `no predictive model ${options.model} in this workspace`);
        const csv = await readLabelledCsv(options.data, column);
        if (csv.rows.length === 0)
          throw new KermaError('invalid_input', `${options.data}: no row with a yes/no outcome to evaluate on`);
        const result = evaluateOnRows(stored.model, csv);
        for (const c of result.missingColumns)
          process.stderr.write(`warning: ${options.data} has no column "${c}"; every row is scored with it missing\n`);
        for (const [c, n] of Object.entries(result.invalidValues))
          process.stderr.write(`warning: column "${c}" has ${n} value(s) that are not numbers; scored as missing\n`);
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({
              modelId: String(stored.version),
              rows: result.rows,
              positives: result.positives,
              auc: result.auc,
              logLoss: result.logLoss,
              brier: result.brier,
              missingColumns: result.missingColumns,
              calibration: result.calibration,
              gains: result.gains,
              precisionRecall: result.precisionRecall,
            })}\n`,
          );
        } else {
          process.stdout.write(
            `model ${stored.version} on ${options.data}: ${result.rows} rows, ${result.positives} positive\n  ROC AUC ${result.auc.toFixed(4)}  log loss ${result.logLoss.toFixed(4)}  Brier ${result.brier.toFixed(4)}\n`,
          );
        }
      });
    });

  const predictive = program
    .command('predictive')
    .description('Predictive models: list, show, activate, score, explain');
  withDb(predictive.command('list').description('Stored predictive model versions'))
    .option('--json', 'print JSON')
    .action(async (options: T & { json?: boolean }) => {
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const models = await listPredictiveModels(runtime.storage.db, ws.id);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(models.map(predictiveModelSummary))}\n`);
          return;
        }
        if (models.length === 0)
          process.stdout.write('no predictive model yet; train one with `kerma train --outcome won`\n');
        for (const m of models)
          process.stdout.write(
            `${m.version}${m.active ? ' (active)' : ''}\t${m.kind}\t${m.outcome}\t${m.source}\t${m.card.rows} rows\tvalidation AUC ${m.card.validation.auc.toFixed(4)}\t${new Date(m.createdAt).toISOString()}\n`,
          );
      });
    });
  withDb(
    predictive
      .command('show')
      .description("A model's card: data, inputs, validation metrics, top factors")
      .argument('<id>'),
  )
    .option('--json', 'print the card as JSON')
    .action(async (idText: string, options: T & { json?: boolean }) => {
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const stored = await loadPredictiveModel(runtime.storage.db, ws.id, parseModelId(idText));
        if (!stored) throw new KermaError('not_found', `no predictive model ${idText} in this workspace`);
        process.stdout.write(
          options.json ? `${JSON.stringify(stored.model.card)}\n` : formatModelCard(stored.version, stored.model),
        );
      });
    });
  withDb(
    predictive
      .command('activate')
      .description('Make a stored version the active one and rescore every contact')
      .argument('<id>'),
  ).action(async (idText: string, options: T) => {
    await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
      const id = parseModelId(idText);
      if (id === 'active') throw new KermaError('invalid_input', 'name the version to activate, e.g. 2');
      await activatePredictiveModel(runtime.storage.db, ws.id, id);
      await scoreAll(runtime, ws.id, `model ${id} is active`);
    });
  });
  withDb(
    predictive
      .command('score')
      .description('Score every contact with the active model now (kerma serve keeps them current)'),
  ).action(async (options: T) => {
    await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) =>
      scoreAll(runtime, ws.id, 'done'),
    );
  });
  withDb(
    predictive
      .command('explain')
      .description("A contact's probability and the factors behind it")
      .argument('<contact-id>'),
  )
    .option('--json', 'print JSON')
    .action(async (contactId: string, options: T & { json?: boolean }) => {
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const p = await contactPrediction(runtime.storage.db, ws.id, contactId);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(p)}\n`);
          return;
        }
        const line = (f: { column: string; value: unknown; contribution: number }) =>
          `  ${f.contribution >= 0 ? '+' : ''}${f.contribution.toFixed(3)}  ${f.column} = ${f.value === null ? '(missing)' : String(f.value)}\n`;
        process.stdout.write(
          `${contactId}: ${(p.probability * 100).toFixed(1)}% (${p.outcome}, model ${p.modelVersion}, ${p.kind})\nraises it:\n${p.positive.map(line).join('') || '  (nothing)\n'}lowers it:\n${p.negative.map(line).join('') || '  (nothing)\n'}`,
        );
      });
    });
  withDb(
    predictive.command('disagreements').description('Leads the rules rank low but the model high, and the reverse'),
  )
    .addOption(new Option('--limit <n>', 'leads each way').default(20).argParser(whole(1)))
    .option('--json', 'print JSON')
    .action(async (options: T & { limit: number; json?: boolean }) => {
      await withWorkspace(configFrom(options), options.workspace, async (runtime, ws) => {
        const d = await predictionDisagreements(runtime.storage.db, ws.id, options.limit);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(d)}\n`);
          return;
        }
        const line = (x: (typeof d.modelHigherThanRules)[number]) =>
          `  ${x.id}\t${x.email ?? ''}\tscore ${x.score} (p${Math.round(x.scorePercentile * 100)})\tprobability ${(x.probability * 100).toFixed(1)}% (p${Math.round(x.probabilityPercentile * 100)})\n`;
        process.stdout.write(
          `${d.leads} leads scored by model ${d.modelVersion}\nmodel ranks high, rules low (${d.modelHigherThanRules.length}):\n${d.modelHigherThanRules.map(line).join('')}rules rank high, model low (${d.rulesHigherThanModel.length}):\n${d.rulesHigherThanModel.map(line).join('')}`,
        );
      });
    });
}

async function scoreAll(runtime: KermaRuntime, workspaceId: string, label: string): Promise<void> {
  const progress = createLazyProgress('scoring contacts');
  const result = await scorePredictions(runtime.storage.db, workspaceId, { all: true, onProgress: progress.update });
  progress.stop();
  if (result.version === null)
    throw new KermaError('not_found', 'no predictive model is active; train one with `kerma train`');
  process.stdout.write(`${label}: ${result.scored} contacts scored with model ${result.version}\n`);
}
