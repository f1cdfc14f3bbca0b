import type { BehaviourVocabulary } from './behaviour-features.js';
import { encodeRow } from './encode-row.js';
import type { PredictionMetrics } from './evaluate-predictions.js';
import type { FeatureSpec, IgnoredColumn } from './feature-spec.js';
import { type GbdtModel, gbdtContributions } from './gradient-boosting.js';
import { type LogisticModel, logisticContributions } from './logistic-regression.js';
import type { PlattScaling } from './platt-scaling.js';
import type { RawRow } from './raw-row.js';
import { sigmoid } from './sigmoid.js';

export type ModelKind = 'logistic' | 'gbdt';

export interface GlobalFactor {
  column: string;
  /** Mean absolute share of the log-odds over the training rows. */
  importance: number;
}

/** What a model is, for the people who use it: data, inputs, how good it was on held-out rows, what drives it. */
export interface ModelCard {
  kind: ModelKind;
  outcome: string;
  rows: number;
  positives: number;
  /** Rows held out of fitting to choose the regularisation or the number of trees, and to calibrate. */
  validationRows: number;
  dateRange: { from: string; to: string } | null;
  columns: string[];
  inputs: number;
  ignored: IgnoredColumn[];
  warnings: string[];
  validation: PredictionMetrics;
  topFactors: GlobalFactor[];
  training: { ms: number; seed: number; iterations: number; converged: boolean; l2?: number; learningRate?: number };
}

/** A trained model as stored: everything needed to encode a row, score it and explain it. */
export interface PredictiveModel {
  format: 1;
  kind: ModelKind;
  outcome: string;
  spec: FeatureSpec;
  /** Page groups and event names counted as behaviour inputs; null for a model trained on a file. */
  behaviour: BehaviourVocabulary | null;
  estimator: LogisticModel | GbdtModel;
  calibration: PlattScaling;
  card: ModelCard;
}

export interface Factor {
  column: string;
  /** The value the row had (null: missing). */
  value: string | number | boolean | null;
  /** Share of the calibrated log-odds: positive raises the probability. */
  contribution: number;
}

export interface Prediction {
  probability: number;
  /** Calibrated log-odds of an average row; plus every factor's contribution gives `logit`. */
  base: number;
  logit: number;
  /** Every used column's contribution, largest first by size. */
  factors: Factor[];
  /** Columns the row did not have (scored as missing). */
  absent: string[];
  /** Numeric columns with text, NaN or Infinity (scored as missing). */
  invalid: string[];
}

/**
 * The probability of the outcome for one row, with each column's share of it: per-input contributions (weight ×
 * standardised value for logistic regression, path attribution for trees) summed per source column and carried
 * through the calibration, so base + Σ contributions = logit exactly.
 * @example predict(model, { 'Lead Origin': 'Landing Page Submission' }).probability
 */
export function predict(model: PredictiveModel, row: RawRow): Prediction {
  const encoded = encodeRow(model.spec, row);
  const raw =
    model.estimator.kind === 'logistic'
      ? logisticContributions(model.estimator, encoded.inputs)
      : gbdtContributions(model.estimator, encoded.inputs);
  const { a, b } = model.calibration;
  const perColumn = new Float64Array(model.spec.columns.length);
  raw.contributions.forEach((c, j) => {
    perColumn[model.spec.inputColumn[j]!]! += a * c;
  });
  const logit = a * raw.logit + b;
  const probability = sigmoid(logit);
  if (!Number.isFinite(probability)) throw new Error(`predictive model produced a non-finite probability (${logit})`);
  const factors = model.spec.columns
    .map((c, k) => ({ column: c.name, value: row[c.name] ?? null, contribution: perColumn[k]! }))
    .sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution));
  return { probability, base: a * raw.base + b, logit, factors, absent: encoded.absent, invalid: encoded.invalid };
}

/** The top `n` factors that raise and that lower the probability. */
export function topFactors(prediction: Prediction, n = 5): { positive: Factor[]; negative: Factor[] } {
  return {
    positive: prediction.factors.filter((f) => f.contribution > 1e-9).slice(0, n),
    negative: prediction.factors.filter((f) => f.contribution < -1e-9).slice(0, n),
  };
}
