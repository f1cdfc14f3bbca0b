import { FUNNEL_STAGES, funnelIndex, type Stage, TERMINAL_STAGES } from './stages.js';

/** A stage change as it was reported (by the score, a CRM, a user or an import); skipped stages are derived. */
export interface StageEntry {
  /** Order of arrival: breaks ties between changes at the same moment. */
  seq: number;
  to: Stage;
  at: number;
  source: string;
  reason: string | null;
  value: number | null;
  currency: string | null;
  owner: string | null;
  reopen: boolean;
  updateId: string | null;
}

/** One row of a contact's history: a reported change, or a stage recorded as reached because a later one was. */
export interface StageHistoryRow extends StageEntry {
  from: Stage;
  skipped: boolean;
}

export type StageHistory =
  | {
      ok: true;
      rows: StageHistoryRow[];
      stage: Stage;
      owner: string | null;
      /** After won or lost, without reopen: moves back to a stage already reached, and score promotions. Left out. */
      ignored: StageEntry[];
    }
  /** `entry` would leave a won or lost contact without `reopen`. */
  | { ok: false; entry: StageEntry; stage: Stage; since: number };

const byTime = (a: StageEntry, b: StageEntry) => a.at - b.at || a.seq - b.seq;

/**
 * A contact's whole stage history from its reported changes, in time order whatever order they arrived in:
 * each row's `from` is the stage before it; a forward move over funnel stages never reached records them as reached
 * at the same moment, flagged `skipped` (straight to won counts as MQL, SQL and meeting reached); won and lost are
 * left only by a change marked `reopen`. After won or lost, a change without reopen back to a stage already reached
 * (an MQL date recorded after the deal closed) is ignored, as CRMs ignore a backward lifecycle move, and so is a
 * promotion by the score (the score never reopens a deal; a back-dated CRM close can land before one); any other
 * change makes the history invalid.
 * @example buildStageHistory([{ seq: 1, to: 'won', at, source: 'crm', … }]).rows.map((r) => r.to) // mql, sql, meeting, won
 */
export function buildStageHistory(entries: readonly StageEntry[]): StageHistory {
  const rows: StageHistoryRow[] = [];
  let stage: Stage = 'contact';
  let since = 0;
  let owner: string | null = null;
  const reached = new Set<Stage>(['contact']);
  const ignored: StageEntry[] = [];
  for (const entry of [...entries].sort(byTime)) {
    if (TERMINAL_STAGES.includes(stage) && entry.to !== stage && !entry.reopen) {
      if ((funnelIndex(entry.to) >= 0 && reached.has(entry.to)) || entry.source === 'score') {
        ignored.push(entry);
        continue;
      }
      return { ok: false, entry, stage, since };
    }
    const target = funnelIndex(entry.to);
    for (let i = 1; i < target; i++) {
      const passed = FUNNEL_STAGES[i]!;
      if (reached.has(passed)) continue;
      rows.push({
        ...entry,
        from: stage,
        to: passed,
        reason: null,
        value: null,
        currency: null,
        owner: null,
        reopen: false,
        skipped: true,
      });
      reached.add(passed);
      stage = passed;
    }
    rows.push({ ...entry, from: stage, skipped: false });
    if (entry.to !== stage) since = entry.at;
    stage = entry.to;
    reached.add(stage);
    if (entry.owner !== null) owner = entry.owner;
  }
  return { ok: true, rows, stage, owner, ignored };
}

/** The stage a history stood at just after `at` (the last row at or before it), `contact` before any row. */
export function stageAt(rows: readonly StageHistoryRow[], at: number): StageHistoryRow | null {
  let last: StageHistoryRow | null = null;
  for (const row of rows) {
    if (row.at > at) break;
    last = row;
  }
  return last;
}
