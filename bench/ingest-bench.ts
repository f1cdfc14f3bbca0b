// npm run bench:ingest — HTTP load on /v1/batch (100-event batches) against Kerma on SQLite, on PostgreSQL, and a bare
// Fastify endpoint that only parses the JSON, all in the same run on the same machine. BENCH_SECONDS per target (15);
// KERMA_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/kerma_bench, made anew and dropped after the
// run; BENCH_KEEP=1 keeps it).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { realisticBatches } from './realistic-batches.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'kerma.js');
const DURATION = Number(process.env['BENCH_SECONDS'] ?? 15);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const VISITORS = 20_000;
const BATCH = 100;
const PG_URL = process.env['KERMA_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/kerma_bench';

interface Result {
  target: string;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  peakRssMb: number;
  non2xx: number;
  stored: number | null;
}

function startProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, KERMA_LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = out.match(/http:\/\/[\d.]+:\d+/);
      if (match) resolve({ child, url: match[0] });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

async function load(
  url: string,
  writeKey: string,
): Promise<{ rps: number; p50: number; p99: number; non2xx: number; ok: number }> {
  // Enough templates for every visitor of the pool to appear (ten per batch), each sent again every VISITORS / 10
  // requests.
  const templates = realisticBatches(VISITORS / 10, BATCH, VISITORS, '__P__').map((b) =>
    b.replace('__WRITE_KEY__', writeKey),
  );
  let i = 0;
  const run = autocannon({
    url: `${url}/v1/batch`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { 'content-type': 'text/plain' },
    requests: [
      {
        setupRequest(request) {
          const n = i++;
          // A new prefix per request keeps every messageId unique, as real traffic is.
          return { ...request, body: templates[n % templates.length]!.replaceAll('__P__', `r${n}`) };
        },
      },
    ],
  });
  const result = await run;
  const ok = result['2xx'];
  return { rps: ok / DURATION, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, ok };
}

async function benchKerma(
  target: string,
  dbArgs: string[],
  count: () => Promise<number>,
  model?: string,
): Promise<Result> {
  const created = JSON.parse(
    execFileSync(process.execPath, [CLI, 'workspace', 'create', 'Bench', '--json', ...dbArgs], { encoding: 'utf8' }),
  ) as {
    writeKey: string;
  };
  if (model) execFileSync(process.execPath, [CLI, 'model', 'apply', model, ...dbArgs], { encoding: 'utf8' });
  const { child, url } = await startProcess([CLI, 'serve', '--port', '0', ...dbArgs]);
  try {
    const r = await load(url, created.writeKey);
    const peak = rssMb(child.pid!);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    return {
      target,
      eventsPerSecond: r.rps * BATCH,
      p50: r.p50,
      p99: r.p99,
      peakRssMb: peak,
      non2xx: r.non2xx,
      stored: (await count()) / Math.max(1, r.ok),
    };
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const results: Result[] = [];

  const bare = await startProcess([join(ROOT, 'dist', 'bench', 'bare-server.js'), '0']);
  try {
    const r = await load(bare.url, 'none');
    results.push({
      target: 'bare Fastify endpoint (parse JSON, answer 200)',
      eventsPerSecond: r.rps * BATCH,
      p50: r.p50,
      p99: r.p99,
      peakRssMb: rssMb(bare.child.pid!),
      non2xx: r.non2xx,
      stored: null,
    });
  } finally {
    bare.child.kill('SIGKILL');
  }

  const dir = mkdtempSync(join(tmpdir(), 'kerma-bench-'));
  const countSqlite = (file: string) => async () => {
    const { default: Sqlite } = (await import('better-sqlite3')) as unknown as {
      default: typeof import('better-sqlite3');
    };
    const db = new Sqlite(file, { readonly: true });
    const n = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    db.close();
    return n;
  };
  try {
    const file = join(dir, 'bench.db');
    results.push(await benchKerma('Kerma on SQLite', ['--db', file], countSqlite(file)));
    const scored = join(dir, 'scored.db');
    results.push(
      await benchKerma(
        'Kerma on SQLite, scoring model active (live scoring)',
        ['--db', scored],
        countSqlite(scored),
        join(ROOT, 'bench', 'bench-model.yaml'),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const admin = new URL(PG_URL);
  const dbName = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  /** Runs statements on the server's maintenance database, on a connection of their own. */
  const onServer = async (...statements: string[]) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  };
  const drop = `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`;
  let postgres = true;
  try {
    await onServer(drop, `CREATE DATABASE "${dbName}"`);
  } catch (error) {
    postgres = false;
    process.stderr.write(`PostgreSQL not reachable at ${PG_URL}: ${(error as Error).message}; skipping\n`);
  }
  if (postgres) {
    results.push(
      await benchKerma('Kerma on PostgreSQL', ['--database-url', PG_URL], async () => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        const n = Number((await c.query('SELECT count(*) AS n FROM events')).rows[0].n);
        await c.end();
        return n;
      }),
    );
    // The database made for the run goes with it, as the SQLite files do (BENCH_KEEP=1 keeps it).
    if (!process.env['BENCH_KEEP']) await onServer(drop);
  }

  const bareRate = results[0]!.eventsPerSecond;
  const lines = [
    `Ingest: POST /v1/batch, ${BATCH}-event analytics.js-style batches, ${CONNECTIONS} connections, ${DURATION} s each, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`,
    '',
    '| target | events/s | % of bare | p50 ms | p99 ms | peak RSS MB | non-2xx | stored events per 2xx |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.target} | ${Math.round(r.eventsPerSecond).toLocaleString('en-US')} | ${((r.eventsPerSecond / bareRate) * 100).toFixed(0)}% | ${r.p50} | ${r.p99} | ${r.peakRssMb.toFixed(0)} | ${r.non2xx} | ${r.stored === null ? '—' : r.stored.toFixed(2)} |`,
    ),
    '',
    'Goals: Kerma on SQLite ≥ 50% of bare and ≥ 30,000 events/s; on PostgreSQL ≥ 25% of bare. "stored events per 2xx" must be 100 (every acknowledged event stored, once).',
  ];
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'ingest.md'), `${text}\n`);
}

await main();
