// npm run bench:scoring — a full rescore (kerma model apply) of 200 000 contacts / 5 000 000 events after a model
// change, on SQLite and on PostgreSQL, beside DuckDB computing the same per-contact sum of decayed points in SQL on the
// same data, in the same run. A first model (BEFORE) is applied and timed too; then the changed model (MODEL), whose
// sums DuckDB computes, replaces it, three times, each on a copy of what the first model left and each right after a
// run of DuckDB's query (so both are timed at the same moment of the machine): the fastest of each counts, the ratio
// of each pair is shown too, and every run is checked against DuckDB. Sizes: BENCH_CONTACTS, BENCH_EVENTS;
// BENCH_ENGINES=sqlite|postgres to run one; BENCH_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/kerma_bench_scoring, created and dropped with its copies; must contain "bench");
// BENCH_KEEP=1 keeps the SQLite files and the PostgreSQL databases of the first model and of the last change. The
// data is generated (seeded) straight into the tables, not through ingest.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { type Config, loadConfig } from '../src/config.js';
import { applyModel } from '../src/models/apply-model.js';
import { parseModelFile } from '../src/scoring/parse-model-file.js';
import { seededRandom as seeded } from '../src/seeded-random.js';
import type { Database } from '../src/storage/database-schema.js';
import { openStorage } from '../src/storage/open-storage.js';
import { openSqliteConnection } from '../src/storage/sqlite/open-sqlite-connection.js';
import type { Storage } from '../src/storage/storage.js';
import { WorkspaceService } from '../src/workspaces/workspace-service.js';

const CONTACTS = Number(process.env['BENCH_CONTACTS'] ?? 200_000);
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 5_000_000);
const NOW = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;

const MODEL = `name: bench
half_life_days: 30
fit:
  - id: senior-title
    when: { trait: title, matches: "(?i)\\\\b(ceo|cto|vp|director)\\\\b" }
    points: 20
  - id: target-industry
    when: { trait: industry, in: [software, technology, it services] }
    points: 15
  - id: company-50-500
    when: { trait: company_size, between: [50, 500] }
    points: 10
engagement:
  - id: pricing-page
    when: { event: page, path: { prefix: /pricing } }
    points: 15
    limit: { per: day, times: 1 }
  - id: docs
    when: { event: page, path: { prefix: /docs } }
    points: 3
    half_life_days: 14
  - id: demo-request
    when: { event: Demo Requested }
    points: 25
  - id: webinar
    when: { event: Webinar Attended }
    points: 10
  - id: careers-page
    when: { event: page, path: { prefix: /careers } }
    points: -5
  - id: unsubscribed
    when: { event: Unsubscribed }
    points: -10
thresholds: { mql: 50, unqualified: 10 }
`;

// The same model in SQL: fit from the traits, engagement per matched event with its half-life, the pricing rule
// limited to once per (UTC) day per contact.
// The model active before the change: other points, half-lives, limits and threshold, one rule fewer.
const BEFORE = `name: bench-before
half_life_days: 45
fit:
  - id: senior-title
    when: { trait: title, matches: "(?i)\\\\b(ceo|cto|vp)\\\\b" }
    points: 15
  - id: target-industry
    when: { trait: industry, in: [software, technology] }
    points: 20
engagement:
  - id: pricing-page
    when: { event: page, path: { prefix: /pricing } }
    points: 10
    limit: { per: week, times: 2 }
  - id: docs
    when: { event: page, path: { prefix: /docs } }
    points: 5
  - id: demo-request
    when: { event: Demo Requested }
    points: 30
  - id: webinar
    when: { event: Webinar Attended }
    points: 5
  - id: unsubscribed
    when: { event: Unsubscribed }
    points: -20
thresholds: { mql: 60, unqualified: 10 }
`;

const DUCKDB_SQL = `
with m as (
  select contact_id, ts, id, 'pricing' as rule, 15.0 as pts, 30.0 as hl from ev where type = 'page' and starts_with(path, '/pricing')
  union all select contact_id, ts, id, 'docs', 3.0, 14.0 from ev where type = 'page' and starts_with(path, '/docs')
  union all select contact_id, ts, id, 'demo', 25.0, 30.0 from ev where type = 'track' and name = 'Demo Requested'
  union all select contact_id, ts, id, 'webinar', 10.0, 30.0 from ev where type = 'track' and name = 'Webinar Attended'
  union all select contact_id, ts, id, 'careers', -5.0, 30.0 from ev where type = 'page' and starts_with(path, '/careers')
  union all select contact_id, ts, id, 'unsub', -10.0, 30.0 from ev where type = 'track' and name = 'Unsubscribed'
), ranked as (
  select *, row_number() over (partition by contact_id, rule, ts // ${DAY} order by ts, id) as rn from m
), engagement as (
  select contact_id, sum(pts * pow(2, -(${NOW} - ts) / (hl * ${DAY}))) as e from ranked
  where rule <> 'pricing' or rn <= 1 group by contact_id
)
select c.id, coalesce(e.e, 0)
  + case when regexp_matches(c.title, '(?i)\\b(ceo|cto|vp|director)\\b') then 20 else 0 end
  + case when lower(c.industry) in ('software', 'technology', 'it services') then 15 else 0 end
  + case when c.company_size between 50 and 500 then 10 else 0 end as total
from contacts c left join engagement e on e.contact_id = c.id`;

const TITLES = ['CEO', 'CTO', 'VP Sales', 'Marketing Director', 'Engineer', 'Analyst', 'Intern', 'Product Manager'];
const INDUSTRIES = ['software', 'technology', 'it services', 'retail', 'banking', 'education', 'healthcare'];
const PAGES = [
  '/',
  '/pricing',
  '/pricing/team',
  '/docs/start',
  '/docs/api',
  '/blog/a',
  '/blog/b',
  '/careers',
  '/about',
];
const TRACKS = ['Demo Requested', 'Webinar Attended', 'Unsubscribed', 'Signed Up', 'Newsletter Opened'];

interface Contact {
  id: string;
  title: string;
  industry: string;
  size: number;
}
interface Ev {
  id: string;
  contact: number;
  type: 'page' | 'track';
  name: string | null;
  path: string | null;
  ts: number;
}

function* generateEvents(contacts: number, events: number): Generator<Ev> {
  const r = seeded(7);
  for (let i = 0; i < events; i++) {
    // A skewed activity: a few contacts are busy, most are quiet.
    const contact = Math.floor(r() ** 2 * contacts);
    const page = r() < 0.85;
    const ts = NOW - Math.floor(r() * 180 * DAY);
    yield page
      ? { id: `e${i}`, contact, type: 'page', name: null, path: PAGES[Math.floor(r() * PAGES.length)]!, ts }
      : { id: `e${i}`, contact, type: 'track', name: TRACKS[Math.floor(r() * TRACKS.length)]!, path: null, ts };
  }
}

function log(line: string) {
  process.stdout.write(`${line}\n`);
}

/** The generated data written straight into SQLite through prepared statements (the fastest way in, not timed). */
function fillSqlite(file: string, workspaceId: string, contacts: Contact[]): void {
  // Kerma's own connection settings (its page cache and memory map): each event's insert also moves its contact's
  // events_gen (a trigger), which SQLite's default 2 MB cache made three times slower to generate.
  const sqlite = openSqliteConnection(file);
  const insContact = sqlite.prepare(
    `INSERT INTO contacts (workspace_id, id, email, user_id, traits, stage, created_at, updated_at, last_seen_at)
     VALUES (?, ?, ?, ?, ?, 'contact', ?, ?, ?)`,
  );
  const insEvent = sqlite.prepare(
    `INSERT INTO events (workspace_id, message_id, type, name, contact_id, timestamp, received_at, properties, context, url, path, is_bot)
     VALUES (?, ?, ?, ?, ?, ?, ?, '{}', '{}', ?, ?, 0)`,
  );
  sqlite.transaction(() => {
    for (const c of contacts) {
      const row = contactRow(workspaceId, c);
      insContact.run(
        workspaceId,
        c.id,
        row.email,
        row.user_id,
        row.traits,
        row.created_at,
        row.updated_at,
        row.last_seen_at,
      );
    }
  })();
  const insertChunk = sqlite.transaction((chunk: Ev[]) => {
    for (const e of chunk) {
      const row = eventRow(workspaceId, contacts, e);
      insEvent.run(
        workspaceId,
        row.message_id,
        row.type,
        row.name,
        row.contact_id,
        row.timestamp,
        row.received_at,
        row.url,
        row.path,
      );
    }
  });
  for (const chunk of chunks(generateEvents(CONTACTS, EVENTS), 100_000)) insertChunk(chunk);
  sqlite.close();
}

/** The same data into PostgreSQL through Kysely, then vacuumed and analyzed as autovacuum would (not timed). */
async function fillPostgres(db: Kysely<Database>, workspaceId: string, contacts: Contact[]): Promise<void> {
  for (const chunk of chunks(contacts, 1_000)) {
    await db
      .insertInto('contacts')
      .values(chunk.map((c) => contactRow(workspaceId, c)))
      .execute();
  }
  for (const chunk of chunks(generateEvents(CONTACTS, EVENTS), 2_000)) {
    await db
      .insertInto('events')
      .values(chunk.map((e) => eventRow(workspaceId, contacts, e)))
      .execute();
  }
  await sql`vacuum analyze`.execute(db);
}

function* chunks<T>(rows: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = [];
  for (const row of rows) {
    chunk.push(row);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

const CREATED = NOW - 200 * DAY;

function contactRow(workspaceId: string, c: Contact) {
  return {
    workspace_id: workspaceId,
    id: c.id,
    email: `${c.id}@example.com`,
    user_id: c.id,
    traits: JSON.stringify({ title: c.title, industry: c.industry, company_size: c.size }),
    stage: 'contact',
    created_at: CREATED,
    updated_at: CREATED,
    last_seen_at: CREATED,
  };
}

function eventRow(workspaceId: string, contacts: Contact[], e: Ev) {
  return {
    workspace_id: workspaceId,
    message_id: e.id,
    type: e.type,
    name: e.name,
    contact_id: contacts[e.contact]!.id,
    timestamp: e.ts,
    received_at: e.ts,
    properties: '{}',
    context: '{}',
    url: e.path ? `https://example.com${e.path}` : null,
    path: e.path,
    is_bot: 0,
  };
}

/** DuckDB's per-contact totals for the same data, and the seconds its one statement took (the fastest of three). */
/** DuckDB with the same data loaded (not timed): each `run` times its query once. */
interface DuckdbPeer {
  run(): Promise<{ seconds: number; rows: Array<[string, number]> }>;
  close(): void;
}

async function openDuckdb(contacts: Contact[]): Promise<DuckdbPeer> {
  const duck = await DuckDBInstance.create(':memory:', { threads: String(cpus().length) });
  const conn = await duck.connect();
  await conn.run('create table contacts (id varchar, title varchar, industry varchar, company_size integer)');
  await conn.run(
    'create table ev (id varchar, contact_id varchar, type varchar, name varchar, path varchar, ts bigint)',
  );
  const ca = await conn.createAppender('contacts');
  for (const c of contacts) {
    ca.appendVarchar(c.id);
    ca.appendVarchar(c.title);
    ca.appendVarchar(c.industry);
    ca.appendInteger(c.size);
    ca.endRow();
  }
  ca.closeSync();
  const ea = await conn.createAppender('ev');
  for (const e of generateEvents(CONTACTS, EVENTS)) {
    ea.appendVarchar(e.id);
    ea.appendVarchar(contacts[e.contact]!.id);
    ea.appendVarchar(e.type);
    if (e.name === null) ea.appendNull();
    else ea.appendVarchar(e.name);
    if (e.path === null) ea.appendNull();
    else ea.appendVarchar(e.path);
    ea.appendBigInt(BigInt(e.ts));
    ea.endRow();
  }
  ea.closeSync();
  return {
    run: async () => {
      const t0 = performance.now();
      const reader = await conn.runAndReadAll(DUCKDB_SQL);
      const seconds = (performance.now() - t0) / 1000;
      const rows = (reader.getRows() as Array<[string, number]>).map(([id, total]): [string, number] => [
        id,
        Number(total),
      ]);
      return { seconds, rows };
    },
    close: () => conn.closeSync(),
  };
}

/**
 * How many times the model change is applied, each on a fresh copy of what the first model left, each right after a
 * run of DuckDB's query, so that the two are timed at the same moment of the machine (whose speed moved by half
 * within minutes).
 */
const CHANGE_RUNS = 3;

/**
 * Where one engine's data lives, and how to make a fresh copy of it: the model change is applied `CHANGE_RUNS` times,
 * each time on a copy of the state the first model left, so that each run does the same work.
 */
interface EngineCopies {
  config: Config;
  /** A copy of the data as it is now (`config`'s storage closed), for run `n`. */
  copy(n: number): Promise<Config>;
  /** Removes run `n`'s copy. */
  drop(n: number): Promise<void>;
}

/**
 * Fills one engine, applies the first model and then the changed one (`CHANGE_RUNS` times, each on a copy of the
 * state the first left; all timed), and reads back every contact's total under the changed one of each run.
 */
async function rescoreOn(engine: Engine, copies: EngineCopies, contacts: Contact[], duck: DuckdbPeer) {
  const { config } = copies;
  let storage = await openStorage(config);
  const ws = await new WorkspaceService(storage).create('Bench', { timeZone: 'UTC' });
  const t0 = Date.now();
  if (engine === 'sqlite') {
    await storage.close();
    if (config.storage.kind !== 'sqlite') throw new Error('expected a SQLite config');
    fillSqlite(config.storage.file, ws.id, contacts);
    storage = await openStorage(config);
  } else await fillPostgres(storage.db, ws.id, contacts);
  log(
    `data (${ENGINE_NAMES[engine]}): ${CONTACTS} contacts, ${EVENTS} events generated in ${((Date.now() - t0) / 1000).toFixed(1)} s (not timed below)`,
  );
  const apply = async (on: Storage, source: string) => {
    const parsed = parseModelFile(source);
    if (!parsed.ok) throw new Error('a bench model does not parse');
    // Each apply starts on data at rest, as a user's would: what was just written (the 1.7 GB generated, the apply
    // before, the copy) is flushed to disk first, so the kernel's write-back is not timed as part of the rescore
    // (without it a rescore on a copy of the file took 0.6-1.1 s longer, its first commit waiting on the write-back).
    if (engine === 'postgres') await sql`checkpoint`.execute(on.db);
    execFileSync('sync');
    const started = performance.now();
    let lastReport = 0;
    // When the last page was stored (the last progress call): the rest of the apply is the switch and the pruning.
    let rescored = started;
    const result = await applyModel(on.db, {
      file: on.file,
      bulkScores: on.bulkScores,
      workspaceId: ws.id,
      timeZone: 'UTC',
      model: parsed.model,
      source,
      now: NOW,
      onProgress: (done, total) => {
        rescored = performance.now();
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          process.stderr.write(`rescore (${ENGINE_NAMES[engine]}, ${parsed.model.name}): ${done}/${total}\n`);
        }
      },
    });
    const ended = performance.now();
    return {
      seconds: (ended - started) / 1000,
      phases: { rescore: (rescored - started) / 1000, switch: (ended - rescored) / 1000 },
      result,
    };
  };
  let first: Awaited<ReturnType<typeof apply>>;
  try {
    first = await apply(storage, BEFORE);
  } finally {
    await storage.close();
  }
  const changes: Array<
    Awaited<ReturnType<typeof apply>> & {
      totals: Map<string, number>;
      duck: { seconds: number; rows: Array<[string, number]> };
    }
  > = [];
  for (let n = 0; n < CHANGE_RUNS; n++) {
    const copy = await openStorage(await copies.copy(n));
    try {
      const duckRun = await duck.run();
      const run = await apply(copy, MODEL);
      const totals = new Map(
        (
          await copy.db
            .selectFrom('contact_scores')
            .select(['contact_id', 'total'])
            .where('workspace_id', '=', ws.id)
            .where('model_version', '=', run.result.version)
            .execute()
        ).map((row) => [row.contact_id, Number(row.total)]),
      );
      changes.push({ ...run, totals, duck: duckRun });
      log(
        `model change on ${ENGINE_NAMES[engine]}, run ${n + 1} of ${CHANGE_RUNS}: ${run.seconds.toFixed(2)} s, DuckDB just before ${duckRun.seconds.toFixed(2)} s`,
      );
    } finally {
      await copy.close();
    }
    // The last copy stays for BENCH_KEEP.
    if (n < CHANGE_RUNS - 1 || !process.env['BENCH_KEEP']) await copies.drop(n);
  }
  return { first, changes };
}

type Engine = 'sqlite' | 'postgres';
const ENGINE_NAMES: Record<Engine, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

async function main() {
  const engines = (process.env['BENCH_ENGINES'] ?? 'sqlite,postgres').split(',') as Engine[];
  const unknown = engines.find((e) => !(e in ENGINE_NAMES));
  if (unknown !== undefined) {
    throw new Error(`BENCH_ENGINES: unknown engine "${unknown}"; expected sqlite, postgres or both (comma-separated)`);
  }
  const pgUrl = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/kerma_bench_scoring';
  const pgName = new URL(pgUrl).pathname.slice(1);
  if (!pgName.includes('bench')) throw new Error(`refusing to use database "${pgName}": its name must contain "bench"`);
  const r = seeded(3);
  const contacts: Contact[] = Array.from({ length: CONTACTS }, (_, i) => ({
    id: `c${String(i).padStart(7, '0')}`,
    title: TITLES[Math.floor(r() * TITLES.length)]!,
    industry: INDUSTRIES[Math.floor(r() * INDUSTRIES.length)]!,
    size: Math.floor(r() * 2000),
  }));
  const runs: Array<{ engine: Engine } & Awaited<ReturnType<typeof rescoreOn>>> = [];
  const dir = mkdtempSync(join(tmpdir(), 'kerma-scoring-bench-'));
  const admin = new pg.Client({ connectionString: pgUrl.replace(/\/[^/]*$/, '/postgres') });
  /** The PostgreSQL database of model-change run `n`, a copy of the one the first model left. */
  const changeDatabase = (n: number) => `${pgName}_change_${n + 1}`;
  const duck = await openDuckdb(contacts);
  try {
    for (const engine of engines) {
      if (engine === 'sqlite') {
        const file = join(dir, 'bench.db');
        const config = loadConfig({}, { db: file, logLevel: 'silent' });
        const runFile = (n: number) => join(dir, `change-${n + 1}.db`);
        const copies: EngineCopies = {
          config,
          copy: async (n) => {
            // Closed, the file holds everything (its write-ahead log was checkpointed into it and removed).
            copyFileSync(file, runFile(n));
            return loadConfig({}, { db: runFile(n), logLevel: 'silent' });
          },
          drop: async (n) => {
            for (const suffix of ['', '-wal', '-shm']) rmSync(runFile(n) + suffix, { force: true });
          },
        };
        runs.push({ engine, ...(await rescoreOn(engine, copies, contacts, duck)) });
      } else {
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${pgName}`);
        await admin.query(`CREATE DATABASE ${pgName}`);
        const runUrl = (n: number) => pgUrl.replace(/\/[^/]*$/, `/${changeDatabase(n)}`);
        const copies: EngineCopies = {
          config: loadConfig({}, { databaseUrl: pgUrl, logLevel: 'silent' }),
          copy: async (n) => {
            await admin.query(`DROP DATABASE IF EXISTS ${changeDatabase(n)}`);
            // A file-level copy of the database the first model left (nobody may be connected to it meanwhile).
            await admin.query(`CREATE DATABASE ${changeDatabase(n)} TEMPLATE ${pgName}`);
            return loadConfig({}, { databaseUrl: runUrl(n), logLevel: 'silent' });
          },
          drop: async (n) => {
            await admin.query(`DROP DATABASE IF EXISTS ${changeDatabase(n)}`);
          },
        };
        runs.push({ engine, ...(await rescoreOn(engine, copies, contacts, duck)) });
      }
    }
  } finally {
    if (engines.includes('postgres')) {
      if (!process.env['BENCH_KEEP']) {
        for (const name of [pgName, ...Array.from({ length: CHANGE_RUNS }, (_, n) => changeDatabase(n))]) {
          await admin.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
        }
      } else
        log(
          `kept PostgreSQL databases ${pgName} (the first model) and ${changeDatabase(CHANGE_RUNS - 1)} (the last change)`,
        );
      await admin.end().catch(() => undefined);
    }
    if (!process.env['BENCH_KEEP']) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
    duck.close();
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  for (const { engine, first, changes } of runs) {
    // The fastest run is reported in full; every run must agree with DuckDB and do the same work.
    const fastest = changes.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const { seconds, phases, result } = fastest;
    const duckTimes = changes.map((c) => c.duck.seconds);
    const duckFastest = Math.min(...duckTimes);
    let maxDiff = 0;
    let worst = '';
    let compared = 0;
    for (const { totals, duck: peer } of changes) {
      compared = peer.rows.length;
      for (const [id, total] of peer.rows) {
        const diff = Math.abs((totals.get(id) ?? Number.NaN) - total);
        if (!(diff <= maxDiff)) {
          maxDiff = diff;
          worst = id;
        }
      }
      if (peer.rows.length !== totals.size) process.exitCode = 1;
    }
    const same = changes.every(
      (c) =>
        c.result.changes === result.changes &&
        c.result.mql === result.mql &&
        c.result.promotedToMql === result.promotedToMql,
    );
    const threads = `${result.threads} worker threads${result.workersRead ? ' reading and storing their own pages' : ''}`;
    log(
      `DuckDB ${'1.5.5'} same decayed sums in SQL (in memory, ${cpus().length} threads), beside ${ENGINE_NAMES[engine]}: ${duckFastest.toFixed(2)} s (fastest of ${list(duckTimes)} s, each just before one of Kerma's runs)`,
    );
    log(
      `Kerma first model (kerma model apply, ${ENGINE_NAMES[engine]}, ${threads}): ${first.seconds.toFixed(2)} s — ${first.result.contacts} contacts, ${first.result.promotedToMql} moved to MQL; ${(first.seconds / duckFastest).toFixed(2)}× DuckDB's time, for reference`,
    );
    log(
      `Kerma full rescore after a model change (kerma model apply, ${ENGINE_NAMES[engine]}, ${threads}): ${seconds.toFixed(2)} s (fastest of ${list(changes.map((c) => c.seconds))} s, each on a copy of what the first model left) — ${result.contacts} contacts, ${result.changes} score changes written, ${result.mql} MQL, ${result.promotedToMql} moved to MQL`,
    );
    log(
      `  of which: reading, replaying and storing every page ${phases.rescore.toFixed(2)} s; switching to the new version ${phases.switch.toFixed(2)} s`,
    );
    const pairs = changes.map((c) => c.seconds / c.duck.seconds);
    log(
      `  ratio: ${(seconds / duckFastest).toFixed(2)}× DuckDB, fastest against fastest (goal ≤ 3×); each run against the DuckDB run just before it: ${list(pairs)}×, median ${median(pairs).toFixed(2)}×`,
    );
    log(
      `  agreement: ${compared} contacts compared in each of ${changes.length} runs, largest difference ${maxDiff.toExponential(2)} points${maxDiff > 1e-6 ? ` (contact ${worst})` : ''}${same ? '' : '; the runs did not do the same work'}`,
    );
    if (maxDiff > 1e-6 || !same) process.exitCode = 1;
  }
}

await main();
