import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA, requireShared } from '../support/captures.js';

import { kerma, ROOT } from '../support/run-kerma.js';

const BIN = join(ROOT, 'bin', 'kerma.js');

describe('kerma CLI (built, run as a user would)', () => {
  let dir: string;
  let db: string;
  const count = (sql: string) => {
    const conn = new BetterSqlite3(db, { readonly: true });
    try {
      return (conn.prepare(sql).get() as { n: number }).n;
    } finally {
      conn.close();
    }
  };

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')))
      throw new Error('run `npm run build` first (npm test does)');
    dir = mkdtempSync(join(tmpdir(), 'kerma-cli-'));
    db = join(dir, 'cli.db');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has --help on every command', () => {
    for (const args of [
      [],
      ['serve'],
      ['workspace', 'create'],
      ['workspace', 'list'],
      ['import', 'events'],
      ['import', 'contacts'],
      ['model', 'validate'],
      ['model', 'apply'],
      ['model', 'refresh'],
      ['model', 'backtest'],
      ['demo'],
    ]) {
      const r = kerma([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: kerma/);
    }
  });

  it('answers a bad flag or a missing option with exit code 2 and says what is accepted', () => {
    const port = kerma(['serve', '--port', 'nope']);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/a port is a whole number from 0 to 65535/);
    const missing = kerma(['model', 'backtest', 'model.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--outcome <outcome>' not specified/);
    expect(kerma(['model', 'backtest', 'model.yaml', '--outcome', 'won', '--precision', '2']).stderr).toMatch(
      /expected a precision above 0 and at most 1/,
    );
  });

  it('workspace create --json prints id, writeKey and secretKey', () => {
    const r = kerma(['workspace', 'create', 'Acme', '--json', '--db', db]);
    expect(r.code).toBe(0);
    const created = JSON.parse(r.stdout);
    expect(created).toEqual({
      id: expect.stringMatching(/^ws_/),
      writeKey: expect.stringMatching(/^wk_/),
      secretKey: expect.stringMatching(/^sk_/),
    });
    expect(count('SELECT count(*) AS n FROM api_keys')).toBe(2);
    // Only hashes are stored.
    const conn = new BetterSqlite3(db, { readonly: true });
    const hashes = conn.prepare('SELECT key_hash FROM api_keys').pluck().all() as string[];
    conn.close();
    expect(hashes).not.toContain(created.writeKey);
    expect(hashes.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });

  it('refuses bad input with a message and exit code 2', () => {
    const tz = kerma(['workspace', 'create', 'Bad', '--time-zone', 'Mars/Olympus', '--db', db]);
    expect(tz.code).toBe(2);
    expect(tz.stderr).toMatch(/unknown time zone "Mars\/Olympus"/);
    const port = kerma(['serve', '--port', 'abc', '--db', db]);
    expect(port.code).not.toBe(0);
    expect(port.stderr).toMatch(/port/);
    const folder = kerma(['workspace', 'create', 'Bad', '--db', join(dir, 'no-such-folder', 'kerma.db')]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/cannot open the SQLite database ".*no-such-folder.*": .*directory does not exist/);
    expect(folder.stderr).not.toMatch(/unexpected error|\n\s+at /);
    const notDb = join(dir, 'not-a-database.db');
    writeFileSync(notDb, 'these are not the pages of a database\n'.repeat(200));
    const garbage = kerma(['workspace', 'create', 'Bad', '--db', notDb]);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/cannot open the SQLite database ".*not-a-database.db": file is not a database/);
    // Nothing was written over the file that was there.
    expect(readFileSync(notDb, 'utf8')).toBe('these are not the pages of a database\n'.repeat(200));
  });

  it('imports NDJSON events, reports bad lines by number, and stores nothing twice when run again', () => {
    const file = join(dir, 'events.ndjson');
    const lines = [
      JSON.stringify({
        type: 'page',
        anonymousId: 'imp-1',
        messageId: 'imp-a',
        properties: { url: 'https://x.io/?utm_source=google&utm_medium=cpc' },
        timestamp: '2026-03-01T10:00:00Z',
      }),
      JSON.stringify({
        type: 'identify',
        anonymousId: 'imp-1',
        userId: 'u-imp',
        messageId: 'imp-b',
        traits: { email: 'imp@example.com' },
        timestamp: '2026-03-01T10:01:00Z',
      }),
      '{"type": "track", broken',
      JSON.stringify({ type: 'track', userId: 'u-imp', messageId: 'imp-c' }),
      '',
      JSON.stringify({
        type: 'track',
        event: 'Demo Requested',
        userId: 'u-imp',
        messageId: 'imp-d',
        timestamp: '2026-03-01T10:02:00Z',
      }),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const first = kerma(['import', 'events', file, '--db', db]);
    expect(first.code).toBe(3);
    expect(first.stdout).toMatch(/5 lines: 3 stored, 0 already stored, 2 rejected/);
    expect(first.stdout).toMatch(/line 3: not valid JSON/);
    expect(first.stdout).toMatch(/line 4: track needs a non-empty "event" name/);
    const again = kerma(['import', 'events', file, '--db', db, '--restart']);
    expect(again.stdout).toMatch(/3 already stored/);
    expect(count("SELECT count(*) AS n FROM events WHERE message_id LIKE 'imp-%'")).toBe(3);
  });

  it('resumes an interrupted events import without duplicates', async () => {
    const file = join(dir, 'big.ndjson');
    const rows: string[] = [];
    for (let i = 0; i < 80_000; i++) {
      rows.push(
        JSON.stringify({
          type: 'page',
          anonymousId: `big-${i % 5000}`,
          messageId: `big-${i}`,
          properties: { url: `https://x.io/p${i % 50}` },
          timestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
        }),
      );
    }
    writeFileSync(file, `${rows.join('\n')}\n`);
    const child: ChildProcess = spawn(process.execPath, [BIN, 'import', 'events', file, '--db', db], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = count("SELECT count(*) AS n FROM events WHERE message_id LIKE 'big-%'");
    const second = kerma(['import', 'events', file, '--db', db]);
    expect(second.code).toBe(0);
    if (partial > 0 && partial < 80_000) expect(second.stdout).toMatch(/resumed at byte \d+/);
    expect(count("SELECT count(*) AS n FROM events WHERE message_id LIKE 'big-%'")).toBe(80_000);
    expect(second.stderr).toMatch(/events: (done|\d)/);
  });

  it('imports the X Education leads as contacts with a column mapping', () => {
    const file = requireShared(join(DATA, 'xeducation', 'leads.csv'));
    const r = kerma([
      'import',
      'contacts',
      file,
      '--id',
      'Prospect ID',
      '--map',
      'lead_number=Lead Number',
      '--db',
      db,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/9240 rows: 9240 stored, 0 already stored, 0 rejected/);
    expect(r.stderr).toMatch(/contacts: done/);
    expect(count("SELECT count(*) AS n FROM contacts WHERE user_id IS NOT NULL AND traits LIKE '%lead_number%'")).toBe(
      9240,
    );
    const again = kerma([
      'import',
      'contacts',
      file,
      '--id',
      'Prospect ID',
      '--map',
      'lead_number=Lead Number',
      '--db',
      db,
    ]);
    expect(again.stdout).toMatch(/9240 already stored/);
    expect(count("SELECT count(*) AS n FROM contacts WHERE traits LIKE '%lead_number%'")).toBe(9240);
  });

  it('says which CSV columns are missing and which exist', () => {
    const file = join(dir, 'people.csv');
    writeFileSync(file, 'Name;Mail\nAda;ada@example.com\n');
    const r = kerma(['import', 'contacts', file, '--email', 'Email', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 1: missing column\(s\) "Email"; the header has "Name", "Mail"/);
    const ok = kerma(['import', 'contacts', file, '--email', 'Mail', '--db', db]);
    expect(ok.stdout).toMatch(/1 rows: 1 stored/);
  });

  it('demo fills a workspace and serve prints a URL that answers', async () => {
    const demoDb = join(dir, 'demo.db');
    const demo = kerma(['demo', '--days', '5', '--visitors-per-day', '40', '--db', demoDb]);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(
      /Demo workspace ws_\S+: \d+ events stored; scoring model "demo-b2b" applied: \d+ contacts, \d+ became MQL; sales accepted \d+ and rejected \d+, \d+ meetings, \d+ won, \d+ lost; \d+ EUR of ad spend/,
    );
    const secret = demo.stdout.match(/secret key: (sk_\S+)/)![1]!;
    const server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', demoDb], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = out.match(/listening on (http:\/\/\S+)/);
          if (m) resolve(m[1]!);
        });
        server.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const response = await fetch(`${url}/api/reports/traffic?by=channel`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      const traffic = (await response.json()) as { totals: Array<{ newVisitors: number }> };
      expect(traffic.totals.length).toBeGreaterThan(3);
      expect(traffic.totals.reduce((n, t) => n + t.newVisitors, 0)).toBeGreaterThan(50);
    } finally {
      server.kill('SIGTERM');
    }
  });
});
