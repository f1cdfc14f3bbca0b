import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA, requireShared } from '../support/captures.js';
import { createWorkspace, startServer } from '../support/crash-harness.js';
import { kerma, ROOT } from '../support/run-kerma.js';

const FIT_MODEL = join(ROOT, 'examples', 'xeducation', 'fit-model.yaml');
const ORIGIN_MODEL = join(ROOT, 'examples', 'xeducation', 'origin-only.yaml');

describe('kerma model (built, on the X Education leads)', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kerma-model-'));
    db = join(dir, 'model.db');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validates the example models and refuses a broken one with path, line and exit code 2', () => {
    const ok = kerma(['model', 'validate', FIT_MODEL]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/model "xeducation-fit" is valid \(11 fit, 0 engagement rules, 0 triggers\)/);
    const broken = join(dir, 'broken.yaml');
    const text = readFileSync(FIT_MODEL, 'utf8')
      .replace('equals: Lead Add Form', 'equal: Lead Add Form')
      .replace('between: [700, 100000]', 'between: [700]');
    writeFileSync(broken, text);
    const lines = text.split('\n');
    const line = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    const bad = kerma(['model', 'validate', broken]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      `fit[0].when.equal: unknown operator "equal" (line ${line('equal: Lead Add Form')}); expected one of equals, in, matches, between, exists, missing, domain_in`,
    );
    expect(bad.stderr).toContain(
      `fit[6].when.between: between takes two numbers, low first (line ${line('between: [700]')})`,
    );
    expect(bad.stderr).toMatch(/2 error\(s\), nothing was changed/);
    expect(kerma(['model', 'validate', join(dir, 'missing.yaml')]).stderr).toMatch(
      /cannot read model file .*missing\.yaml: ENOENT/,
    );
  });

  it('says how many outcomes a backtest needs when there are too few', () => {
    expect(kerma(['workspace', 'create', 'XEd', '--json', '--db', db]).code).toBe(0);
    const r = kerma(['model', 'backtest', FIT_MODEL, '--outcome', 'trait:converted', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs at least 20 contacts with the outcome and 20 without; found 0 with and 0 without/);
    const outcome = kerma(['model', 'backtest', FIT_MODEL, '--outcome', 'converted', '--db', db]);
    expect(outcome.stderr).toMatch(/unknown outcome "converted"; expected won, sql, stage:NAME or trait:NAME/);
  });

  it('backtests the hand-made fit model against Converted: ROC AUC 0.8515, and beside a naive model', () => {
    const file = requireShared(join(DATA, 'xeducation', 'leads.csv'));
    expect(kerma(['import', 'contacts', file, '--id', 'Prospect ID', '--db', db]).code).toBe(0);
    const r = kerma([
      'model',
      'backtest',
      FIT_MODEL,
      '--outcome',
      'trait:converted',
      '--compare',
      ORIGIN_MODEL,
      '--precision',
      '0.9',
      '--json',
      '--db',
      db,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/backtest contacts: done \(9240\/9240\)/);
    const result = JSON.parse(r.stdout) as {
      contacts: number;
      models: Array<{
        name: string;
        metrics: {
          rocAuc: number;
          positives: number;
          bands: Array<{ band: string; contacts: number; positives: number }>;
          thresholds: Array<{ threshold: number; above: number; truePositives: number }>;
        };
        forPrecision: { ok: boolean; threshold: number };
      }>;
    };
    expect(result.contacts).toBe(9240);
    const [fit, origin] = result.models;
    // Independently: the same points computed from the CSV in a few lines of Python, AUC by pairwise counting.
    expect(fit!.metrics.rocAuc).toBeCloseTo(0.8515, 4);
    expect(fit!.metrics.positives).toBe(3561);
    expect(fit!.metrics.bands.find((b) => b.band === 'mql')).toMatchObject({ contacts: 1061, positives: 999 });
    expect(fit!.forPrecision.ok).toBe(true);
    // The naive model only separates the 718 Lead Add Form leads (92.5 % converted) from the rest.
    expect(origin!.metrics.rocAuc).toBeCloseTo(0.5886, 4);
    expect(origin!.metrics.thresholds.find((t) => t.threshold === 40)).toMatchObject({
      above: 718,
      truePositives: 664,
    });
  });

  it('applies the fit model: every contact rescored, the MQLs moved to stage MQL, then a refresh has nothing to move', () => {
    const r = kerma(['model', 'apply', FIT_MODEL, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /model "xeducation-fit" is version 1 and active: 9240 contacts rescored, \d+ score changes recorded, 1061 at MQL \(1061 moved to stage MQL\)/,
    );
    expect(r.stderr).toMatch(/rescore contacts: done \(9240\/9240\)/);
    const refresh = kerma(['model', 'refresh', '--db', db]);
    expect(refresh.stdout).toMatch(/9240 scores checked, 0 moved, 0 triggers fired, 0 moved to stage MQL/);
    const atMql = kerma(['model', 'backtest', FIT_MODEL, '--outcome', 'trait:converted', '--at', 'mql', '--db', db]);
    // Every MQL of this model scores at least 40, so the backtest among MQLs only ranks within that band.
    expect(atMql.code, atMql.stderr).toBe(0);
    expect(atMql.stdout).toMatch(
      /9240 contacts, 0 without a known outcome left out, 8179 that never became an MQL left out/,
    );
    const bad = kerma(['model', 'apply', join(dir, 'broken.yaml'), '--db', db]);
    expect(bad.code).toBe(2);
    expect(kerma(['model', 'backtest', FIT_MODEL, '--outcome', 'trait:converted', '--db', db]).code).toBe(0);
    // Applied twice more: the third apply deletes version 1's scores, as only the active one and the one before it are read.
    expect(kerma(['model', 'apply', FIT_MODEL, '--db', db]).stdout).not.toMatch(/superseded/);
    const third = kerma(['model', 'apply', FIT_MODEL, '--db', db]);
    expect(third.stdout).toMatch(
      /is version 3 and active: 9240 contacts rescored.*; scores of superseded version 1 deleted\n$/,
    );
  });

  it('a running kerma serve scores with a model applied from the CLI, at once', async () => {
    const liveDb = join(dir, 'live.db');
    const ws = await createWorkspace(['--db', liveDb]);
    const server = await startServer(['--db', liveDb]);
    try {
      const model = join(dir, 'live.yaml');
      writeFileSync(
        model,
        'name: live\nengagement:\n  - id: pricing\n    when: { event: page, path: { prefix: /pricing } }\n    points: 15\nthresholds: { mql: 50 }\n',
      );
      const applied = kerma(['model', 'apply', model, '--db', liveDb]);
      expect(applied.code, applied.stderr).toBe(0);
      const sent = await fetch(`${server.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
        body: JSON.stringify({
          batch: [
            { type: 'identify', userId: 'u1', traits: { email: 'u1@acme.io' }, messageId: 'live-1' },
            {
              type: 'page',
              userId: 'u1',
              properties: { path: '/pricing', url: 'https://x.test/pricing' },
              messageId: 'live-2',
            },
          ],
        }),
      });
      expect(sent.status).toBe(200);
      const auth = { authorization: `Bearer ${ws.secretKey}` };
      const list = (await (await fetch(`${server.url}/api/contacts?email=u1%40acme.io`, { headers: auth })).json()) as {
        contacts: Array<{ id: string; score: number }>;
      };
      expect(list.contacts[0]!.score).toBeCloseTo(15, 3);
      const score = (await (
        await fetch(`${server.url}/api/contacts/${list.contacts[0]!.id}/score`, { headers: auth })
      ).json()) as {
        model: { version: number };
        contributions: Array<{ ruleId: string; eventId: string }>;
      };
      expect(score.model.version).toBe(1);
      expect(score.contributions).toEqual([expect.objectContaining({ ruleId: 'pricing', eventId: 'live-2' })]);
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
