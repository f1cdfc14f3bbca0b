/** The objective: its value at x, with the gradient written into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  /** True when the gradient's largest component fell under the tolerance. */
  converged: boolean;
  gradientNorm: number;
}

/**
 * Limited-memory BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line search, for smooth convex
 * objectives such as regularised log loss. Written here because no maintained Node optimiser fits a pure core.
 * @example minimizeLbfgs((x, g) => { g[0] = 2 * (x[0]! - 3); return (x[0]! - 3) ** 2 }, new Float64Array(1)).x // [3]
 */
export function minimizeLbfgs(
  objective: Objective,
  start: Float64Array,
  options: { maxIterations?: number; tolerance?: number; memory?: number } = {},
): LbfgsResult {
  const maxIterations = options.maxIterations ?? 1000;
  const tolerance = options.tolerance ?? 1e-7;
  const m = options.memory ?? 10;
  const n = start.length;
  let x = Float64Array.from(start);
  let grad = new Float64Array(n);
  let value = objective(x, grad);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const direction = new Float64Array(n);
  const alpha = new Float64Array(m);
  let iterations = 0;
  let gradientNorm = maxAbs(grad);
  while (gradientNorm > tolerance && iterations < maxIterations) {
    iterations++;
    // Two-loop recursion: direction = −H·grad.
    direction.set(grad);
    for (let i = s.length - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(s[i]!, direction);
      axpy(-alpha[i]!, y[i]!, direction);
    }
    const gamma = s.length > 0 ? dot(s[s.length - 1]!, y[y.length - 1]!) / dot(y[y.length - 1]!, y[y.length - 1]!) : 1;
    for (let i = 0; i < n; i++) direction[i]! *= gamma;
    for (let i = 0; i < s.length; i++) {
      const beta = rho[i]! * dot(y[i]!, direction);
      axpy(alpha[i]! - beta, s[i]!, direction);
    }
    for (let i = 0; i < n; i++) direction[i] = -direction[i]!;
    let slope = dot(grad, direction);
    if (slope >= 0) {
      // Not a descent direction (lost curvature): restart from steepest descent.
      s.length = y.length = rho.length = 0;
      for (let i = 0; i < n; i++) direction[i] = -grad[i]!;
      slope = dot(grad, direction);
    }
    let step = s.length === 0 ? Math.min(1, 1 / Math.max(Math.sqrt(dot(grad, grad)), 1e-12)) : 1;
    const next = new Float64Array(n);
    const nextGrad = new Float64Array(n);
    let nextValue = Number.POSITIVE_INFINITY;
    for (let tries = 0; tries < 60; tries++) {
      for (let i = 0; i < n; i++) next[i] = x[i]! + step * direction[i]!;
      nextValue = objective(next, nextGrad);
      if (nextValue <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(nextValue <= value)) break; // no progress possible at machine precision
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = next[i]! - x[i]!;
      yk[i] = nextGrad[i]! - grad[i]!;
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      if (s.length === m) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
    }
    const improvement = value - nextValue;
    x = next;
    grad = nextGrad;
    value = nextValue;
    gradientNorm = maxAbs(grad);
    if (improvement <= 1e-15 * Math.max(1, Math.abs(value))) break;
  }
  return { x, value, iterations, converged: gradientNorm <= tolerance, gradientNorm };
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i]! += a * x[i]!;
}

function maxAbs(a: Float64Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]!));
  return max;
}
