import type pg from 'pg';

/** [column, PostgreSQL type] */
export type Column = readonly [name: string, type: 'text' | 'bigint' | 'integer' | 'double precision' | 'bytea'];

/**
 * A multi-row INSERT with one array parameter per column (`unnest`), so a batch of any size is one statement
 * with a fixed number of parameters.
 */
export function unnestInsert(client: pg.PoolClient, table: string, cols: Column[], rows: object[], conflict: string) {
  // Rows are objects keyed by column, or arrays of values in `cols` order.
  if (rows.length === 0) return Promise.resolve({ rowCount: 0, rows: [] } as unknown as pg.QueryResult);
  const arrays = cols.map(([name], i) =>
    rows.map((row) => (Array.isArray(row) ? row[i] : (row as Record<string, unknown>)[name]) ?? null),
  );
  const list = cols.map(([name]) => name).join(', ');
  const unnest = cols.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  return client.query(`INSERT INTO ${table} (${list}) SELECT * FROM unnest(${unnest}) ${conflict}`, arrays);
}
