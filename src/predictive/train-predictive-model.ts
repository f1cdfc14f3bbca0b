import { seededRandom } from '../seeded-random.js';
import type { BehaviourVocabulary } from './behaviour-features.js';
import { buildFeatureSpec, DEFAULT_FEATURE_SPEC_OPTIONS, type FeatureSpecOptions } from './build-feature-spec.js';
import { encodeRows } from './encode-row.js';
import { evaluatePredictions } from './evaluate-predictions.js';
import { DEFAULT_GBDT_OPTIONS, type GbdtOptions, gbdtContributions, trainGbdt } from './gradient-boosting.js';
import { type LogisticModel, logisticContributions, trainLogistic } from './logistic-regression.js';
import { fitPlattScaling, type PlattScaling } from './platt-scaling.js';
import type { GlobalFactor, ModelKind, PredictiveModel } from './predictive-model.js';
import type { RawRow } from './raw-row.js';
import { sigmoid } from './sigmoid.js';

export interface TrainingOptions {
  kind: ModelKind;
  /** Written into the model, e.g. `won` or `column:Converted`. */
  outcome: string;
  seed: number;
  /** Share of the rows held out (stratified) to tune on and calibrate with. */
  validationShare: number;
  minRows: number;
  minPositives: number;
  dateRange?: { from: string; to: string } | null;
  gbdt?: Partial<GbdtOptions>;
  features?: Partial<FeatureSpecOptions>;
  behaviour?: BehaviourVocabulary | null;
  /** Penalties tried for logistic regression; the one with the best validation log loss wins. */
  l2Grid?: readonly number[];
  onProgress?: (step: string, done: number, total: number) => void;
  now?: () => number;
}

export const DEFAULT_TRAINING = {
  seed: 42,
  validationShare: 0.2,
  minRows: 200,
  minPositives: 40,
  l2Grid: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1],
} as const;

export type TrainingResult = { ok: true; model: PredictiveModel } | { ok: false; message: string };

/**
 * Trains a model on rows and their outcomes: checks there is enough of both outcomes, holds out a stratified
 * validation part (seeded), learns the encoding from the fitting part, then either picks the logistic penalty on the
 * validation part and refits on all rows, or grows trees with early stopping on it; calibrates with Platt scaling on
 * the validation part and reports its metrics there.
 * @example trainPredictiveModel(rows, labels, ['Lead Origin', 'TotalVisits'], { kind: 'gbdt', outcome: 'column:Converted', ...DEFAULT_TRAINING })
 */
export function trainPredictiveModel(
  rows: RawRow[],
  labels: boolean[],
  columns: string[],
  options: TrainingOptions,
): TrainingResult {
  const now = options.now ?? Date.now;
  const started = now();
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  if (rows.length < options.minRows || positives < options.minPositives || negatives < options.minPositives) {
    return {
      ok: false,
      message: `not enough data to train: it has ${rows.length} rows with ${positives} positive and ${negatives} negative outcomes; training needs at least ${options.minRows} rows and ${options.minPositives} of each outcome`,
    };
  }
  const { fitIndex, validationIndex } = stratifiedSplit(labels, options.validationShare, options.seed);
  const fitRows = fitIndex.map((i) => rows[i]!);
  const spec = buildFeatureSpec(fitRows, columns, { ...DEFAULT_FEATURE_SPEC_OPTIONS, ...options.features });
  if (spec.columns.length === 0) {
    const why = spec.ignored.map((c) => `${c.name}: ${c.reason}`).join('; ');
    return { ok: false, message: `no column can be used as a model input${why ? ` (${why})` : ''}` };
  }
  const width = spec.inputs.length;
  const fit = { matrix: encodeRows(spec, fitRows), labels: toLabels(fitIndex, labels) };
  const validation = {
    matrix: encodeRows(
      spec,
      validationIndex.map((i) => rows[i]!),
    ),
    labels: toLabels(validationIndex, labels),
  };
  const progress = options.onProgress ?? (() => {});
  let estimator: PredictiveModel['estimator'];
  let validationLogits: Float64Array;
  let training: PredictiveModel['card']['training'];
  if (options.kind === 'logistic') {
    const grid = options.l2Grid ?? DEFAULT_TRAINING.l2Grid;
    let best: { model: LogisticModel; loss: number; logits: Float64Array } | null = null;
    grid.forEach((l2, step) => {
      progress('choosing the penalty on the validation rows', step, grid.length + 1);
      const model = trainLogistic(fit.matrix, fit.labels, width, { l2 });
      const logits = logitsOf(validation.matrix, width, (x) => logisticContributions(model, x).logit);
      const loss = meanLogLoss(logits, validation.labels);
      if (!best || loss < best.loss) best = { model, loss, logits };
    });
    const chosen = best!;
    progress('fitting on all training rows', grid.length, grid.length + 1);
    const all = { matrix: encodeRows(spec, rows), labels: Uint8Array.from(labels, Number) };
    const final = trainLogistic(all.matrix, all.labels, width, { l2: chosen.model.l2 });
    estimator = final;
    validationLogits = chosen.logits;
    training = {
      ms: 0,
      seed: options.seed,
      iterations: final.iterations,
      converged: final.converged,
      l2: final.l2,
    };
    progress('fitting on all training rows', grid.length + 1, grid.length + 1);
  } else {
    const gbdtOptions = { ...DEFAULT_GBDT_OPTIONS, ...options.gbdt };
    const model = trainGbdt(fit, validation, width, gbdtOptions, (i) =>
      progress('growing trees', i, gbdtOptions.maxIterations),
    );
    progress('growing trees', gbdtOptions.maxIterations, gbdtOptions.maxIterations);
    estimator = model;
    validationLogits = logitsOf(validation.matrix, width, (x) => gbdtContributions(model, x).logit);
    training = {
      ms: 0,
      seed: options.seed,
      iterations: model.iterations,
      converged: true,
      learningRate: model.learningRate,
    };
  }
  const calibration = fitPlattScaling(validationLogits, validation.labels);
  const validationProbabilities = Array.from(validationLogits, (t) => sigmoid(calibration.a * t + calibration.b));
  const metrics = evaluatePredictions(validationProbabilities, validation.labels);
  const model: PredictiveModel = {
    format: 1,
    kind: options.kind,
    outcome: options.outcome,
    spec,
    behaviour: options.behaviour ?? null,
    estimator,
    calibration,
    card: {
      kind: options.kind,
      outcome: options.outcome,
      rows: rows.length,
      positives,
      validationRows: validationIndex.length,
      dateRange: options.dateRange ?? null,
      columns: spec.columns.map((c) => c.name),
      inputs: width,
      ignored: spec.ignored,
      warnings: spec.warnings,
      validation: metrics,
      topFactors: [],
      training,
    },
  };
  model.card.topFactors = globalFactors(model, fit.matrix, width, calibration);
  model.card.training.ms = now() - started;
  return { ok: true, model };
}

/** Mean absolute per-column contribution over (up to 2,000 of) the fitting rows, largest first. */
function globalFactors(
  model: PredictiveModel,
  matrix: Float64Array,
  width: number,
  calibration: PlattScaling,
): GlobalFactor[] {
  const n = matrix.length / width;
  const step = Math.max(1, Math.floor(n / 2000));
  const totals = new Float64Array(model.spec.columns.length);
  let used = 0;
  for (let i = 0; i < n; i += step) {
    const x = matrix.subarray(i * width, (i + 1) * width);
    const { contributions } =
      model.estimator.kind === 'logistic'
        ? logisticContributions(model.estimator, x)
        : gbdtContributions(model.estimator, x);
    const perColumn = new Float64Array(totals.length);
    contributions.forEach((c, j) => {
      perColumn[model.spec.inputColumn[j]!]! += calibration.a * c;
    });
    perColumn.forEach((c, k) => {
      totals[k]! += Math.abs(c);
    });
    used++;
  }
  return model.spec.columns
    .map((c, k) => ({ column: c.name, importance: totals[k]! / Math.max(used, 1) }))
    .sort((a, b) => b.importance - a.importance)
    .slice(0, 10);
}

function stratifiedSplit(
  labels: boolean[],
  share: number,
  seed: number,
): { fitIndex: number[]; validationIndex: number[] } {
  const random = seededRandom(seed);
  const fitIndex: number[] = [];
  const validationIndex: number[] = [];
  for (const value of [true, false]) {
    const group = labels.flatMap((l, i) => (l === value ? [i] : []));
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j]!, group[i]!];
    }
    const cut = Math.round(group.length * share);
    validationIndex.push(...group.slice(0, cut));
    fitIndex.push(...group.slice(cut));
  }
  return { fitIndex: fitIndex.sort((a, b) => a - b), validationIndex: validationIndex.sort((a, b) => a - b) };
}

function toLabels(index: number[], labels: boolean[]): Uint8Array {
  return Uint8Array.from(index, (i) => (labels[i] ? 1 : 0));
}

function logitsOf(matrix: Float64Array, width: number, score: (x: Float64Array) => number): Float64Array {
  const n = matrix.length / width;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = score(matrix.subarray(i * width, (i + 1) * width));
  return out;
}

function meanLogLoss(logits: Float64Array, labels: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const t = logits[i]!;
    sum += (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - labels[i]! * t;
  }
  return sum / Math.max(logits.length, 1);
}
