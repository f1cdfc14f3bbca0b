import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/scoring/backtest-metrics.js';
import { DATA } from '../support/captures.js';
import { createWorkspace, type RunningServer, startServer } from '../support/crash-harness.js';
import { kerma } from '../support/run-kerma.js';
import { writeXeducationSplit, XEDUCATION_LEAKY } from '../support/xeducation-split.js';

const LEAKY = XEDUCATION_LEAKY.join(',');

interface Trained {
  modelId: string;
  rows: number;
  positives: number;
  validation: { auc: number; logLoss: number };
}
interface Evaluated {
  rows: number;
  positives: number;
  auc: number;
  logLoss: number;
  brier: number;
  missingColumns: string[];
}

/**
 * The X Education leads on the fixed split (train on `train`, report on `test`), through the CLI as a script would.
 * Floors a little under the goals (test ROC AUC 0.897 without the leaky columns, 0.979 with all; log loss no worse than
 * scikit-learn's logistic regression, 0.418 / 0.171), so a regression fails the build.
 */
describe('kerma train / evaluate on the X Education leads', () => {
  let dir: string;
  let db: string;
  let train: string;
  let test: string;
  let testIds: Set<string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kerma-predictive-'));
    db = join(dir, 'kerma.db');
    ({ train, test, testIds } = writeXeducationSplit(dir));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const trainAndTest = (kind: string, exclude: string[]) => {
    const t = kerma([
      'train',
      '--db',
      db,
      '--data',
      train,
      '--outcome',
      'column:Converted',
      '--model',
      kind,
      ...exclude,
      '--no-activate',
      '--json',
    ]);
    expect(t.code, t.stderr).toBe(0);
    const trained = JSON.parse(t.stdout) as Trained;
    expect(trained).toMatchObject({ rows: 6468, positives: 2493 });
    const e = kerma([
      'evaluate',
      '--db',
      db,
      '--model',
      trained.modelId,
      '--data',
      test,
      '--outcome',
      'column:Converted',
      '--json',
    ]);
    expect(e.code, e.stderr).toBe(0);
    const evaluated = JSON.parse(e.stdout) as Evaluated;
    expect(evaluated).toMatchObject({ rows: 2772, positives: 1068, missingColumns: [] });
    return { trained, evaluated, stderr: t.stderr };
  };

  it('gradient-boosted trees without the leaky columns: test AUC ≥ 0.895, log loss ≤ 0.418', () => {
    const { trained, evaluated, stderr } = trainAndTest('gbdt', ['--exclude', LEAKY]);
    expect(stderr).toMatch(/no workspace yet: created workspace "Default"/);
    expect(stderr).toMatch(/growing trees: done/);
    expect(trained.validation.auc).toBeGreaterThan(0.88);
    expect(evaluated.auc).toBeGreaterThanOrEqual(0.895);
    expect(evaluated.logLoss).toBeLessThanOrEqual(0.418);
  });

  it('gradient-boosted trees with every column: test AUC ≥ 0.978, log loss ≤ 0.171', () => {
    const { evaluated } = trainAndTest('gbdt', []);
    expect(evaluated.auc).toBeGreaterThanOrEqual(0.978);
    expect(evaluated.logLoss).toBeLessThanOrEqual(0.171);
  });

  it('logistic regression matches scikit-learn within a point (0.885 / 0.980 AUC)', () => {
    const noLeak = trainAndTest('logistic', ['--exclude', LEAKY]).evaluated;
    expect(noLeak.auc).toBeGreaterThanOrEqual(0.875);
    expect(noLeak.logLoss).toBeLessThanOrEqual(0.425);
    const all = trainAndTest('logistic', []).evaluated;
    expect(all.auc).toBeGreaterThanOrEqual(0.975);
    expect(all.logLoss).toBeLessThanOrEqual(0.18);
  });

  it('a model trained on the file scores the same leads imported as contacts exactly as it scores the file', () => {
    const leads = join(DATA, 'xeducation', 'leads.csv');
    expect(kerma(['import', 'contacts', leads, '--id', 'Prospect ID', '--db', db]).code).toBe(0);
    const t = kerma([
      'train',
      '--db',
      db,
      '--data',
      train,
      '--outcome',
      'column:Converted',
      '--exclude',
      LEAKY,
      '--json',
    ]);
    expect(t.code, t.stderr).toBe(0);
    const trained = JSON.parse(t.stdout) as Trained & { active: boolean; contactsScored: number };
    expect(trained).toMatchObject({ active: true, contactsScored: 9240 });
    expect(t.stderr).toMatch(/scoring contacts: done \(9240\/9240\)/);
    const evaluated = JSON.parse(
      kerma(['evaluate', '--db', db, '--model', 'active', '--data', test, '--outcome', 'column:Converted', '--json'])
        .stdout,
    ) as Evaluated;
    const sqlite = new BetterSqlite3(db, { readonly: true });
    const contacts = sqlite.prepare('SELECT id, user_id, traits, probability FROM contacts').all() as Array<{
      id: string;
      user_id: string;
      traits: string;
      probability: number;
    }>;
    sqlite.close();
    const held = contacts.filter((c) => testIds.has(c.user_id));
    expect(held).toHaveLength(2772);
    const auc = rocAuc(
      held.map((c) => ({ score: c.probability, positive: JSON.parse(c.traits).converted === 1, at: 0 })),
    );
    expect(auc).toBeCloseTo(evaluated.auc, 12);
    const explained = kerma(['predictive', 'explain', held[0]!.id, '--db', db, '--json']);
    expect(explained.code, explained.stderr).toBe(0);
    const p = JSON.parse(explained.stdout) as {
      probability: number;
      base: number;
      logit: number;
      positive: Array<{ column: string; contribution: number }>;
      negative: Array<{ column: string; contribution: number }>;
    };
    expect(p.probability).toBeCloseTo(held[0]!.probability, 12);
    expect(p.positive.length + p.negative.length).toBeGreaterThan(0);
    const card = kerma(['predictive', 'show', trained.modelId, '--db', db]);
    expect(card.stdout).toMatch(/gradient-boosted trees for column:Converted/);
    expect(card.stdout).toMatch(/Prospect ID: an identifier \(every value is distinct\)/);
    expect(card.stdout).toMatch(/top factors/);
  });

  it('reads semicolon CSVs with yes/no and true/false outcomes, and leaves out rows with another value, by line', () => {
    const rows = parse(readFileSync(train), { columns: true }) as Array<Record<string, string>>;
    const odd = rows.slice(0, 600).map((r, i) => ({
      ...r,
      Converted: i === 5 ? 'maybe' : r.Converted === '1' ? (i % 2 ? 'yes' : 'TRUE') : i % 2 ? 'no' : 'false',
    }));
    const file = join(dir, 'semicolon.csv');
    writeFileSync(file, stringify(odd, { header: true, delimiter: ';' }));
    const r = kerma(['train', '--db', db, '--data', file, '--outcome', 'column:Converted', '--no-activate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 599 });
    expect(r.stderr).toMatch(
      /1 row\(s\) left out, their outcome is not a yes or a no:\n {2}line 7: Converted is "maybe"; expected 1\/0, true\/false or yes\/no/,
    );
    const e = kerma([
      'evaluate',
      '--db',
      db,
      '--model',
      JSON.parse(r.stdout).modelId,
      '--data',
      file,
      '--outcome',
      'column:Converted',
      '--json',
    ]);
    expect(JSON.parse(e.stdout)).toMatchObject({ rows: 599 });
  });

  it('bad input: too few rows, a missing outcome column, a missing model column, a wrong outcome or model id', () => {
    const rows = parse(readFileSync(train), { columns: true }) as Array<Record<string, string>>;
    const small = join(dir, 'small.csv');
    writeFileSync(small, stringify(rows.slice(0, 150), { header: true }));
    const few = kerma(['train', '--db', db, '--data', small, '--outcome', 'column:Converted']);
    expect(few.code).toBe(2);
    expect(few.stderr).toMatch(
      /not enough data to train: it has 150 rows with \d+ positive and \d+ negative outcomes; training needs at least 200 rows and 40 of each outcome/,
    );
    const noColumn = kerma(['train', '--db', db, '--data', small, '--outcome', 'column:Won']);
    expect(noColumn.code).toBe(2);
    expect(noColumn.stderr).toMatch(
      /small\.csv line 1: missing column\(s\) "Won"; the header has "Prospect ID", "Lead Number"/,
    );
    const withoutSource = join(dir, 'no-source.csv');
    writeFileSync(
      withoutSource,
      stringify(
        rows.slice(0, 300).map(({ 'Lead Source': _, ...r }) => r),
        { header: true },
      ),
    );
    const e = kerma([
      'evaluate',
      '--db',
      db,
      '--model',
      '1',
      '--data',
      withoutSource,
      '--outcome',
      'column:Converted',
      '--json',
    ]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(
      /warning: .*no-source\.csv has no column "Lead Source"; every row is scored with it missing/,
    );
    expect(JSON.parse(e.stdout)).toMatchObject({ rows: 300, missingColumns: ['Lead Source'] });
    const wrongOutcome = kerma(['train', '--db', db, '--data', small, '--outcome', 'won']);
    expect(wrongOutcome.code).toBe(2);
    expect(wrongOutcome.stderr).toMatch(/--outcome: with --data the outcome is a column of the file: column:NAME/);
    const wrongId = kerma(['evaluate', '--db', db, '--model', '99', '--data', small, '--outcome', 'column:Converted']);
    expect(wrongId.code).toBe(2);
    expect(wrongId.stderr).toMatch(/no predictive model 99 in this workspace/);
    const within = kerma(['train', '--db', db, '--data', small, '--outcome', 'column:Converted', '--within', '30']);
    expect(within.code).toBe(2);
    expect(within.stderr).toMatch(/--within applies to stage outcomes: won, sql or stage:NAME/);
    const badKind = kerma(['train', '--db', db, '--data', small, '--outcome', 'column:Converted', '--model', 'forest']);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toMatch(/Allowed choices are gbdt, logistic/);
  });
});

describe('kerma serve keeps predictions current (debounced pass)', () => {
  let dir: string;
  let server: RunningServer | null = null;
  afterAll(() => {
    server?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a trait change reaches the contact’s probability within the pass interval, without retraining', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kerma-predictive-serve-'));
    const db = ['--db', join(dir, 'kerma.db')];
    const { train, leads } = writeXeducationSplit(dir);
    const ws = await createWorkspace(db);
    expect(kerma(['import', 'contacts', leads, '--id', 'Prospect ID', ...db]).code).toBe(0);
    const t = kerma(['train', ...db, '--data', train, '--outcome', 'column:Converted', '--exclude', LEAKY, '--json']);
    expect(t.code, t.stderr).toBe(0);
    server = await startServer(db, { KERMA_PREDICTION_INTERVAL_SECONDS: '1' });
    const api = async (path: string) =>
      (await fetch(`${server!.url}${path}`, { headers: { authorization: `Bearer ${ws.secretKey}` } })).json();
    const sqlite = () => new BetterSqlite3(db[1]!, { readonly: true });
    // The lead the model gives the lowest chance.
    const first = sqlite();
    const { user_id: prospect } = first.prepare('SELECT user_id FROM contacts ORDER BY probability LIMIT 1').get() as {
      user_id: string;
    };
    first.close();
    const read = () => {
      const conn = sqlite();
      const row = conn.prepare('SELECT id, probability FROM contacts WHERE user_id = ?').get(prospect) as {
        id: string;
        probability: number;
      };
      conn.close();
      return row;
    };
    const before = read();
    expect(before.probability).toBeLessThan(0.05);
    const sent = await fetch(`${server.url}/v1/identify`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
      body: JSON.stringify({
        userId: prospect,
        traits: { lead_origin: 'Lead Add Form', total_time_spent_on_website: 1800 },
        messageId: 'trait-change-1',
      }),
    });
    expect(sent.status).toBe(200);
    let after = before;
    for (let i = 0; i < 50 && after.probability === before.probability; i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = read();
    }
    expect(after.probability).toBeGreaterThan(before.probability * 2);
    const explained = (await api(`/api/contacts/${before.id}/prediction`)) as {
      probability: number;
      positive: Array<{ column: string; value: unknown }>;
    };
    expect(explained.probability).toBeCloseTo(after.probability, 12);
    expect(explained.positive.map((f) => f.column)).toContain('Lead Origin');
  });
});
