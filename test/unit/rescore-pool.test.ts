import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ContactRow } from '../../src/models/read-contact-row.js';
import { startRescorePool } from '../../src/models/rescore-pool.js';
import { rescoreContactRows } from '../../src/models/rescore-rows.js';
import { parseModelFile } from '../../src/scoring/parse-model-file.js';

const TEXT = `name: pool
half_life_days: 7
fit:
  - id: cto
    when: { trait: title, matches: "(?i)\\\\bcto\\\\b" }
    points: 20
engagement:
  - id: pricing
    when: { event: page, path: { prefix: /pricing } }
    points: 10
    limit: { per: day, times: 1 }
thresholds: { mql: 25 }
`;
const parsed = parseModelFile(TEXT);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const setup = {
  model: parsed.model,
  version: 3,
  workspaceId: 'ws',
  timeZone: 'Europe/Berlin',
  now: Date.UTC(2026, 0, 10),
};
const DAY = 86_400_000;

function rowOf(i: number): ContactRow {
  // As a rescore reads them (`rescoreRead`): no event ids.
  const events = Array.from({ length: i % 5 }, (_, k) => [
    'page',
    null,
    k % 2 ? '/pricing' : '/docs',
    setup.now - (k + 1) * DAY,
  ]);
  return {
    id: `c${i}`,
    traits: JSON.stringify({ title: i % 3 ? 'CTO' : 'Intern' }),
    created_at: setup.now - 30 * DAY,
    stage: 'contact',
    // As the loader reads it: first and last event time, then the events.
    events: JSON.stringify(events.length === 0 ? [null, null, []] : [events.at(-1)![3], events[0]![3], events]),
  };
}

describe('rescore pool', () => {
  it('answers every page from its worker threads in order, with the rows the calling thread computes', async () => {
    const pool = startRescorePool(setup, 2);
    try {
      expect(pool.threads).toBe(2);
      const pages = [0, 1, 2, 3, 4].map((p) => Array.from({ length: 20 }, (_, i) => rowOf(p * 20 + i)));
      const answers = await Promise.all(pages.map((page) => pool.run(page)));
      answers.forEach((answer, p) => {
        expect(answer).toEqual(rescoreContactRows(setup, pages[p]!));
      });
      expect(answers.flatMap((a) => a.scores.map((s) => s.contact_id))).toEqual(pages.flat().map((row) => row.id));
      expect(answers.reduce((n, a) => n + a.mql, 0)).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it('hands each page to the next worker free, so a page of busy contacts holds up no other page', async () => {
    const pool = startRescorePool(setup, 2);
    try {
      // 2,000 contacts of 300 events each, then single quiet contacts: handed out in turn, every second quiet page
      // would wait behind the busy one.
      const busy = Array.from({ length: 2_000 }, (_, i) => {
        const events = Array.from({ length: 300 }, (_, k) => [
          'page',
          null,
          '/pricing',
          setup.now - (300 - k) * 3_600_000,
        ]);
        return { ...rowOf(i), events: JSON.stringify([events[0]![3], events.at(-1)![3], events]) };
      });
      const done: string[] = [];
      const pages = [busy, ...Array.from({ length: 8 }, (_, p) => [rowOf(10_000 + p)])];
      const answers = await Promise.all(
        pages.map((page, p) =>
          pool.run(page).then((answer) => {
            done.push(p === 0 ? 'busy' : 'quiet');
            return answer;
          }),
        ),
      );
      expect(done).toEqual([...Array(8).fill('quiet'), 'busy']);
      answers.forEach((answer, p) => {
        expect(answer.scores.map((s) => s.contact_id)).toEqual(pages[p]!.map((row) => row.id));
      });
    } finally {
      await pool.close();
    }
  });

  it('rejects a page the worker cannot replay with the reason, and goes on with the next', async () => {
    const pool = startRescorePool(setup, 1);
    try {
      const broken = { ...rowOf(1), events: '[["m", "page"' };
      await expect(pool.run([broken])).rejects.toThrow(/rescore worker failed: SyntaxError/);
      expect((await pool.run([rowOf(2)])).scores).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it('reads no page itself without a page reader, and says so', async () => {
    const pool = startRescorePool(setup, 1);
    try {
      expect(pool.reads).toBe(false);
      await expect(pool.read({ after: '', through: 'c9' })).rejects.toThrow(/without a page reader/);
    } finally {
      await pool.close();
    }
  });

  it('answers every page with the reason when its workers cannot open the database, and still closes', async () => {
    const query = { sql: 'select 1', parameters: [], afterAt: 0, throughAt: 1 };
    const pool = startRescorePool(setup, 2, { file: join(tmpdir(), 'kerma-no-such-file.db'), query });
    try {
      expect(pool.reads).toBe(true);
      // Both workers, and the first again: each page gets the reason, none waits for ever.
      for (const range of [
        { after: '', through: 'c9' },
        { after: 'c9', through: 'c19' },
        { after: 'c19', through: 'c29' },
      ]) {
        await expect(pool.read(range)).rejects.toThrow(
          /rescore worker failed: SqliteError: unable to open database file/,
        );
      }
      expect(existsSync(join(tmpdir(), 'kerma-no-such-file.db'))).toBe(false);
    } finally {
      await pool.close();
    }
  });

  it('starts its worker threads without the query builder, which only the calling thread uses', () => {
    // Every module a worker thread loads, from the sources: an `import type` is erased, every other import loads.
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const [, clause, from] of readFileSync(file, 'utf8').matchAll(/^import\s+([^;]*?)\s*from\s+'([^']+)'/gm)) {
        if (clause!.startsWith('type ')) continue;
        if (from!.startsWith('.')) visit(resolve(dirname(file), from!.replace(/\.js$/, '.ts')));
        else packages.add(from!);
      }
    };
    visit(fileURLToPath(new URL('../../src/models/rescore-worker.ts', import.meta.url)));
    expect(loaded.size).toBeGreaterThan(10);
    expect(packages).toContain('better-sqlite3');
    expect(packages).not.toContain('kysely');
  });
});
