// npm run bench:crash — ingest load with SIGKILL of the server at random moments, 20 times per engine; then every
// acknowledged messageId must be stored exactly once and the rollups must match the stored events.
import { runCrashRounds } from '../test/support/crash-check.js';
import { createTestDatabase, type TestEngine } from '../test/support/test-storage.js';

const KILLS = Number(process.env['CRASH_KILLS'] ?? 20);

async function run(engine: TestEngine) {
  const database = await createTestDatabase({}, engine);
  try {
    const check = await runCrashRounds(database, {
      kills: KILLS,
      clients: 8,
      minMs: 300,
      spreadMs: 1200,
      prefix: `crash-${engine}`,
      onKill: (kill) => process.stderr.write(`${engine}: kill ${kill}/${KILLS}\n`),
    });
    return { engine, ...check };
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
