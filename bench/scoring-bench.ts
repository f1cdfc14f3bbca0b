// npm run bench:scoring — a full rescore (kerma model apply) of 200 000 contacts / 5 000 000 events on SQLite, beside
// DuckDB computing the same per-contact sum of decayed points in SQL on the same data, in the same run.
// Sizes: BENCH_CONTACTS, BENCH_EVENTS. The data is generated (seeded) straight into the tables, not through ingest.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../src/config.js';
import { applyModel } from '../src/models/apply-model.js';
import { parseModelFile } from '../src/scoring/parse-model-file.js';
import { seededRandom as seeded } from '../src/seeded-random.js';
import { openStorage } from '../src/storage/open-storage.js';
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

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kerma-scoring-bench-'));
  try {
    const file = join(dir, 'bench.db');
    const config = loadConfig({}, { db: file, logLevel: 'silent' });
    const storage = await openStorage(config);
    const ws = await new WorkspaceService(storage).create('Bench', { timeZone: 'UTC' });
    await storage.close();

    const r = seeded(3);
    const contacts: Contact[] = Array.from({ length: CONTACTS }, (_, i) => ({
      id: `c${String(i).padStart(7, '0')}`,
      title: TITLES[Math.floor(r() * TITLES.length)]!,
      industry: INDUSTRIES[Math.floor(r() * INDUSTRIES.length)]!,
      size: Math.floor(r() * 2000),
    }));

    let t0 = Date.now();
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
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
        const created = NOW - 200 * DAY;
        insContact.run(
          ws.id,
          c.id,
          `${c.id}@example.com`,
          c.id,
          JSON.stringify({ title: c.title, industry: c.industry, company_size: c.size }),
          created,
          created,
          created,
        );
      }
    })();
    const insertChunk = sqlite.transaction((chunk: Ev[]) => {
      for (const e of chunk) {
        insEvent.run(
          ws.id,
          e.id,
          e.type,
          e.name,
          contacts[e.contact]!.id,
          e.ts,
          e.ts,
          e.path ? `https://example.com${e.path}` : null,
          e.path,
        );
      }
    });
    let chunk: Ev[] = [];
    for (const e of generateEvents(CONTACTS, EVENTS)) {
      chunk.push(e);
      if (chunk.length === 100_000) {
        insertChunk(chunk);
        chunk = [];
      }
    }
    insertChunk(chunk);
    sqlite.close();
    log(
      `data: ${CONTACTS} contacts, ${EVENTS} events generated into SQLite in ${((Date.now() - t0) / 1000).toFixed(1)} s (not timed below)`,
    );

    const parsed = parseModelFile(MODEL);
    if (!parsed.ok) throw new Error('bench model does not parse');
    const kermaStorage = await openStorage(config);
    t0 = performance.now();
    let lastReport = 0;
    const result = await applyModel(kermaStorage.db, {
      workspaceId: ws.id,
      timeZone: 'UTC',
      model: parsed.model,
      source: MODEL,
      now: NOW,
      onProgress: (done, total) => {
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          process.stderr.write(`rescore: ${done}/${total}\n`);
        }
      },
    });
    const kermaSeconds = (performance.now() - t0) / 1000;
    const kermaTotals = new Map(
      (
        await kermaStorage.db
          .selectFrom('contact_scores')
          .select(['contact_id', 'total'])
          .where('workspace_id', '=', ws.id)
          .where('model_version', '=', result.version)
          .execute()
      ).map((row) => [row.contact_id, row.total]),
    );
    await kermaStorage.close();

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
    t0 = performance.now();
    const reader = await conn.runAndReadAll(DUCKDB_SQL);
    const duckSeconds = (performance.now() - t0) / 1000;
    const rows = reader.getRows() as Array<[string, number]>;
    let maxDiff = 0;
    let worst = '';
    for (const [id, total] of rows) {
      const diff = Math.abs((kermaTotals.get(id) ?? Number.NaN) - Number(total));
      if (!(diff <= maxDiff)) {
        maxDiff = diff;
        worst = id;
      }
    }
    log(
      `Kerma full rescore (kerma model apply, SQLite): ${kermaSeconds.toFixed(2)} s — ${result.contacts} contacts, ${result.changes} score changes written, ${result.mql} MQL`,
    );
    log(
      `DuckDB ${'1.5.5'} same decayed sums in SQL (in memory, ${cpus().length} threads): ${duckSeconds.toFixed(2)} s`,
    );
    log(`ratio: ${(kermaSeconds / duckSeconds).toFixed(2)}× DuckDB (goal ≤ 3×)`);
    log(
      `agreement: ${rows.length} contacts compared, largest difference ${maxDiff.toExponential(2)} points${maxDiff > 1e-6 ? ` (contact ${worst})` : ''}`,
    );
    if (maxDiff > 1e-6 || rows.length !== kermaTotals.size) process.exitCode = 1;
  } finally {
    if (!process.env['BENCH_KEEP']) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}

await main();
