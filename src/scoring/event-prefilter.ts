import { testText } from './match-condition.js';
import type { ScoringModel, TextTest } from './scoring-model.js';

/** A test on an event's name or path that a database can run: equal to, or starting with, a text (case-sensitive). */
export type StoredTextTest = { op: 'equals'; value: string } | { op: 'prefix'; value: string };

/** What a rule needs of an event's stored columns; null means any value will do. */
export interface EventAlternative {
  type: string | null;
  name: StoredTextTest | null;
  path: StoredTextTest | null;
}

/**
 * The events that can match any engagement rule of the models, as alternatives on type, name and path: an event
 * that meets none of them matches no rule, so a replay that leaves it out scores the same. Regex, URL and property
 * tests are left to `matchEvent` (the filter only narrows). Null: a rule may match any event, so every event is read.
 * An empty list: no rule matches any event.
 * @example eventPrefilter([model]) // [{ type: 'page', name: null, path: { op: 'prefix', value: '/pricing' } }, …]
 */
export function eventPrefilter(models: ScoringModel[]): EventAlternative[] | null {
  const alternatives: EventAlternative[] = [];
  for (const model of models) {
    for (const rule of model.engagement) {
      const alternative = { type: rule.when.type, name: stored(rule.when.name), path: stored(rule.when.path) };
      if (alternative.type === null && alternative.name === null && alternative.path === null) return null;
      alternatives.push(alternative);
    }
  }
  return alternatives;
}

function stored(test: TextTest | null): StoredTextTest | null {
  return test === null || test.op === 'matches' ? null : { op: test.op, value: test.value };
}

/**
 * Whether an event meets one of the alternatives (`eventPrefilter`), with the rules' own text test (`testText`): what
 * the history read tests in the database, for events read without it (an event digest). Null alternatives: every event.
 * @example eventMayMatch([{ type: 'page', name: null, path: { op: 'prefix', value: '/pricing' } }], 'page', null, '/pricing/team') // true
 */
export function eventMayMatch(
  alternatives: readonly EventAlternative[] | null,
  type: string,
  name: string | null,
  path: string | null,
): boolean {
  if (alternatives === null) return true;
  return alternatives.some(
    (a) =>
      (a.type === null || a.type === type) &&
      (a.name === null || testText(a.name, name)) &&
      (a.path === null || testText(a.path, path)),
  );
}
