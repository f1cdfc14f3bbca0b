import { sigmoid } from './sigmoid.js';

/** p = σ(a·logit + b): a monotone map, so ranking (ROC AUC) is kept and only the probabilities move. */
export interface PlattScaling {
  a: number;
  b: number;
}

export const IDENTITY_SCALING: PlattScaling = { a: 1, b: 0 };

/**
 * Platt scaling fitted by damped Newton on held-out log-odds and labels (with Platt's smoothed targets, so a
 * perfectly separated validation set does not send a to infinity).
 * @example fitPlattScaling(Float64Array.of(-2, 0, 2), Uint8Array.of(0, 1, 1))
 */
export function fitPlattScaling(logits: Float64Array, labels: Uint8Array): PlattScaling {
  let positives = 0;
  for (const y of labels) positives += y;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return IDENTITY_SCALING;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (negatives + 2);
  const loss = (a: number, b: number) => {
    let sum = 0;
    for (let i = 0; i < logits.length; i++) {
      const z = a * logits[i]! + b;
      const t = labels[i] ? hi : lo;
      sum += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t * z;
    }
    return sum;
  };
  let a = 1;
  let b = 0;
  let current = loss(a, b);
  for (let iteration = 0; iteration < 100; iteration++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < logits.length; i++) {
      const x = logits[i]!;
      const t = labels[i] ? hi : lo;
      const p = sigmoid(a * x + b);
      const w = p * (1 - p);
      ga += (p - t) * x;
      gb += p - t;
      haa += w * x * x;
      hab += w * x;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-18)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // Damped Newton: halve the step until the loss does not rise.
    let step = 1;
    let next = loss(a - da, b - db);
    while (next > current && step > 1e-8) {
      step /= 2;
      next = loss(a - step * da, b - step * db);
    }
    if (next > current) break;
    a -= step * da;
    b -= step * db;
    const improvement = current - next;
    current = next;
    if (improvement < 1e-12 * Math.max(1, current)) break;
  }
  return Number.isFinite(a) && Number.isFinite(b) && a > 0 ? { a, b } : IDENTITY_SCALING;
}
