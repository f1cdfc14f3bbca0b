import type { EventDigestsTable } from '../storage/database-schema.js';
import { chunkedInserts } from './insert-score-rows.js';

/** Rows per statement: 5 values each, well under SQLite's 32,766 bound values. */
const ROWS_PER_INSERT = 2_000;

const texts = new Map<number, string>();

/**
 * The SQLite statements that store event digests (digests are kept on SQLite only), one per 2,000 rows with its
 * values in one flat list. A digest replaces the contact's earlier one, and is stored only while the contact still
 * exists and its `events_gen` is the one the digest was made at: one that an event change or an erasure overtook
 * since the read is left out, not stored stale. Built by hand like `scoreInserts`, for a worker thread's connection.
 * @example for (const insert of digestInserts(rows)) db.prepare(insert.sql).run(insert.values)
 */
export function digestInserts(rows: readonly EventDigestsTable[]): Generator<{ sql: string; values: unknown[] }> {
  return chunkedInserts(rows, ROWS_PER_INSERT, insertText, (row, into) => {
    into.push(row.workspace_id, row.contact_id, row.gen, row.terms, row.data);
  });
}

function insertText(rows: number): string {
  let text = texts.get(rows);
  if (text === undefined) {
    text = `insert into event_digests (workspace_id, contact_id, gen, terms, data)
      select v.column1, v.column2, v.column3, v.column4, v.column5
      from (values ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?)').join(', ')}) v
      where exists (select 1 from contacts c
        where c.workspace_id = v.column1 and c.id = v.column2 and c.events_gen = v.column3)
      on conflict (workspace_id, contact_id) do update set gen = excluded.gen, terms = excluded.terms, data = excluded.data`;
    texts.set(rows, text);
  }
  return text;
}
