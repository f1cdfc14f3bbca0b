import type { EventDigestsTable } from '../storage/database-schema.js';

/** Rows per statement: 5 values each, well under SQLite's 32,766 bound values. */
const ROWS_PER_INSERT = 2_000;

const texts = new Map<string, string>();

/**
 * The statements that store event digests, for SQLite (`?`) or PostgreSQL (`$1`…), one per 2,000 rows with its
 * values in one flat list. A digest replaces the contact's earlier one, and is stored only while the contact still
 * exists and its `events_gen` is the one the digest was made at: one that an event change or an erasure overtook
 * since the read is left out, not stored stale. Built by hand like `scoreInserts`, for a worker thread's connection.
 * @example for (const insert of digestInserts(rows, 'sqlite')) db.prepare(insert.sql).run(insert.values)
 */
export function* digestInserts(
  rows: readonly EventDigestsTable[],
  dialect: 'sqlite' | 'postgres',
): Generator<{ sql: string; values: unknown[] }> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    yield {
      sql: insertText(chunk.length, dialect),
      values: chunk.flatMap((row) => [row.workspace_id, row.contact_id, row.gen, row.terms, row.data]),
    };
  }
}

function insertText(rows: number, dialect: 'sqlite' | 'postgres'): string {
  const key = `${dialect}:${rows}`;
  let text = texts.get(key);
  if (text === undefined) {
    let n = 0;
    // PostgreSQL types a VALUES list's parameters as text unless told.
    const tuple =
      dialect === 'sqlite'
        ? () => '(?, ?, ?, ?, ?)'
        : () => `($${++n}, $${++n}, $${++n}::bigint, $${++n}, $${++n}::bytea)`;
    text = `insert into event_digests (workspace_id, contact_id, gen, terms, data)
      select v.column1, v.column2, v.column3, v.column4, v.column5
      from (values ${Array.from({ length: rows }, tuple).join(', ')}) v
      where exists (select 1 from contacts c
        where c.workspace_id = v.column1 and c.id = v.column2 and c.events_gen = v.column3)
      on conflict (workspace_id, contact_id) do update set gen = excluded.gen, terms = excluded.terms, data = excluded.data`;
    texts.set(key, text);
  }
  return text;
}
