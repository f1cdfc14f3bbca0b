import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzCsv, fuzzHttp } from '../support/fuzz.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

/**
 * 10,000 generated malformed and half-right inputs (fast-check, fixed seeds) across every ingest route, the CRM and
 * spend endpoints and the CSV importers: no crash, no 5xx, every 4xx says what was wrong. `npm run bench:fuzz` runs
 * 100,000.
 */
describe(`fuzzing ingest, CRM, spend and the CSV importers (${testEngine})`, () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await createTestApp({ commitDelayMs: 0 });
    dir = mkdtempSync(join(tmpdir(), 'kerma-fuzz-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('9,700 HTTP requests: no crash, no 5xx, every 4xx explained', async () => {
    const tally = await fuzzHttp(t.app, t, 9_700, 20261201);
    expect(tally.payloads).toBe(9_700);
    expect(tally.examples.join('\n---\n')).toBe('');
    expect({ crashes: tally.crashes, serverErrors: tally.serverErrors, unexplained: tally.unexplained }).toEqual({
      crashes: 0,
      serverErrors: 0,
      unexplained: 0,
    });
    // The generator reaches both sides: accepted requests and refused ones.
    expect(tally.byStatus['200'], JSON.stringify(tally.byStatus)).toBeGreaterThan(250);
    expect(tally.byStatus['400'], JSON.stringify(tally.byStatus)).toBeGreaterThan(1000);
  }, 240_000);

  it('300 CSV files through the importers: refused with a message or rows rejected with reasons, never a crash', async () => {
    const ws = (await t.runtime.workspaces.get(t.workspaceId))!;
    const tally = await fuzzCsv(t.runtime.storage, ws, dir, 300, 7);
    expect(tally.examples.join('\n---\n')).toBe('');
    expect(tally.crashes).toBe(0);
    expect(tally.unexplained).toBe(0);
  }, 240_000);
});
