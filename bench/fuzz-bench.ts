// npm run bench:fuzz — 100,000 generated malformed and half-right inputs per engine (fast-check, fixed seeds): 98,000
// HTTP requests across every ingest route, the CRM and spend endpoints, and 2,000 CSV files through the importers.
// Goal: 0 crashes, 0 5xx, 0 refusals without a message.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openRuntime } from '../src/kerma-runtime.js';
import { createApp } from '../src/server/create-app.js';
import { fuzzCsv, fuzzHttp, newTally } from '../test/support/fuzz.js';
import { createTestDatabase, type TestEngine } from '../test/support/test-storage.js';

const HTTP = Number(process.env['FUZZ_HTTP'] ?? 98_000);
const CSV = Number(process.env['FUZZ_CSV'] ?? 2_000);

async function run(engine: TestEngine) {
  const database = await createTestDatabase({ commitDelayMs: 0 }, engine);
  const runtime = await openRuntime(database.config, pino({ level: 'silent' }));
  const app = createApp(runtime);
  const dir = mkdtempSync(join(tmpdir(), 'kerma-fuzz-bench-'));
  const started = performance.now();
  try {
    const ws = await runtime.workspaces.create('Fuzz', { timeZone: 'UTC' });
    const tally = newTally();
    for (let done = 0; done < HTTP; done += 10_000) {
      await fuzzHttp(app, ws, Math.min(10_000, HTTP - done), 1000 + done, tally);
      process.stderr.write(`${engine}: ${tally.payloads} inputs\n`);
    }
    await fuzzCsv(runtime.storage, ws, dir, CSV, 77, tally);
    return { engine, tally, seconds: (performance.now() - started) / 1000 };
  } finally {
    await app.close();
    await runtime.close();
    await database.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [await run('sqlite'), await run('postgres')];
const lines = [
  `Fuzzing: ${HTTP.toLocaleString('en')} HTTP requests + ${CSV.toLocaleString('en')} CSV files per engine`,
  '',
  '| engine | inputs | crashes | 5xx | 4xx without a message | answers by status | seconds |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.engine} | ${r.tally.payloads.toLocaleString('en')} | ${r.tally.crashes} | ${r.tally.serverErrors} | ${r.tally.unexplained} | ${Object.entries(
        r.tally.byStatus,
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} | ${r.seconds.toFixed(0)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
for (const r of rows) for (const e of r.tally.examples) process.stdout.write(`${r.engine}: ${e}\n`);
if (rows.some((r) => r.tally.crashes + r.tally.serverErrors + r.tally.unexplained > 0)) process.exitCode = 1;
