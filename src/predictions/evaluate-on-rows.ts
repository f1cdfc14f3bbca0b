import { evaluatePredictions, type PredictionMetrics } from '../predictive/evaluate-predictions.js';
import { type PredictiveModel, predict } from '../predictive/predictive-model.js';
import type { TrainingCsv } from './read-training-csv.js';

export interface Evaluation extends PredictionMetrics {
  /** Model columns the data does not have: every row is scored with them missing. */
  missingColumns: string[];
  /** Numeric model columns with values that are not numbers, and how many (scored as missing). */
  invalidValues: Record<string, number>;
}

/** A stored model's predictions on labelled rows (e.g. a held-out CSV), measured. */
export function evaluateOnRows(model: PredictiveModel, data: TrainingCsv): Evaluation {
  const have = new Set(data.columns);
  const invalidValues: Record<string, number> = {};
  const probabilities = data.rows.map((row) => {
    const prediction = predict(model, row);
    for (const c of prediction.invalid) invalidValues[c] = (invalidValues[c] ?? 0) + 1;
    return prediction.probability;
  });
  return {
    ...evaluatePredictions(probabilities, data.labels),
    missingColumns: model.spec.columns.map((c) => c.name).filter((c) => !have.has(c)),
    invalidValues,
  };
}
