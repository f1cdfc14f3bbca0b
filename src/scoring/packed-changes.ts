import type { ScoreChange } from './scoring-event.js';

/** One change as a JSON tuple: rule, kind (f/e), group, points, half-life, event, time. */
type PackedChange = [string, 'f' | 'e', string, number, number | null, string | null, number];

/**
 * A contact's score changes as one JSON text, in order. A full rescore records a contact's replayed changes as one
 * value beside its score instead of one row per change (3 million rows at 200,000 contacts were the largest write of
 * a rescore); the explanation reads them back before the rows live scoring appends after them.
 * @example unpackChanges(packChanges(changes)) // deep-equals changes
 */
export function packChanges(changes: ScoreChange[]): string {
  const tuples: PackedChange[] = changes.map((c) => [
    c.ruleId,
    c.kind === 'fit' ? 'f' : 'e',
    c.group,
    c.points,
    c.halfLifeDays,
    c.eventId,
    c.at,
  ]);
  return JSON.stringify(tuples);
}

/** The changes of `packChanges`; null (none packed) gives none. */
export function unpackChanges(text: string | null | undefined): ScoreChange[] {
  if (!text) return [];
  return (JSON.parse(text) as PackedChange[]).map(([ruleId, kind, group, points, halfLifeDays, eventId, at]) => ({
    ruleId,
    kind: kind === 'f' ? 'fit' : 'engagement',
    group,
    points,
    halfLifeDays,
    eventId,
    at,
  }));
}
