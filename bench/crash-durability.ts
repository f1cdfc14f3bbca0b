// npm run bench:crash — ingest load with SIGKILL of the server at random moments, 20 times per engine; then every
// acknowledged messageId must be stored exactly once and the rollups must match the stored events.
import { openStorage } from '../src/storage/open-storage.js';
import { checkAfterCrashes } from '../test/support/crash-check.js';
import { createWorkspace, driveLoad, type RunningServer, startServer } from '../test/support/crash-harness.js';
import { createTestDatabase, type TestEngine } from '../test/support/test-storage.js';

const KILLS = Number(process.env['CRASH_KILLS'] ?? 20);

async function run(engine: TestEngine) {
  const database = await createTestDatabase({}, engine);
  try {
    const ws = await createWorkspace(database.cliArgs);
    let server: RunningServer = await startServer(database.cliArgs);
    const stop = new AbortController();
    const load = driveLoad(() => server.url, ws.writeKey, `crash-${engine}`, 8, stop.signal);
    for (let kill = 1; kill <= KILLS; kill++) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      process.stderr.write(`${engine}: kill ${kill}/${KILLS}\n`);
      server = await startServer(database.cliArgs);
    }
    await new Promise((r) => setTimeout(r, 500));
    stop.abort();
    const result = await load;
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    const storage = await openStorage(database.config);
    try {
      return { engine, sent: result.sent, ...(await checkAfterCrashes(storage.db, ws.id, result.acked)) };
    } finally {
      await storage.close();
    }
  } finally {
    await database.cleanup();
  }
}

const rows = [await run('sqlite'), await run('postgres')];
const lines = [
  `Crash durability: ${KILLS} SIGKILLs of \`kerma serve\` per engine under load (8 clients, 50-event batches)`,
  '',
  '| engine | events sent | acknowledged (200) | acknowledged but lost | stored twice | stored events | rollup page views = stored page views |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.engine} | ${r.sent} | ${r.acked} | ${r.lost} | ${r.duplicated} | ${r.stored} | ${r.rollupPageViews === r.storedPageViews ? 'yes' : 'NO'} (${r.rollupPageViews} / ${r.storedPageViews}) |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
if (rows.some((r) => r.lost > 0 || r.duplicated > 0 || r.rollupPageViews !== r.storedPageViews)) process.exitCode = 1;
