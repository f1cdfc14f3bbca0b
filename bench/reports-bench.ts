// npm run bench:reports — the headline and funnel reports over 200 000 contacts / 5 000 000 events, on SQLite and
// on PostgreSQL, beside DuckDB computing the same numbers by scanning the raw data (events, contacts, stage changes)
// in the same run, and a check that the answers agree. Sizes: BENCH_CONTACTS, BENCH_EVENTS; BENCH_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/kerma_bench_reports, created and dropped; must contain "bench");
// BENCH_ENGINES=sqlite|postgres to run one; BENCH_KEEP=1 keeps the SQLite file.
// The data is generated (seeded) straight into the tables, with the rollups ingest would have written.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { type FunnelReport, funnelReport } from '../src/reports/funnel-report.js';
import { type HeadlineReport, headlineReport } from '../src/reports/headline-report.js';
import { seededRandom as seeded } from '../src/seeded-random.js';
import type { Database } from '../src/storage/database-schema.js';
import { openStorage } from '../src/storage/open-storage.js';
import { WorkspaceService } from '../src/workspaces/workspace-service.js';

const CONTACTS = Number(process.env['BENCH_CONTACTS'] ?? 200_000);
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 5_000_000);
const VISITORS = CONTACTS * 3;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 1) - 1;
const START = NOW + 1 - 180 * DAY;
const TO = new Date(NOW).toISOString().slice(0, 10);
const FROM = new Date(START).toISOString().slice(0, 10);
const CHANNELS = [
  'Organic Search',
  'Paid Search',
  'Direct',
  'Paid Social',
  'Email',
  'Referral',
  'Organic Social',
  'Display',
];
const WEIGHTS = [30, 20, 15, 12, 8, 7, 5, 3];
const STAGES = ['mql', 'sql', 'meeting', 'won', 'lost'] as const;

interface Stage {
  contact: number;
  stage: (typeof STAGES)[number];
  at: number;
  value: number | null;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Visitors (a channel and a first visit each), contacts (the first third of them), stage changes. */
function generate() {
  const r = seeded(21);
  const channel = new Uint8Array(VISITORS);
  const first = new Float64Array(VISITORS);
  const total = WEIGHTS.reduce((a, b) => a + b, 0);
  for (let v = 0; v < VISITORS; v++) {
    let x = r() * total;
    let c = 0;
    while (x >= WEIGHTS[c]!) x -= WEIGHTS[c++]!;
    channel[v] = c;
    first[v] = START + Math.floor(r() * 170 * DAY);
  }
  const stages: Stage[] = [];
  for (let c = 0; c < CONTACTS; c++) {
    let at = first[c]! + Math.floor(r() * 10 * DAY);
    const push = (stage: Stage['stage'], wait: number, value: number | null = null) => {
      at += Math.floor(wait);
      if (at > NOW) return false;
      stages.push({ contact: c, stage, at, value });
      return true;
    };
    // Quality differs per channel: paid search converts best, display worst.
    const quality = 1 - channel[c]! * 0.08;
    if (r() > 0.25 || !push('mql', 0)) continue;
    if (r() > 0.4 * quality || !push('sql', DAY + r() * 6 * DAY)) continue;
    if (r() > 0.6 || !push('meeting', DAY + r() * 6 * DAY)) continue;
    const outcome = r();
    if (outcome < 0.4 * quality) push('won', 5 * DAY + r() * 35 * DAY, Math.round(1000 + r() * 49_000));
    else if (outcome < 0.7) push('lost', 5 * DAY + r() * 35 * DAY);
  }
  return { channel, first, stages };
}

/** Every event: one first visit per visitor, the rest skewed towards busy visitors, after their first visit. */
function* events(first: Float64Array): Generator<{ id: number; visitor: number; ts: number }> {
  const r = seeded(22);
  for (let v = 0; v < VISITORS; v++) yield { id: v, visitor: v, ts: first[v]! };
  for (let i = VISITORS; i < EVENTS; i++) {
    const visitor = Math.floor(r() ** 2 * VISITORS);
    const ts = first[visitor]! + Math.floor(r() * (NOW - first[visitor]!));
    yield { id: i, visitor, ts };
  }
}

async function fill(db: Kysely<Database>, workspaceId: string, data: ReturnType<typeof generate>) {
  const { channel, first, stages } = data;
  const chunk = async <T>(rows: Iterable<T>, size: number, write: (batch: T[]) => Promise<unknown>) => {
    let batch: T[] = [];
    for (const row of rows) {
      batch.push(row);
      if (batch.length === size) {
        await write(batch);
        batch = [];
      }
    }
    if (batch.length) await write(batch);
  };
  const contactIds = (c: number) => `c${String(c).padStart(7, '0')}`;
  await chunk(
    (function* () {
      for (let c = 0; c < CONTACTS; c++) yield c;
    })(),
    1000,
    (batch) =>
      db
        .insertInto('contacts')
        .values(
          batch.map((c) => ({
            workspace_id: workspaceId,
            id: contactIds(c),
            email: null,
            user_id: null,
            traits: '{}',
            first_touch: null,
            last_touch: null,
            first_channel: CHANNELS[channel[c]!]!,
            first_source: null,
            first_medium: null,
            first_campaign: null,
            first_landing_page: null,
            stage: 'contact',
            probability: null,
            owner: null,
            created_at: first[c]!,
            updated_at: first[c]!,
            last_seen_at: first[c]!,
          })),
        )
        .execute(),
  );
  const seq = new Map<number, number>();
  await chunk(stages, 1000, (batch) =>
    db
      .insertInto('stage_changes')
      .values(
        batch.map((s) => {
          const n = (seq.get(s.contact) ?? 0) + 1;
          seq.set(s.contact, n);
          return {
            workspace_id: workspaceId,
            contact_id: contactIds(s.contact),
            seq: n,
            from_stage: null,
            to_stage: s.stage,
            at: s.at,
            source: 'crm',
            reason: null,
            value: s.value,
            currency: s.value === null ? null : 'EUR',
            owner: null,
            update_id: null,
          };
        }),
      )
      .execute(),
  );
  // The rollups ingest keeps: new visitors and new contacts per day and channel.
  const rollups = new Map<string, { visitors: number; contacts: number }>();
  for (let v = 0; v < VISITORS; v++) {
    const key = `${day(first[v]!)}|${channel[v]}`;
    const row = rollups.get(key) ?? { visitors: 0, contacts: 0 };
    row.visitors++;
    if (v < CONTACTS) row.contacts++;
    rollups.set(key, row);
  }
  await chunk(rollups, 1000, (batch) =>
    db
      .insertInto('daily_rollups')
      .values(
        batch.map(([key, r]) => {
          const [d, c] = key.split('|');
          return {
            workspace_id: workspaceId,
            day: d!,
            channel: CHANNELS[Number(c)]!,
            source: '',
            medium: '',
            campaign: '',
            landing_page: '',
            new_visitors: r.visitors,
            sessions: r.visitors,
            page_views: r.visitors,
            new_contacts: r.contacts,
          };
        }),
      )
      .execute(),
  );
  await chunk(events(first), 1000, (batch) =>
    db
      .insertInto('events')
      .values(
        batch.map((e) => ({
          workspace_id: workspaceId,
          message_id: `e${e.id}`,
          type: 'page',
          name: null,
          anonymous_id: `v${e.visitor}`,
          user_id: null,
          contact_id: e.visitor < CONTACTS ? contactIds(e.visitor) : null,
          session_id: null,
          timestamp: e.ts,
          received_at: e.ts,
          properties: '{}',
          traits: null,
          context: '{}',
          url: null,
          path: '/',
          referrer: null,
          ip: null,
          user_agent: null,
          browser: null,
          os: null,
          device: null,
          is_bot: 0,
          library: null,
        })),
      )
      .execute(),
  );
}

const HEADLINE_SQL = `
with firsts as (select visitor, min(ts) as ts from ev group by visitor),
visitors as (select strftime(make_timestamp(ts * 1000), '%Y-%m-%d') as day, count(*) as n from firsts group by 1),
contacts_d as (select strftime(make_timestamp(created_at * 1000), '%Y-%m-%d') as day, count(*) as n from contacts group by 1),
leads as (select strftime(make_timestamp(min(at_ms) * 1000), '%Y-%m-%d') as day from stages where stage = 'mql' group by contact_id),
leads_d as (select day, count(*) as n from leads group by 1)
select w, sum(v), sum(c), sum(l) from (
  select case when d.day > $prev_to then 'current' else 'previous' end as w,
         coalesce(visitors.n, 0) as v, coalesce(contacts_d.n, 0) as c, coalesce(leads_d.n, 0) as l
  from (select distinct day from visitors union select day from contacts_d union select day from leads_d) d
  left join visitors using (day) left join contacts_d using (day) left join leads_d using (day)
  where d.day between $prev_from and $to
) group by w order by w`;

const FUNNEL_SQL = `
with f as (
  select contact_id,
    min(case when stage = 'mql' then at_ms end) as mql, min(case when stage = 'sql' then at_ms end) as sql_at,
    min(case when stage = 'meeting' then at_ms end) as meeting, min(case when stage = 'won' then at_ms end) as won,
    min(case when stage = 'lost' then at_ms end) as lost, max(case when stage = 'won' then value end) as value
  from stages group by contact_id)
select c.channel, count(*), count(f.mql), count(f.sql_at), count(f.meeting), count(f.won), count(f.lost),
  coalesce(sum(case when f.won is not null then f.value else 0 end), 0),
  median(case when f.won is not null and f.mql is not null then (f.won - f.mql) / ${DAY}.0 end)
from contacts c left join f on f.contact_id = c.id group by c.channel order by c.channel`;

async function duckdb(data: ReturnType<typeof generate>) {
  const { channel, first, stages } = data;
  const duck = await DuckDBInstance.create(':memory:', { threads: String(cpus().length) });
  const conn = await duck.connect();
  await conn.run('create table ev (id bigint, visitor integer, contact_id varchar, ts bigint)');
  await conn.run('create table contacts (id varchar, channel varchar, created_at bigint)');
  await conn.run('create table stages (contact_id varchar, stage varchar, at_ms bigint, value double)');
  const ev = await conn.createAppender('ev');
  for (const e of events(first)) {
    ev.appendBigInt(BigInt(e.id));
    ev.appendInteger(e.visitor);
    if (e.visitor < CONTACTS) ev.appendVarchar(`c${String(e.visitor).padStart(7, '0')}`);
    else ev.appendNull();
    ev.appendBigInt(BigInt(e.ts));
    ev.endRow();
  }
  ev.closeSync();
  const ca = await conn.createAppender('contacts');
  for (let c = 0; c < CONTACTS; c++) {
    ca.appendVarchar(`c${String(c).padStart(7, '0')}`);
    ca.appendVarchar(CHANNELS[channel[c]!]!);
    ca.appendBigInt(BigInt(first[c]!));
    ca.endRow();
  }
  ca.closeSync();
  const sa = await conn.createAppender('stages');
  for (const s of stages) {
    sa.appendVarchar(`c${String(s.contact).padStart(7, '0')}`);
    sa.appendVarchar(s.stage);
    sa.appendBigInt(BigInt(s.at));
    if (s.value === null) sa.appendNull();
    else sa.appendDouble(s.value);
    sa.endRow();
  }
  sa.closeSync();
  const prevFrom = day(NOW - 59 * DAY);
  const prevTo = day(NOW - 30 * DAY);
  const t0 = performance.now();
  const headline = await conn.runAndReadAll(
    HEADLINE_SQL.replaceAll('$prev_from', `'${prevFrom}'`)
      .replaceAll('$prev_to', `'${prevTo}'`)
      .replaceAll('$to', `'${TO}'`),
  );
  const funnel = await conn.runAndReadAll(FUNNEL_SQL);
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, headline: headline.getRows(), funnel: funnel.getRows() };
}

/** Kerma's answers as DuckDB's rows, to compare. */
function kermaRows(headline: HeadlineReport, funnel: FunnelReport) {
  const h = [
    ['current', headline.traffic.current, headline.contacts.current, headline.leads.current],
    ['previous', headline.traffic.previous, headline.contacts.previous, headline.leads.previous],
  ];
  const f = [...funnel.rows]
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((r) => [r.key, r.contacts, r.mql, r.sql, r.meeting, r.won, r.lost, r.revenue, r.medianCycleDays]);
  return { h, f };
}

const same = (a: unknown[][], b: unknown[][]) =>
  a.length === b.length &&
  a.every((row, i) =>
    row.every((v, j) => {
      const w = b[i]![j];
      return typeof v === 'number' || typeof w === 'bigint' || typeof w === 'number'
        ? Math.abs(Number(v ?? Number.NaN) - Number(w ?? Number.NaN)) < 1e-6
        : v === w;
    }),
  );

async function timeKerma(db: Kysely<Database>, workspace: { id: string; timeZone: string; currency: string }) {
  const t0 = performance.now();
  const headline = await headlineReport(db, workspace, { days: 30, to: TO });
  const t1 = performance.now();
  const funnel = await funnelReport(db, workspace, { by: 'channel', touch: 'first', from: FROM, to: TO }, null);
  const t2 = performance.now();
  return {
    seconds: (t2 - t0) / 1000,
    headlineSeconds: (t1 - t0) / 1000,
    funnelSeconds: (t2 - t1) / 1000,
    headline,
    funnel,
  };
}

async function main() {
  const t0 = Date.now();
  const data = generate();
  log(
    `data: ${CONTACTS} contacts, ${VISITORS} visitors, ${EVENTS} events, ${data.stages.length} stage changes (seeded)`,
  );
  const duck = await duckdb(data);
  const results: string[] = [];
  let agree = true;

  const dir = mkdtempSync(join(tmpdir(), 'kerma-reports-bench-'));
  const pgUrl = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/kerma_bench_reports';
  const pgName = new URL(pgUrl).pathname.slice(1);
  if (!pgName.includes('bench')) throw new Error(`refusing to use database "${pgName}": its name must contain "bench"`);
  const admin = new pg.Client({ connectionString: pgUrl.replace(/\/[^/]*$/, '/postgres') });
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pgName}`);
    await admin.query(`CREATE DATABASE ${pgName}`);
    const engines = (process.env['BENCH_ENGINES'] ?? 'sqlite,postgres').split(',');
    for (const [engine, key, config] of [
      ['SQLite', 'sqlite', loadConfig({}, { db: join(dir, 'bench.db'), logLevel: 'silent' })],
      ['PostgreSQL', 'postgres', loadConfig({}, { databaseUrl: pgUrl, logLevel: 'silent' })],
    ] as const) {
      if (!engines.includes(key)) continue;
      const storage = await openStorage(config);
      const ws = await new WorkspaceService(storage).create('Bench', { timeZone: 'UTC' });
      const filled = Date.now();
      await fill(storage.db, ws.id, data);
      // PostgreSQL's autovacuum vacuums and analyzes a freshly loaded table within a minute (inserts count towards
      // it since version 13), which also marks its pages all-visible for index-only scans; do it now rather than wait.
      if (engine === 'PostgreSQL') await sql`vacuum analyze`.execute(storage.db);
      process.stderr.write(`${engine}: data written in ${((Date.now() - filled) / 1000).toFixed(0)} s (not timed)\n`);
      // First run warms the caches, as a dashboard that is in use has them; the second is measured.
      await timeKerma(storage.db, ws);
      const run = await timeKerma(storage.db, ws);
      const rows = kermaRows(run.headline, run.funnel);
      const ok = same(rows.h, duck.headline) && same(rows.f, duck.funnel);
      agree &&= ok;
      results.push(
        `Kerma headline (30 days vs 30) + funnel (${CONTACTS} contacts by channel), ${engine}: ${run.seconds.toFixed(3)} s (headline ${run.headlineSeconds.toFixed(3)}, funnel ${run.funnelSeconds.toFixed(3)}) — ${(run.seconds / duck.seconds).toFixed(2)}× DuckDB (goal ≤ 1×); answers ${ok ? 'agree' : 'DIFFER'}`,
      );
      await storage.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${pgName}`).catch(() => undefined);
    await admin.end();
    if (process.env['BENCH_KEEP']) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  log(
    `DuckDB ${'1.5.5'} scanning the raw events, contacts and stage changes for the same numbers (in memory, ${cpus().length} threads): ${duck.seconds.toFixed(3)} s`,
  );
  for (const line of results) log(line);
  log(`total bench time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (!agree) process.exitCode = 1;
}

await main();
