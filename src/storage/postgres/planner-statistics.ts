import type pg from 'pg';

/** How often, at most, the write path asks PostgreSQL which tables grew. */
const CHECK_EVERY_MS = 1_000;
/** A table is analyzed again once it changed by as many rows as the planner thinks it holds, and by at least these. */
const MIN_CHANGED_ROWS = 1_000;

export interface PlannerStatistics {
  /** After a commit: starts a check in the background, unless one ran within the last second or still runs. */
  afterWrite(): void;
  /** Waits for a check under way. */
  close(): Promise<void>;
}

/**
 * Keeps the planner's statistics of growing tables current, as PostgreSQL advises after bulk loads. Autovacuum
 * analyzes a table after 10% of it changed and looks at most once a minute (`autovacuum_naptime`); the tables of a
 * new database grow from nothing far faster than that, and the plans chosen for an empty table found duplicates by
 * reading every event of the workspace, so ingest slowed down the more it had stored (13,070 events/s in a first
 * 10 s load, 8,870 in a second; 19,750 in the second once analyzed: bench/RESULTS.md). A table is analyzed when it
 * changed by as many rows as it held at its last analysis, so a growing table is analyzed a few times per tenfold.
 * Stateless across instances: it reads PostgreSQL's own change counts, and a failed check is left to the next.
 * @example const statistics = plannerStatistics(pool); await commit(); statistics.afterWrite()
 */
export function plannerStatistics(pool: pg.Pool, now: () => number = Date.now): PlannerStatistics {
  let running: Promise<void> | null = null;
  let lastCheck = Number.NEGATIVE_INFINITY;
  const check = async () => {
    const grown = await pool.query<{ name: string }>(
      `SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS name
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
       WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze > greatest($1, c.reltuples)`,
      [MIN_CHANGED_ROWS],
    );
    if (grown.rows.length > 0) await pool.query(`ANALYZE ${grown.rows.map((r) => r.name).join(', ')}`);
  };
  return {
    afterWrite() {
      if (running !== null || now() - lastCheck < CHECK_EVERY_MS) return;
      lastCheck = now();
      running = check()
        // An outage fails the writes themselves, which say so; statistics wait for the next check.
        .catch(() => undefined)
        .finally(() => {
          running = null;
        });
    },
    async close() {
      await running;
    },
  };
}
