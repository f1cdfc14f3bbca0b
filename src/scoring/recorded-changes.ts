import { decodeChangeLog } from './change-log-codec.js';
import type { ScoreChange } from './scoring-event.js';

/** A rule as the packed changes name it once: id, kind (f/e), group, half-life. */
type PackedRule = [string, 'f' | 'e', string, number | null];
/** One change: index into the rules, points, event, time. */
type PackedChange = [number, number, string | null, number];

interface Packed {
  rules: PackedRule[];
  changes: PackedChange[];
}

/**
 * The changes a full rescore recorded beside a contact's score, before the rows live scoring appends after them:
 * from `change_log` (binary, `encodeChangeLog`), or from `packed_changes`, the JSON that rescores wrote before it;
 * none when neither is set.
 * @example recordedChanges(await db.selectFrom('contact_scores').select(['packed_changes', 'change_log'])…)
 */
export function recordedChanges(row: {
  packed_changes?: string | null;
  change_log?: Uint8Array | null;
}): ScoreChange[] {
  return row.change_log ? decodeChangeLog(row.change_log) : unpackChanges(row.packed_changes);
}

/**
 * The changes of a `packed_changes` JSON value, `{"rules": [[id, "f"|"e", group, half-life], …], "changes": [[rule,
 * points, event id, time], …]}`; null (none packed) gives none.
 */
export function unpackChanges(text: string | null | undefined): ScoreChange[] {
  if (!text) return [];
  const { rules, changes } = JSON.parse(text) as Packed;
  return changes.map(([i, points, eventId, at]) => {
    const [ruleId, kind, group, halfLifeDays] = rules[i]!;
    return { ruleId, kind: kind === 'f' ? 'fit' : 'engagement', group, points, halfLifeDays, eventId, at };
  });
}
