import { sigmoid } from './sigmoid.js';

/** One regression tree, as parallel arrays: node i splits on `feature[i]` (−1 for a leaf) at `threshold[i]`. */
export interface Tree {
  feature: number[];
  /** Rows with input ≤ threshold go left. */
  threshold: number[];
  left: number[];
  right: number[];
  /** Log-odds step of the node (shrinkage applied); internal nodes keep theirs, for per-feature contributions. */
  value: number[];
}

export interface GbdtModel {
  kind: 'gbdt';
  /** Log-odds of the training base rate: where every prediction starts. */
  baseScore: number;
  trees: Tree[];
  learningRate: number;
  /** Trees kept: the iteration with the best validation log loss. */
  iterations: number;
}

export interface GbdtOptions {
  learningRate: number;
  maxIterations: number;
  maxLeafNodes: number;
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  maxBins: number;
  /** Stop when the validation log loss has not improved for this many iterations. */
  patience: number;
}

export const DEFAULT_GBDT_OPTIONS: GbdtOptions = {
  learningRate: 0.1,
  maxIterations: 500,
  maxLeafNodes: 31,
  maxDepth: 10,
  minSamplesLeaf: 20,
  l2: 1,
  maxBins: 255,
  patience: 20,
};

interface Split {
  gain: number;
  feature: number;
  bin: number;
}

interface Candidate {
  node: number;
  rows: Uint32Array;
  depth: number;
  hist: Float64Array;
  split: Split | null;
}

/**
 * Histogram gradient-boosted trees for log loss (the design of LightGBM and scikit-learn's HistGradientBoosting):
 * inputs binned into at most `maxBins` quantile bins, trees grown best-leaf-first up to `maxLeafNodes` leaves with a
 * leaf minimum and L2 on the leaf values, each leaf's histogram the parent's minus its smaller sibling's, and early
 * stopping on the validation rows. No maintained gradient-boosting trainer exists for Node, hence this small one.
 * Deterministic: it has no randomness of its own.
 * @example trainGbdt(fit, validation, width, DEFAULT_GBDT_OPTIONS, (i) => progress(i))
 */
export function trainGbdt(
  fit: { matrix: Float64Array; labels: Uint8Array },
  validation: { matrix: Float64Array; labels: Uint8Array },
  width: number,
  options: GbdtOptions = DEFAULT_GBDT_OPTIONS,
  onIteration?: (iteration: number, validationLogLoss: number) => void,
): GbdtModel {
  const n = fit.labels.length;
  const { binned, edges, offsets, totalBins } = binInputs(fit.matrix, n, width, options.maxBins);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += fit.labels[i]!;
  const rate = Math.min(Math.max(positives / n, 1e-6), 1 - 1e-6);
  const baseScore = Math.log(rate / (1 - rate));
  const raw = new Float64Array(n).fill(baseScore);
  const nv = validation.labels.length;
  const rawValidation = new Float64Array(nv).fill(baseScore);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const trees: Tree[] = [];
  let best = { loss: logLoss(rawValidation, validation.labels), iterations: 0 };
  for (let iteration = 1; iteration <= options.maxIterations; iteration++) {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(raw[i]!);
      g[i] = p - fit.labels[i]!;
      h[i] = Math.max(p * (1 - p), 1e-16);
    }
    const { tree, leafRows } = growTree(binned, edges, offsets, totalBins, n, width, g, h, options);
    trees.push(tree);
    for (const [node, rows] of leafRows) for (const i of rows) raw[i]! += tree.value[node]!;
    for (let i = 0; i < nv; i++) rawValidation[i]! += treeValue(tree, validation.matrix, i * width);
    const loss = logLoss(rawValidation, validation.labels);
    onIteration?.(iteration, loss);
    if (loss < best.loss - 1e-7) best = { loss, iterations: iteration };
    else if (iteration - best.iterations >= options.patience) break;
  }
  return {
    kind: 'gbdt',
    baseScore,
    trees: trees.slice(0, best.iterations),
    learningRate: options.learningRate,
    iterations: best.iterations,
  };
}

function growTree(
  binned: Uint8Array,
  edges: Float64Array[],
  offsets: Int32Array,
  totalBins: number,
  n: number,
  width: number,
  g: Float64Array,
  h: Float64Array,
  options: GbdtOptions,
): { tree: Tree; leafRows: Map<number, Uint32Array> } {
  const tree: Tree = { feature: [], threshold: [], left: [], right: [], value: [] };
  const addNode = (hist: Float64Array): number => {
    const [gs, hs] = sums(hist, offsets, 0);
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push((-gs / (hs + options.l2)) * options.learningRate);
    return tree.feature.length - 1;
  };
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const rootHist = buildHistogram(binned, n, width, offsets, totalBins, all, g, h);
  const root: Candidate = { node: addNode(rootHist), rows: all, depth: 0, hist: rootHist, split: null };
  root.split = bestSplit(root, offsets, width, options);
  const open: Candidate[] = [root];
  const leafRows = new Map<number, Uint32Array>();
  let leaves = 1;
  while (leaves < options.maxLeafNodes) {
    let pick = -1;
    for (let i = 0; i < open.length; i++) {
      const s = open[i]!.split;
      if (s && (pick < 0 || s.gain > open[pick]!.split!.gain)) pick = i;
    }
    if (pick < 0) break;
    const parent = open.splice(pick, 1)[0]!;
    const split = parent.split!;
    const column = split.feature * n;
    let leftCount = 0;
    for (const i of parent.rows) if (binned[column + i]! <= split.bin) leftCount++;
    const leftRows = new Uint32Array(leftCount);
    const rightRows = new Uint32Array(parent.rows.length - leftCount);
    let l = 0;
    let r = 0;
    for (const i of parent.rows) {
      if (binned[column + i]! <= split.bin) leftRows[l++] = i;
      else rightRows[r++] = i;
    }
    const smallIsLeft = leftRows.length <= rightRows.length;
    const small = buildHistogram(binned, n, width, offsets, totalBins, smallIsLeft ? leftRows : rightRows, g, h);
    const large = parent.hist;
    for (let b = 0; b < totalBins * 3; b++) large[b]! -= small[b]!;
    const leftHist = smallIsLeft ? small : large;
    const rightHist = smallIsLeft ? large : small;
    const node = parent.node;
    tree.feature[node] = split.feature;
    tree.threshold[node] = edges[split.feature]![split.bin]!;
    const child = (hist: Float64Array, rows: Uint32Array): Candidate => ({
      node: addNode(hist),
      rows,
      depth: parent.depth + 1,
      hist,
      split: null,
    });
    const left = child(leftHist, leftRows);
    const right = child(rightHist, rightRows);
    tree.left[node] = left.node;
    tree.right[node] = right.node;
    leaves++;
    for (const child of [left, right]) {
      if (child.depth < options.maxDepth) child.split = bestSplit(child, offsets, width, options);
      open.push(child);
    }
  }
  for (const c of open) leafRows.set(c.node, c.rows);
  return { tree, leafRows };
}

/** Histogram layout: for bin b of input f, at 3·(offsets[f] + b): sum of gradients, of hessians, and the row count. */
function buildHistogram(
  binned: Uint8Array,
  n: number,
  width: number,
  offsets: Int32Array,
  totalBins: number,
  rows: Uint32Array,
  g: Float64Array,
  h: Float64Array,
): Float64Array {
  const hist = new Float64Array(totalBins * 3);
  for (let f = 0; f < width; f++) {
    const column = f * n;
    const base = offsets[f]!;
    for (const i of rows) {
      const at = 3 * (base + binned[column + i]!);
      hist[at]! += g[i]!;
      hist[at + 1]! += h[i]!;
      hist[at + 2]!++;
    }
  }
  return hist;
}

function sums(hist: Float64Array, offsets: Int32Array, f: number): [number, number, number] {
  let gs = 0;
  let hs = 0;
  let count = 0;
  for (let b = offsets[f]!; b < offsets[f + 1]!; b++) {
    gs += hist[3 * b]!;
    hs += hist[3 * b + 1]!;
    count += hist[3 * b + 2]!;
  }
  return [gs, hs, count];
}

function bestSplit(candidate: Candidate, offsets: Int32Array, width: number, options: GbdtOptions): Split | null {
  const { hist } = candidate;
  if (candidate.rows.length < 2 * options.minSamplesLeaf) return null;
  const [G, H, C] = sums(hist, offsets, 0);
  const parentScore = (G * G) / (H + options.l2);
  let best: Split | null = null;
  for (let f = 0; f < width; f++) {
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let b = offsets[f]!; b < offsets[f + 1]! - 1; b++) {
      gl += hist[3 * b]!;
      hl += hist[3 * b + 1]!;
      cl += hist[3 * b + 2]!;
      if (cl < options.minSamplesLeaf) continue;
      if (C - cl < options.minSamplesLeaf) break;
      const gr = G - gl;
      const hr = H - hl;
      if (hl < 1e-3 || hr < 1e-3) continue;
      const gain = 0.5 * ((gl * gl) / (hl + options.l2) + (gr * gr) / (hr + options.l2) - parentScore);
      if (gain > 1e-7 && (!best || gain > best.gain)) best = { gain, feature: f, bin: b - offsets[f]! };
    }
  }
  return best;
}

/**
 * Bins each input: one bin per distinct value when there are few, else quantile bins. `edges[f][b]` is the upper
 * threshold of bin b (the midpoint to the next value), used as the split threshold on raw inputs.
 */
function binInputs(
  matrix: Float64Array,
  n: number,
  width: number,
  maxBins: number,
): { binned: Uint8Array; edges: Float64Array[]; offsets: Int32Array; totalBins: number } {
  const binned = new Uint8Array(n * width);
  const edges: Float64Array[] = [];
  const offsets = new Int32Array(width + 1);
  const column = new Float64Array(n);
  for (let f = 0; f < width; f++) {
    for (let i = 0; i < n; i++) column[i] = matrix[i * width + f]!;
    const sorted = Float64Array.from(column).sort();
    const distinct: number[] = [];
    for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
    let cuts: number[];
    if (distinct.length <= maxBins) {
      cuts = distinct.slice(0, -1).map((v, i) => (v + distinct[i + 1]!) / 2);
    } else {
      cuts = [];
      for (let q = 1; q < maxBins; q++) {
        const at = Math.floor((q * n) / maxBins);
        const lo = sorted[at - 1]!;
        const hi = sorted[at]!;
        if (lo === hi) continue;
        const cut = (lo + hi) / 2;
        if (cuts.length === 0 || cut > cuts[cuts.length - 1]!) cuts.push(cut);
      }
    }
    // The last bin's edge is +∞: every value at or below it.
    const e = Float64Array.from([...cuts, Number.POSITIVE_INFINITY]);
    edges.push(e);
    offsets[f + 1] = offsets[f]! + e.length;
    for (let i = 0; i < n; i++) {
      const v = column[i]!;
      let lo = 0;
      let hi = e.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v <= e[mid]!) hi = mid;
        else lo = mid + 1;
      }
      binned[f * n + i] = lo;
    }
  }
  return { binned, edges, offsets, totalBins: offsets[width]! };
}

function treeValue(tree: Tree, matrix: Float64Array, row: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0)
    node = matrix[row + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  return tree.value[node]!;
}

function logLoss(raw: Float64Array, labels: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i]!;
    sum += (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))) - labels[i]! * t;
  }
  return raw.length > 0 ? sum / raw.length : 0;
}

/**
 * Log-odds of one encoded row and each input's share (Saabas' path attribution): along each tree's path, the change
 * in node value is credited to the input the node split on. The shares add up to the log-odds minus `base`.
 */
export function gbdtContributions(
  model: GbdtModel,
  inputs: Float64Array,
): { logit: number; base: number; contributions: Float64Array } {
  const contributions = new Float64Array(inputs.length);
  let base = model.baseScore;
  let logit = model.baseScore;
  for (const tree of model.trees) {
    let node = 0;
    base += tree.value[0]!;
    while (tree.feature[node]! >= 0) {
      const f = tree.feature[node]!;
      const next = inputs[f]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
      contributions[f]! += tree.value[next]! - tree.value[node]!;
      node = next;
    }
    logit += tree.value[node]!;
  }
  return { logit, base, contributions };
}
