/** The logistic function, stable for large |t|. */
export function sigmoid(t: number): number {
  if (t >= 0) return 1 / (1 + Math.exp(-t));
  const e = Math.exp(t);
  return e / (1 + e);
}

/** Log-odds of a probability, clipped away from 0 and 1 so it stays finite. */
export function logit(p: number): number {
  const q = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
  return Math.log(q / (1 - q));
}
