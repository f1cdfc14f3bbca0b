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
 * A contact's score changes as one JSON text, in order, each rule named once. A full rescore records a contact's
 * replayed changes as one value beside its score instead of one row per change (3 million rows at 200,000 contacts
 * were the largest write of a rescore); the explanation reads them back before the rows live scoring appends after.
 * @example unpackChanges(packChanges(changes)) // deep-equals changes
 */
export function packChanges(changes: ScoreChange[]): string {
  const packed: Packed = { rules: [], changes: [] };
  // Looked up by id per kind (a key string built per change was a third of the packing time).
  const byRule = { fit: new Map<string, number>(), engagement: new Map<string, number>() };
  for (const c of changes) {
    const known = byRule[c.kind];
    let i = known.get(c.ruleId);
    if (i === undefined || packed.rules[i]![2] !== c.group || packed.rules[i]![3] !== c.halfLifeDays) {
      i = packed.rules.length;
      known.set(c.ruleId, i);
      packed.rules.push([c.ruleId, c.kind === 'fit' ? 'f' : 'e', c.group, c.halfLifeDays]);
    }
    packed.changes.push([i, c.points, c.eventId, c.at]);
  }
  return JSON.stringify(packed);
}

/** The changes of `packChanges`; null (none packed) gives none. */
export function unpackChanges(text: string | null | undefined): ScoreChange[] {
  if (!text) return [];
  const { rules, changes } = JSON.parse(text) as Packed;
  return changes.map(([i, points, eventId, at]) => {
    const [ruleId, kind, group, halfLifeDays] = rules[i]!;
    return { ruleId, kind: kind === 'f' ? 'fit' : 'engagement', group, points, halfLifeDays, eventId, at };
  });
}
