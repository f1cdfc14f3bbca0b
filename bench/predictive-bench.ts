// npm run bench:predictive — Kerma's predictive models on the X Education leads (fixed split: train on `train`, report
// on `test`) beside scikit-learn's published numbers for the same split, then on a 50,000-row generated set beside the
// generating model itself (the best any model can do there). Training time, and scoring speed, for both model kinds.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTrainingCsv } from '../src/predictions/read-training-csv.js';
import { evaluatePredictions } from '../src/predictive/evaluate-predictions.js';
import { type ModelKind, type PredictiveModel, predict } from '../src/predictive/predictive-model.js';
import type { RawRow } from '../src/predictive/raw-row.js';
import { sigmoid } from '../src/predictive/sigmoid.js';
import { DEFAULT_TRAINING, trainPredictiveModel } from '../src/predictive/train-predictive-model.js';
import { seededRandom } from '../src/seeded-random.js';
import { writeXeducationSplit, XEDUCATION_LEAKY } from '../test/support/xeducation-split.js';

const KINDS: ModelKind[] = ['logistic', 'gbdt'];
// scikit-learn 1.2.1 on the same split (../shared/data/README.md): [ROC AUC, log loss].
const SKLEARN = {
  noLeak: { logistic: [0.885, 0.418], gbdt: [0.902, 0.383] },
  all: { logistic: [0.98, 0.171], gbdt: [0.984, 0.151] },
} as const;
const GOALS = { noLeak: [0.897, 0.418], all: [0.979, 0.171] } as const;

function train(rows: RawRow[], labels: boolean[], columns: string[], kind: ModelKind) {
  const started = performance.now();
  const r = trainPredictiveModel(rows, labels, columns, { kind, outcome: 'column:outcome', ...DEFAULT_TRAINING });
  if (!r.ok) throw new Error(r.message);
  return { model: r.model, seconds: (performance.now() - started) / 1000 };
}

function measure(model: PredictiveModel, rows: RawRow[], labels: boolean[]) {
  const started = performance.now();
  const p = rows.map((row) => predict(model, row).probability);
  const perSecond = rows.length / ((performance.now() - started) / 1000);
  return { ...evaluatePredictions(p, labels), perSecond };
}

const f = (x: number, d = 4) => x.toFixed(d);

async function xeducation(dir: string): Promise<string[]> {
  const { train: trainFile, test: testFile } = writeXeducationSplit(dir);
  const trainSet = await readTrainingCsv(trainFile, 'Converted');
  const testSet = await readTrainingCsv(testFile, 'Converted');
  const out = [
    '| features | model | Kerma test AUC | scikit-learn AUC | goal AUC | Kerma log loss | scikit-learn log loss | goal log loss | Brier | train s | scores/s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const set of ['noLeak', 'all'] as const) {
    const columns = trainSet.columns.filter((c) => set === 'all' || !XEDUCATION_LEAKY.includes(c));
    for (const kind of KINDS) {
      const { model, seconds } = train(trainSet.rows, trainSet.labels, columns, kind);
      const m = measure(model, testSet.rows, testSet.labels);
      const [skAuc, skLoss] = SKLEARN[set][kind];
      const [goalAuc, goalLoss] = GOALS[set];
      out.push(
        `| ${set === 'all' ? 'all columns' : 'without the 4 leaky columns'} | ${kind} | ${f(m.auc)} | ${skAuc} | ≥ ${goalAuc} | ${f(m.logLoss)} | ${skLoss} | ≤ ${goalLoss} | ${f(m.brier)} | ${f(seconds, 2)} | ${Math.round(m.perSecond).toLocaleString('en')} |`,
      );
    }
  }
  return out;
}

/** Leads with categorical and numeric columns, missing values, a rare-level tail and an interaction; the true log-odds too. */
function generate(n: number, seed: number) {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const sources = ['google', 'linkedin', 'newsletter', 'direct', 'partner', 'webinar', 'facebook', 'event'];
  const sourceEffect = [0.6, 0.9, -0.4, 0, 1.2, 0.8, -0.8, 0.3];
  const industries = Array.from({ length: 12 }, (_, i) => `industry-${i}`);
  const countries = Array.from({ length: 40 }, (_, i) => `country-${i}`);
  const roles = ['engineer', 'manager', 'director', 'vp', 'student', 'other'];
  const roleEffect = [0, 0.5, 1, 1.3, -1.5, -0.3];
  const rows: RawRow[] = [];
  const labels: boolean[] = [];
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = Math.floor(random() * sources.length);
    const ind = Math.floor(random() * industries.length);
    const country = countries[Math.min(39, Math.floor(-Math.log(1 - random()) * 6))]!;
    const r = Math.floor(random() * roles.length);
    const visits = Math.floor(-Math.log(1 - random()) * 4);
    const minutes = Math.exp(1.5 + normal());
    const size = random() < 0.15 ? null : Math.round(Math.exp(4 + 1.5 * normal()));
    const noise = normal();
    let t = -1.2 + sourceEffect[s]! + roleEffect[r]! + (ind < 3 ? 0.7 : ind > 9 ? -0.6 : 0);
    t += 0.12 * Math.min(visits, 15) + 0.25 * Math.log1p(minutes) + (size === null ? -0.3 : 0.2 * Math.log10(size + 1));
    if (ind === 0 && visits > 5) t += 1; // an interaction trees can find and a linear model cannot
    if (country === 'country-0') t += 0.3;
    rows.push({
      source: sources[s],
      industry: industries[ind],
      country,
      role: roles[r],
      visits,
      minutes_on_site: minutes.toFixed(1),
      company_size: size,
      page_group: pick(['/pricing', '/blog', '/docs', '/careers']),
      noise: noise.toFixed(3),
    });
    labels.push(random() < sigmoid(t));
    truth.push(t);
  }
  return { rows, labels, truth };
}

function generated(): string[] {
  const all = generate(60_000, 5);
  const cut = 50_000;
  const columns = Object.keys(all.rows[0]!);
  const testRows = all.rows.slice(cut);
  const testLabels = all.labels.slice(cut);
  const oracle = evaluatePredictions(all.truth.slice(cut).map(sigmoid), testLabels);
  const out = [
    `Generated: ${cut.toLocaleString('en')} training rows, ${(all.rows.length - cut).toLocaleString('en')} test rows, ${columns.length} columns (5 categorical with up to 40 levels, 4 numeric, company size 15 % missing; one of each kind is pure noise) and one interaction.`,
    '',
    '| model | test AUC | generating model AUC | test log loss | generating model log loss | train s | trees / iterations | scores/s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const kind of KINDS) {
    const { model, seconds } = train(all.rows.slice(0, cut), all.labels.slice(0, cut), columns, kind);
    const m = measure(model, testRows, testLabels);
    out.push(
      `| ${kind} | ${f(m.auc)} | ${f(oracle.auc)} | ${f(m.logLoss)} | ${f(oracle.logLoss)} | ${f(seconds, 2)} | ${model.card.training.iterations} | ${Math.round(m.perSecond).toLocaleString('en')} |`,
    );
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'kerma-bench-predictive-'));
try {
  console.log(`# bench:predictive — ${cpus().length} cores, Node ${process.version}\n`);
  console.log(
    'X Education leads, fixed split (6,468 train / 2,772 test); validation = 20 % of train, stratified, seed 42.\n',
  );
  for (const line of await xeducation(dir)) console.log(line);
  console.log('');
  for (const line of generated()) console.log(line);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
