import { isRejectionReason, REJECTION_REASONS, type RejectionReason } from '../lifecycle/rejection-reasons.js';
import { isStage, STAGES } from '../lifecycle/stages.js';
import { compilePattern } from './compile-pattern.js';
import type { ModelError } from './model-error.js';
import type {
  EventCondition,
  LeadStatus,
  TextTest,
  TraitCondition,
  TraitTest,
  TriggerCondition,
} from './scoring-model.js';

type Path = Array<string | number>;

const TRAIT_OPERATORS = ['equals', 'in', 'matches', 'between', 'exists', 'missing', 'domain_in'] as const;
const TEXT_OPERATORS = ['prefix', 'equals', 'matches'] as const;
const EVENT_KEYS = ['event', 'type', 'name', 'path', 'url', 'properties'] as const;
const EVENT_TYPES = new Set(['page', 'screen', 'track', 'identify', 'group', 'alias']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneOf(list: readonly string[]): string {
  return `expected one of ${list.join(', ')}`;
}

/** Checks and compiles the operator part of a trait or property test (`{ in: [...] }`, `{ between: [1, 5] }`…). */
function compileTraitTest(
  spec: Record<string, unknown>,
  path: Path,
  errors: ModelError[],
  ignore: readonly string[],
): TraitTest | null {
  const ops = Object.keys(spec).filter((k) => !ignore.includes(k));
  const unknown = ops.filter((k) => !(TRAIT_OPERATORS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    errors.push({
      path: [...path, unknown[0]!],
      message: `unknown operator "${unknown[0]}"`,
      expected: oneOf(TRAIT_OPERATORS),
    });
    return null;
  }
  if (ops.length !== 1) {
    errors.push({
      path,
      message: ops.length === 0 ? 'no operator' : `several operators (${ops.join(', ')})`,
      expected: `exactly one of ${TRAIT_OPERATORS.join(', ')}`,
    });
    return null;
  }
  const op = ops[0] as (typeof TRAIT_OPERATORS)[number];
  const value = spec[op];
  const at = [...path, op];
  switch (op) {
    case 'equals':
      if (isRecord(value) || Array.isArray(value)) {
        errors.push({
          path: at,
          message: 'equals takes one text, number or true/false',
          expected: 'use "in" for a list',
        });
        return null;
      }
      return { op, value };
    case 'in':
    case 'domain_in':
      if (!Array.isArray(value) || value.length === 0) {
        errors.push({ path: at, message: `${op} takes a non-empty list`, expected: `e.g. ${op}: [a, b]` });
        return null;
      }
      return op === 'in'
        ? { op, values: value.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)) }
        : { op: 'domainIn', domains: new Set(value.map((v) => String(v).toLowerCase().replace(/^@/, ''))) };
    case 'matches': {
      if (typeof value !== 'string') {
        errors.push({ path: at, message: 'matches takes a regular expression as text' });
        return null;
      }
      const compiled = compilePattern(value);
      if (!compiled.ok) {
        errors.push({ path: at, message: compiled.reason });
        return null;
      }
      return { op, regex: compiled.regex };
    }
    case 'between':
      if (
        !Array.isArray(value) ||
        value.length !== 2 ||
        typeof value[0] !== 'number' ||
        typeof value[1] !== 'number' ||
        value[0] > value[1]
      ) {
        errors.push({ path: at, message: 'between takes two numbers, low first', expected: 'e.g. between: [50, 500]' });
        return null;
      }
      return { op, min: value[0], max: value[1] };
    case 'exists':
    case 'missing':
      if (value !== true) {
        errors.push({ path: at, message: `${op} takes true`, expected: `write ${op}: true` });
        return null;
      }
      return { op };
  }
}

/**
 * A trait condition: `{ trait: industry, in: [software] }`, or `all` / `any` / `not` around others.
 * @example compileTraitCondition({ trait: 'company_size', between: [50, 500] }, ['fit', 0, 'when'], errors)
 */
export function compileTraitCondition(spec: unknown, path: Path, errors: ModelError[]): TraitCondition | null {
  if (!isRecord(spec)) {
    errors.push({ path, message: 'a condition is a mapping', expected: 'e.g. { trait: industry, in: [software] }' });
    return null;
  }
  for (const kind of ['all', 'any'] as const) {
    if (kind in spec) {
      const list = spec[kind];
      if (!Array.isArray(list) || list.length === 0 || Object.keys(spec).length !== 1) {
        errors.push({
          path: [...path, kind],
          message: `${kind} takes a non-empty list of conditions and nothing beside it`,
        });
        return null;
      }
      const of = list.map((c, i) => compileTraitCondition(c, [...path, kind, i], errors));
      return of.every((c) => c !== null) ? { kind, of: of as TraitCondition[] } : null;
    }
  }
  if ('not' in spec) {
    const of = compileTraitCondition(spec['not'], [...path, 'not'], errors);
    return of ? { kind: 'not', of } : null;
  }
  if (typeof spec['trait'] !== 'string' || spec['trait'] === '') {
    errors.push({
      path,
      message: 'a trait condition names its trait',
      expected: 'e.g. { trait: industry, in: [software] }, or all / any / not',
    });
    return null;
  }
  const test = compileTraitTest(spec, path, errors, ['trait']);
  return test ? { kind: 'trait', trait: spec['trait'], test } : null;
}

function compileTextTest(spec: unknown, path: Path, errors: ModelError[]): TextTest | null {
  if (typeof spec === 'string') return { op: 'equals', value: spec };
  if (!isRecord(spec)) {
    errors.push({ path, message: 'expected text or an operator mapping', expected: oneOf(TEXT_OPERATORS) });
    return null;
  }
  const keys = Object.keys(spec);
  const unknown = keys.find((k) => !(TEXT_OPERATORS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    errors.push({ path, message: `unknown operator "${unknown}"`, expected: oneOf(TEXT_OPERATORS) });
    return null;
  }
  if (keys.length !== 1) {
    errors.push({ path, message: 'exactly one operator', expected: oneOf(TEXT_OPERATORS) });
    return null;
  }
  const op = keys[0] as (typeof TEXT_OPERATORS)[number];
  const value = spec[op];
  if (typeof value !== 'string') {
    errors.push({ path: [...path, op], message: `${op} takes text` });
    return null;
  }
  if (op !== 'matches') return { op, value };
  const compiled = compilePattern(value);
  if (!compiled.ok) {
    errors.push({ path: [...path, op], message: compiled.reason });
    return null;
  }
  return { op, regex: compiled.regex };
}

/**
 * An event condition: `{ event: page, path: { prefix: /pricing } }`, `{ event: Demo Requested }`,
 * `{ event: track, name: { matches: "^Webinar" }, properties: { plan: { in: [pro] } } }`.
 * `event` is a type (page, screen, track, identify, group, alias) or else a track event's name.
 */
export function compileEventCondition(spec: unknown, path: Path, errors: ModelError[]): EventCondition | null {
  if (!isRecord(spec)) {
    errors.push({
      path,
      message: 'a condition is a mapping',
      expected: 'e.g. { event: page, path: { prefix: /pricing } }',
    });
    return null;
  }
  const unknown = Object.keys(spec).find((k) => !(EVENT_KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    errors.push({ path: [...path, unknown], message: `unknown key "${unknown}"`, expected: oneOf(EVENT_KEYS) });
    return null;
  }
  const before = errors.length;
  let type: string | null = null;
  let name: TextTest | null = null;
  const event = spec['event'];
  const explicitType = spec['type'];
  if (explicitType !== undefined) {
    if (typeof explicitType !== 'string' || !EVENT_TYPES.has(explicitType)) {
      errors.push({
        path: [...path, 'type'],
        message: `unknown event type ${JSON.stringify(explicitType)}`,
        expected: oneOf([...EVENT_TYPES]),
      });
    } else type = explicitType;
  }
  if (event !== undefined) {
    if (typeof event !== 'string' || event === '') {
      errors.push({ path: [...path, 'event'], message: 'event takes an event type or a track event name' });
    } else if (EVENT_TYPES.has(event)) {
      type = event;
    } else {
      type = 'track';
      name = { op: 'equals', value: event };
    }
  }
  if (spec['name'] !== undefined) name = compileTextTest(spec['name'], [...path, 'name'], errors);
  if (event === undefined && explicitType === undefined && spec['name'] === undefined) {
    errors.push({
      path,
      message: 'an event condition says which events',
      expected: 'give event (a type or a track name), type or name',
    });
  }
  const pathTest = spec['path'] === undefined ? null : compileTextTest(spec['path'], [...path, 'path'], errors);
  const urlTest = spec['url'] === undefined ? null : compileTextTest(spec['url'], [...path, 'url'], errors);
  const properties: EventCondition['properties'] = [];
  if (spec['properties'] !== undefined) {
    const props = spec['properties'];
    if (!isRecord(props)) {
      errors.push({
        path: [...path, 'properties'],
        message: 'properties maps a property name to a test',
        expected: 'e.g. properties: { plan: { in: [pro] } }',
      });
    } else {
      for (const [key, test] of Object.entries(props)) {
        const at = [...path, 'properties', key];
        const compiled = isRecord(test)
          ? compileTraitTest(test, at, errors, [])
          : compileTraitTest({ equals: test }, at, errors, []);
        if (compiled) properties.push({ key, test: compiled });
      }
    }
  }
  if (errors.length > before) return null;
  return { type, name, path: pathTest, url: urlTest, properties };
}

const STATUSES: readonly LeadStatus[] = ['mql', 'nurture', 'unqualified'];
const TRIGGER_KINDS = [
  'score.crosses_above',
  'score.crosses_below',
  'grade.enters',
  'status.reaches',
  'stage.reaches',
  'sales.rejects',
];

/**
 * `{ score: { crosses_above: 75 } }`, `{ score: { crosses_below: 20 } }`, `{ grade: { enters: A1 } }`,
 * `{ status: { reaches: mql } }`, `{ stage: { reaches: sql } }`, `{ sales: { rejects: any } }` or
 * `{ sales: { rejects: [no_budget, competitor] } }`.
 */
export function compileTriggerCondition(spec: unknown, path: Path, errors: ModelError[]): TriggerCondition | null {
  const bad = (message: string, at: Path = path) => {
    errors.push({ path: at, message, expected: oneOf(TRIGGER_KINDS) });
    return null;
  };
  if (!isRecord(spec) || Object.keys(spec).length !== 1) return bad('a trigger condition has exactly one subject');
  const [subject, inner] = Object.entries(spec)[0]!;
  if (!isRecord(inner) || Object.keys(inner).length !== 1)
    return bad(`"${subject}" takes one operator`, [...path, subject]);
  const [op, value] = Object.entries(inner)[0]!;
  const at = [...path, subject, op];
  switch (`${subject}.${op}`) {
    case 'score.crosses_above':
    case 'score.crosses_below':
      if (typeof value !== 'number') return bad('takes a number', at);
      return op === 'crosses_above' ? { kind: 'crossesAbove', score: value } : { kind: 'crossesBelow', score: value };
    case 'grade.enters':
      if (typeof value !== 'string' || !/^[A-D][1-4]$/.test(value)) {
        errors.push({
          path: at,
          message: `unknown grade ${JSON.stringify(value)}`,
          expected: 'a letter A-D and a level 1-4, e.g. A1',
        });
        return null;
      }
      return { kind: 'entersGrade', grade: value };
    case 'status.reaches':
      if (typeof value !== 'string' || !(STATUSES as readonly string[]).includes(value)) {
        errors.push({ path: at, message: `unknown status ${JSON.stringify(value)}`, expected: oneOf(STATUSES) });
        return null;
      }
      return { kind: 'reachesStatus', status: value as LeadStatus };
    case 'stage.reaches':
      if (typeof value !== 'string' || !isStage(value) || value === 'contact') {
        errors.push({
          path: at,
          message: `unknown stage ${JSON.stringify(value)}`,
          expected: oneOf(STAGES.filter((s) => s !== 'contact')),
        });
        return null;
      }
      return { kind: 'reachesStage', stage: value };
    case 'sales.rejects': {
      if (value === 'any') return { kind: 'salesRejects', reasons: null };
      const list = Array.isArray(value) ? value : [value];
      const unknown = list.find((r) => typeof r !== 'string' || !isRejectionReason(r));
      if (list.length === 0 || unknown !== undefined) {
        errors.push({
          path: at,
          message: `unknown rejection reason ${JSON.stringify(unknown ?? value)}`,
          expected: `"any", or one or a list of ${REJECTION_REASONS.join(', ')}`,
        });
        return null;
      }
      return { kind: 'salesRejects', reasons: list as RejectionReason[] };
    }
    default:
      return bad(`unknown trigger condition "${subject}.${op}"`, [...path, subject]);
  }
}
