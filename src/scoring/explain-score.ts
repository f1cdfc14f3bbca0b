import { clampToCap, decay, readingOf, type ScoreReading } from './score-at.js';
import type { ScoreChange } from './scoring-event.js';
import type { ScoringModel } from './scoring-model.js';

export interface Contribution {
  ruleId: string;
  kind: 'fit' | 'engagement' | 'cap';
  points: number;
  /** What the contribution is worth at the time asked about; contributions add up to the total. */
  decayed: number;
  eventId: string | null;
  at: number;
}

export interface ScoreExplanation extends ScoreReading {
  contributions: Contribution[];
}

/**
 * Explains a score at time `at` from the recorded changes: each fit rule matched then (net of later unmatching),
 * each engagement award decayed to `at`, and one `cap:GROUP` line per group held to its cap.
 * @example explainScore(model, changes, Date.parse('2026-01-01'), false).contributions
 */
export function explainScore(
  model: ScoringModel,
  changes: ScoreChange[],
  at: number,
  excluded: boolean,
): ScoreExplanation {
  const contributions: Contribution[] = [];
  const fitNet = new Map<string, { points: number; at: number; group: string }>();
  const groupSums = new Map<string, { kind: 'fit' | 'engagement'; sum: number; at: number }>();
  for (const change of changes) {
    if (change.at > at) continue;
    if (change.kind === 'fit') {
      const net = fitNet.get(change.ruleId) ?? { points: 0, at: change.at, group: change.group };
      net.points += change.points;
      if (change.points > 0) net.at = change.at;
      fitNet.set(change.ruleId, net);
      continue;
    }
    const decayed = decay(change.points, change.halfLifeDays, change.at, at);
    contributions.push({
      ruleId: change.ruleId,
      kind: 'engagement',
      points: change.points,
      decayed,
      eventId: change.eventId,
      at: change.at,
    });
    const g = groupSums.get(change.group) ?? { kind: 'engagement', sum: 0, at: change.at };
    g.sum += decayed;
    g.at = Math.max(g.at, change.at);
    groupSums.set(change.group, g);
  }
  for (const [ruleId, net] of fitNet) {
    if (net.points === 0) continue;
    contributions.push({ ruleId, kind: 'fit', points: net.points, decayed: net.points, eventId: null, at: net.at });
    const g = groupSums.get(net.group) ?? { kind: 'fit', sum: 0, at: net.at };
    g.sum += net.points;
    groupSums.set(net.group, g);
  }
  let fit = 0;
  let engagement = 0;
  for (const [group, g] of groupSums) {
    const held = clampToCap(model, group, g.sum);
    if (held !== g.sum) {
      contributions.push({
        ruleId: `cap:${group}`,
        kind: 'cap',
        points: 0,
        decayed: held - g.sum,
        eventId: null,
        at: g.at,
      });
    }
    if (g.kind === 'fit') fit += held;
    else engagement += held;
  }
  contributions.sort((a, b) => b.at - a.at || a.ruleId.localeCompare(b.ruleId));
  return { ...readingOf(model, fit, engagement, excluded), contributions };
}
