import { minimizeLbfgs } from './minimize-lbfgs.js';
import { sigmoid } from './sigmoid.js';

/** A fitted L2-regularised logistic regression, on inputs standardised with the stored means and scales. */
export interface LogisticModel {
  kind: 'logistic';
  intercept: number;
  weights: number[];
  means: number[];
  scales: number[];
  l2: number;
  iterations: number;
  converged: boolean;
}

/**
 * Fits logistic regression by L-BFGS on standardised inputs, minimising mean log loss + l2/2·‖w‖² (the intercept is
 * not penalised; l2 = 1/(C·n) in scikit-learn's terms). Inputs with no spread get a scale of 1 and, by the penalty, a
 * weight of 0.
 * @example trainLogistic(matrix, labels, width, { l2: 1e-3 })
 */
export function trainLogistic(
  matrix: Float64Array,
  labels: Uint8Array,
  width: number,
  options: { l2: number; maxIterations?: number; tolerance?: number },
): LogisticModel {
  const n = labels.length;
  const means = new Float64Array(width);
  const scales = new Float64Array(width);
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) means[j]! += matrix[i * width + j]!;
  for (let j = 0; j < width; j++) means[j]! /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) scales[j]! += (matrix[i * width + j]! - means[j]!) ** 2;
  for (let j = 0; j < width; j++) {
    const sd = Math.sqrt(scales[j]! / n);
    scales[j] = sd > 1e-12 ? sd : 1;
  }
  const z = new Float64Array(n * width);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < width; j++) z[i * width + j] = (matrix[i * width + j]! - means[j]!) / scales[j]!;
  const residual = new Float64Array(n);
  // Parameters: [intercept, w_0 … w_{width-1}].
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let t = theta[0]!;
      const row = i * width;
      for (let j = 0; j < width; j++) t += theta[j + 1]! * z[row + j]!;
      // log(1 + e^t) − y·t, computed without overflow.
      loss += (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - labels[i]! * t;
      residual[i] = sigmoid(t) - labels[i]!;
    }
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const r = residual[i]!;
      if (r === 0) continue;
      grad[0]! += r;
      const row = i * width;
      for (let j = 0; j < width; j++) grad[j + 1]! += r * z[row + j]!;
    }
    let penalty = 0;
    for (let j = 0; j <= width; j++) grad[j]! /= n;
    for (let j = 1; j <= width; j++) {
      penalty += theta[j]! * theta[j]!;
      grad[j]! += options.l2 * theta[j]!;
    }
    return loss / n + (options.l2 / 2) * penalty;
  };
  const result = minimizeLbfgs(objective, new Float64Array(width + 1), {
    maxIterations: options.maxIterations ?? 2000,
    tolerance: options.tolerance ?? 1e-6,
  });
  return {
    kind: 'logistic',
    intercept: result.x[0]!,
    weights: Array.from(result.x.subarray(1)),
    means: Array.from(means),
    scales: Array.from(scales),
    l2: options.l2,
    iterations: result.iterations,
    converged: result.converged,
  };
}

/**
 * Log-odds of one encoded row, and each input's share of it: weight × standardised value, so the shares add up to
 * the log-odds minus the intercept (the log-odds of an average row).
 */
export function logisticContributions(
  model: LogisticModel,
  inputs: Float64Array,
): { logit: number; base: number; contributions: Float64Array } {
  const contributions = new Float64Array(model.weights.length);
  let logit = model.intercept;
  for (let j = 0; j < model.weights.length; j++) {
    const c = (model.weights[j]! * (inputs[j]! - model.means[j]!)) / model.scales[j]!;
    contributions[j] = c;
    logit += c;
  }
  return { logit, base: model.intercept, contributions };
}
