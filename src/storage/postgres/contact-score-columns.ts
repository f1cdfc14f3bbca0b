import type { ContactScoresTable } from '../database-schema.js';
import type { Column } from './unnest-insert.js';

// The record type makes a missing or unknown column a type error; the types must be those the migrations give the
// columns (binary COPY sends each value in its column's own binary form).
const TYPES: Record<keyof ContactScoresTable, Column[1]> = {
  workspace_id: 'text',
  model_version: 'integer',
  contact_id: 'text',
  state: 'bytea',
  total: 'double precision',
  fit: 'double precision',
  engagement: 'double precision',
  grade: 'text',
  status: 'text',
  next_seq: 'integer',
  scored_at: 'bigint',
  packed_changes: 'text',
  change_log: 'bytea',
};

/** Every column of contact_scores with its PostgreSQL type, in table order (`copyScoreRows`, live scoring). */
export const CONTACT_SCORE_COLUMNS: readonly Column[] = Object.entries(TYPES) as unknown as readonly Column[];
