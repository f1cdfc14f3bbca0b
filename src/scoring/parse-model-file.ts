import { isNode, LineCounter, parseDocument } from 'yaml';
import { compileEventCondition, compileTraitCondition, compileTriggerCondition } from './compile-condition.js';
import { compileTriggerAction } from './compile-trigger-action.js';
import type { ModelError } from './model-error.js';
import { type ModelFile, modelFileSchema } from './model-file-schema.js';
import type { CategoryRule, EngagementRule, FitRule, ScoringModel, TriggerRule } from './scoring-model.js';

export type ParsedModel = { ok: true; model: ScoringModel } | { ok: false; errors: ModelError[] };

const DEFAULT_GROUP = { fit: 'fit', engagement: 'engagement' } as const;

/**
 * Parses and compiles a model file (YAML). Every error names its path and line and what is accepted; a model with
 * any error is refused whole.
 * @example const parsed = parseModelFile(readFileSync('model.yaml', 'utf8')); if (!parsed.ok) parsed.errors.map(formatModelError)
 */
export function parseModelFile(text: string): ParsedModel {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        path: [],
        message: `not valid YAML: ${e.message.split('\n')[0]}`,
        line: lineCounter.linePos(e.pos[0]).line,
      })),
    };
  }
  const lineOf = (path: Array<string | number>): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      // A key that is not there (or a wrong key) is found through its parent's pair.
      if (n > 0) {
        const parent = doc.getIn(path.slice(0, n - 1), true) as { items?: Array<{ key?: unknown }> } | undefined;
        const pair = parent?.items?.find(
          (item) => isNode(item.key) && (item.key as { value?: unknown }).value === path[n - 1],
        );
        if (pair && isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
      }
    }
    return undefined;
  };
  const withLines = (errors: ModelError[]): ParsedModel => ({
    ok: false,
    errors: errors.map((e) => ({ ...e, line: e.line ?? lineOf(e.path) })),
  });

  const shape = modelFileSchema.safeParse(doc.toJS());
  if (!shape.success) {
    return withLines(
      shape.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        if (issue.code === 'unrecognized_keys') {
          return { path: [...path, issue.keys[0]!], message: `unknown key "${issue.keys[0]}"` };
        }
        return { path, message: issue.message };
      }),
    );
  }
  const errors: ModelError[] = [];
  const model = compileModel(shape.data, errors);
  return errors.length > 0 || !model ? withLines(errors) : { ok: true, model };
}

function checkUnique(sections: Array<[string, Array<{ id: string }>]>, errors: ModelError[]): void {
  const seen = new Set<string>();
  for (const [section, rules] of sections) {
    rules.forEach((rule, i) => {
      if (seen.has(rule.id)) {
        errors.push({
          path: [section, i, 'id'],
          message: `rule id "${rule.id}" is used twice`,
          expected: 'rule ids are unique in a model',
        });
      }
      seen.add(rule.id);
    });
  }
}

function compileModel(file: ModelFile, errors: ModelError[]): ScoringModel | null {
  checkUnique(
    [
      ['fit', file.fit],
      ['engagement', file.engagement],
    ],
    errors,
  );
  checkUnique([['triggers', file.triggers]], errors);
  const fit: FitRule[] = [];
  file.fit.forEach((rule, i) => {
    const when = compileTraitCondition(rule.when, ['fit', i, 'when'], errors);
    if (when) fit.push({ id: rule.id, group: rule.group ?? DEFAULT_GROUP.fit, when, points: rule.points });
  });
  const engagement: EngagementRule[] = [];
  file.engagement.forEach((rule, i) => {
    const when = compileEventCondition(rule.when, ['engagement', i, 'when'], errors);
    if (when) {
      engagement.push({
        id: rule.id,
        group: rule.group ?? DEFAULT_GROUP.engagement,
        when,
        points: rule.points,
        halfLifeDays: rule.half_life_days === undefined ? file.half_life_days : rule.half_life_days,
        limit: rule.limit ? { per: rule.limit.per, times: rule.limit.times } : null,
      });
    }
  });
  const fitGroups = new Set(fit.map((r) => r.group));
  const groups = new Set([...fitGroups, ...engagement.map((r) => r.group)]);
  for (const group of engagement.map((r) => r.group)) {
    if (fitGroups.has(group)) {
      errors.push({
        path: ['engagement'],
        message: `group "${group}" holds both fit and engagement rules`,
        expected: 'fit and engagement rules use separate groups',
      });
      break;
    }
  }
  const caps = new Map<string, { min: number; max: number }>();
  for (const [group, cap] of Object.entries(file.caps)) {
    if (!groups.has(group)) {
      errors.push({
        path: ['caps', group],
        message: `no rule is in group "${group}"`,
        expected: `one of ${[...groups].join(', ')}`,
      });
      continue;
    }
    const bounds =
      typeof cap === 'number' ? { min: -Infinity, max: cap } : { min: cap.min ?? -Infinity, max: cap.max ?? Infinity };
    if (bounds.min > bounds.max) errors.push({ path: ['caps', group], message: 'min is above max' });
    caps.set(group, bounds);
  }
  const { mql, nurture, unqualified } = file.thresholds;
  if (unqualified !== undefined && unqualified > mql) {
    errors.push({
      path: ['thresholds', 'unqualified'],
      message: `unqualified (${unqualified}) is above mql (${mql})`,
      expected: 'unqualified ≤ nurture ≤ mql',
    });
  }
  if (nurture !== undefined && (nurture > mql || (unqualified !== undefined && nurture < unqualified))) {
    errors.push({
      path: ['thresholds', 'nurture'],
      message: `nurture (${nurture}) is not between unqualified and mql`,
      expected: 'unqualified ≤ nurture ≤ mql',
    });
  }
  const fitGrades = file.grades ? { A: file.grades.A, B: file.grades.B, C: file.grades.C } : defaultFitGrades(fit);
  if (!(fitGrades.A >= fitGrades.B && fitGrades.B >= fitGrades.C)) {
    errors.push({
      path: ['grades'],
      message: `grade bounds must fall from A to C (A ${fitGrades.A}, B ${fitGrades.B}, C ${fitGrades.C})`,
    });
  }
  const levels = file.grades?.engagement ?? { 1: mql * 0.6, 2: mql * 0.3, 3: mql * 0.1 };
  if (!(levels[1] >= levels[2] && levels[2] >= levels[3])) {
    errors.push({ path: ['grades', 'engagement'], message: 'engagement level bounds must fall from 1 to 3' });
  }
  const categories: CategoryRule[] = [];
  file.categories.forEach((rule, i) => {
    const when = compileTraitCondition(rule.when, ['categories', i, 'when'], errors);
    if (when) categories.push({ id: rule.id, category: rule.category, when });
  });
  const triggers: TriggerRule[] = [];
  file.triggers.forEach((rule, i) => {
    const when = compileTriggerCondition(rule.when, ['triggers', i, 'when'], errors);
    const actions = rule.then.map((spec, j) => compileTriggerAction(spec, ['triggers', i, 'then', j], errors));
    if (when && actions.every((a) => a !== null)) triggers.push({ id: rule.id, when, actions });
  });
  if (errors.length > 0) return null;
  return {
    name: file.name,
    halfLifeDays: file.half_life_days,
    fit,
    engagement,
    caps,
    thresholds: { mql, nurture: nurture ?? null, unqualified: unqualified ?? null },
    fitGrades,
    engagementLevels: levels,
    categories,
    triggers,
    account: {
      key: file.account?.key ?? 'email_domain',
      companyTrait: file.account?.company_trait ?? 'company',
      aggregate: file.account?.aggregate ?? 'top3',
    },
  };
}

/** Without `grades`, the letters split the largest reachable fit into quarters. */
function defaultFitGrades(fit: FitRule[]): { A: number; B: number; C: number } {
  const max = fit.reduce((sum, r) => sum + Math.max(0, r.points), 0);
  return { A: max * 0.75, B: max * 0.5, C: max * 0.25 };
}
