import type { ContactScoresTable } from '../storage/database-schema.js';

// Every column of contact_scores (the record type makes a missing or unknown one a type error), in binding order.
const SCORE_COLUMNS = Object.keys({
  workspace_id: true,
  model_version: true,
  contact_id: true,
  state: true,
  total: true,
  fit: true,
  engagement: true,
  grade: true,
  status: true,
  next_seq: true,
  scored_at: true,
  packed_changes: true,
  change_log: true,
} satisfies Record<keyof ContactScoresTable, true>) as (keyof ContactScoresTable)[];

/** Rows per INSERT: SQLite allows 32,766 bound values, and contact_scores has 13 columns. */
export const SCORE_ROWS_PER_INSERT = 2_000;

/**
 * One INSERT of `rows` contact_scores rows (at most `SCORE_ROWS_PER_INSERT`) with its values bound in one flat list
 * (`scoreRowValues`), for SQLite (`?`) or PostgreSQL (`$1`…). Built by hand instead of through the query builder:
 * the same text serves every chunk of that size, and a rescore's worker threads have no query builder.
 * @example db.prepare(insertScoreRowsSql(rows.length, 'sqlite')).run(scoreRowValues(rows))
 */
export function insertScoreRowsSql(rows: number, dialect: 'sqlite' | 'postgres'): string {
  let n = 0;
  const tuple = () => `(${SCORE_COLUMNS.map(() => (dialect === 'sqlite' ? '?' : `$${++n}`)).join(', ')})`;
  const tuples = Array.from({ length: rows }, tuple);
  return `insert into "contact_scores" (${SCORE_COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
}

/** The rows' values in `insertScoreRowsSql`'s binding order. */
export function scoreRowValues(rows: readonly ContactScoresTable[]): unknown[] {
  const values: unknown[] = [];
  for (const row of rows) for (const column of SCORE_COLUMNS) values.push(row[column] ?? null);
  return values;
}
