import type { ScoringEvent } from './scoring-event.js';
import type { EventCondition, TextTest, TraitCondition, TraitTest } from './scoring-model.js';

function lower(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toLowerCase() : value;
}

function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** `expected` is already lower-cased; "50" equals 50 (CSV imports and CRMs send numbers as text). */
function sameValue(value: unknown, expected: unknown): boolean {
  if (lower(value) === expected) return true;
  const n = asNumber(value);
  return n !== null && n === asNumber(expected);
}

/** Text comparisons ignore case and surrounding blanks: `Software` in a CRM equals `software` in a model. */
export function testValue(test: TraitTest, value: unknown): boolean {
  switch (test.op) {
    case 'exists':
      return !isBlank(value);
    case 'missing':
      return isBlank(value);
    case 'equals':
      return !isBlank(value) && sameValue(value, lower(test.value));
    case 'in':
      return !isBlank(value) && test.values.some((v) => sameValue(value, v));
    case 'matches':
      return typeof value === 'string' || typeof value === 'number' ? test.regex.test(String(value)) : false;
    case 'between': {
      const n = asNumber(value);
      return n !== null && n >= test.min && n <= test.max;
    }
    case 'domainIn': {
      if (typeof value !== 'string') return false;
      const at = value.lastIndexOf('@');
      const domain = (at >= 0 ? value.slice(at + 1) : value).trim().toLowerCase();
      return test.domains.has(domain);
    }
  }
}

/** A dotted trait name reaches into nested traits: `company.size`. */
function traitValue(traits: Record<string, unknown>, name: string): unknown {
  if (name in traits) return traits[name];
  let value: unknown = traits;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function matchTraits(condition: TraitCondition, traits: Record<string, unknown>): boolean {
  switch (condition.kind) {
    case 'trait':
      return testValue(condition.test, traitValue(traits, condition.trait));
    case 'all':
      return condition.of.every((c) => matchTraits(c, traits));
    case 'any':
      return condition.of.some((c) => matchTraits(c, traits));
    case 'not':
      return !matchTraits(condition.of, traits);
  }
}

/** A rule's test on an event's text (name, path, URL); case-sensitive, and a missing text meets none. */
export function testText(test: TextTest, value: string | null): boolean {
  if (value === null) return false;
  switch (test.op) {
    case 'equals':
      return value === test.value;
    case 'prefix':
      return value.startsWith(test.value);
    case 'matches':
      return test.regex.test(value);
  }
}

export function matchEvent(condition: EventCondition, event: ScoringEvent): boolean {
  if (condition.type !== null && condition.type !== event.type) return false;
  if (condition.name && !testText(condition.name, event.name)) return false;
  if (condition.path && !testText(condition.path, event.path)) return false;
  if (condition.url && !testText(condition.url, event.url)) return false;
  for (const { key, test } of condition.properties) {
    if (!testValue(test, traitValue(event.properties, key))) return false;
  }
  return true;
}
