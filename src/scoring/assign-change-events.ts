import { matchEvent } from './match-condition.js';
import { eventOrder, type ScoreChange, type ScoringEvent } from './scoring-event.js';
import type { ScoringModel } from './scoring-model.js';

/**
 * Names the event behind each engagement change recorded without one (a full rescore reads no event ids, so its
 * change logs hold none): the contact's event at the change's very time that the change's rule matches, each event
 * named at most once per rule, in time-then-id order. Where several events of one time fit one rule and fewer
 * changes were recorded (a limit held the rest back), the first of them is named; all share rule, time and points.
 * A change whose event is gone (erased) or whose rule the model no longer has keeps no id. `events`: the contact's
 * non-bot events at those times, in any order.
 * @example assignChangeEvents(model, decodeChangeLog(row.change_log), eventsAtTimes)
 */
export function assignChangeEvents(
  model: ScoringModel,
  changes: readonly ScoreChange[],
  events: readonly ScoringEvent[],
): ScoreChange[] {
  const atTime = new Map<number, ScoringEvent[]>();
  for (const event of [...events].sort(eventOrder)) {
    const same = atTime.get(event.at);
    if (same) same.push(event);
    else atTime.set(event.at, [event]);
  }
  const rules = new Map(model.engagement.map((rule) => [rule.id, rule]));
  const named = new Set<string>();
  return changes.map((change) => {
    if (change.kind !== 'engagement' || change.eventId !== null) return change;
    const rule = rules.get(change.ruleId);
    const event = rule
      ? atTime.get(change.at)?.find((e) => !named.has(`${rule.id}\u0000${e.id}`) && matchEvent(rule.when, e))
      : undefined;
    if (!event || event.id === null) return change;
    named.add(`${change.ruleId}\u0000${event.id}`);
    return { ...change, eventId: event.id };
  });
}

/** The times of the engagement changes that name no event: the events `assignChangeEvents` needs are at these. */
export function unnamedChangeTimes(changes: readonly ScoreChange[]): number[] {
  return [...new Set(changes.filter((c) => c.kind === 'engagement' && c.eventId === null).map((c) => c.at))];
}
