import type { ColumnSpec, FeatureSpec, IgnoredColumn } from './feature-spec.js';
import { BLANK_LEVEL, isBlank, levelValue, numericValue, OTHER_LEVEL, type RawRow } from './raw-row.js';

export interface FeatureSpecOptions {
  /** A level seen fewer times than this is pooled into `(other)`. */
  minLevelCount: number;
  /** At most this many levels keep their own input; the rest are pooled. */
  maxLevels: number;
  /** A column is numeric when at least this share of its non-blank cells are numbers; other cells then count as missing. */
  numericShare: number;
}

export const DEFAULT_FEATURE_SPEC_OPTIONS: FeatureSpecOptions = {
  minLevelCount: 10,
  maxLevels: 50,
  numericShare: 0.95,
};

/**
 * Decides from the training rows how each column is encoded: numeric (median stands in for missing, plus a missing
 * indicator when training had any) or categorical (one input per frequent level, rare and unseen levels pooled).
 * Constant columns and identifiers (every value distinct) are ignored and say so.
 * @example buildFeatureSpec(rows, ['Lead Origin', 'TotalVisits'])
 */
export function buildFeatureSpec(
  rows: RawRow[],
  columns: string[],
  options: FeatureSpecOptions = DEFAULT_FEATURE_SPEC_OPTIONS,
): FeatureSpec {
  const specs: ColumnSpec[] = [];
  const ignored: IgnoredColumn[] = [];
  const warnings: string[] = [];
  for (const name of columns) {
    let blank = 0;
    const numbers: number[] = [];
    const texts = new Map<string, number>();
    const levels = new Map<string, number>();
    for (const row of rows) {
      const value = row[name];
      const level = levelValue(value);
      levels.set(level, (levels.get(level) ?? 0) + 1);
      if (isBlank(value)) {
        blank++;
        continue;
      }
      const n = numericValue(value);
      if (n === null) texts.set(String(value).trim(), (texts.get(String(value).trim()) ?? 0) + 1);
      else numbers.push(n);
    }
    const filled = rows.length - blank;
    if (filled === 0) {
      ignored.push({ name, reason: 'always blank' });
      continue;
    }
    const distinct = levels.size - (levels.has(BLANK_LEVEL) ? 1 : 0);
    if (rows.length >= 20 && distinct === rows.length && (texts.size > 0 || numbers.every(Number.isInteger))) {
      ignored.push({ name, reason: 'an identifier (every value is distinct)' });
      continue;
    }
    if (numbers.length > 0 && numbers.length >= options.numericShare * filled) {
      const sorted = numbers.sort((a, b) => a - b);
      if (sorted[0] === sorted[sorted.length - 1] && blank === 0) {
        ignored.push({ name, reason: `constant (always ${sorted[0]})` });
        continue;
      }
      if (texts.size > 0) {
        const examples = [...texts.keys()].slice(0, 3).map((t) => JSON.stringify(t));
        const count = [...texts.values()].reduce((a, b) => a + b, 0);
        warnings.push(`${name}: ${count} value(s) that are not numbers (${examples.join(', ')}) count as missing`);
      }
      specs.push({
        kind: 'numeric',
        name,
        median: median(sorted),
        missingIndicator: numbers.length < rows.length,
      });
      continue;
    }
    if (levels.size < 2) {
      ignored.push({ name, reason: `constant (always ${JSON.stringify([...levels.keys()][0])})` });
      continue;
    }
    const ranked = [...levels.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const kept = ranked.filter(([, n], i) => n >= options.minLevelCount && i < options.maxLevels).map(([l]) => l);
    const pooled = ranked.length - kept.length;
    if (kept.length === 0) {
      ignored.push({ name, reason: `no level is seen ${options.minLevelCount} times or more` });
      continue;
    }
    specs.push({ kind: 'categorical', name, levels: kept, other: pooled > 0 });
    if (pooled > 0) warnings.push(`${name}: ${pooled} rare level(s) pooled into ${OTHER_LEVEL}`);
  }
  return { ...inputsOf(specs), columns: specs, ignored, warnings };
}

/** The input names of a set of column specs, in encoding order. */
export function inputsOf(columns: ColumnSpec[]): { inputs: string[]; inputColumn: number[] } {
  const inputs: string[] = [];
  const inputColumn: number[] = [];
  columns.forEach((c, i) => {
    if (c.kind === 'numeric') {
      inputs.push(c.name);
      inputColumn.push(i);
      if (c.missingIndicator) {
        inputs.push(`${c.name} (missing)`);
        inputColumn.push(i);
      }
    } else {
      for (const level of c.other ? [...c.levels, OTHER_LEVEL] : c.levels) {
        inputs.push(`${c.name}=${level}`);
        inputColumn.push(i);
      }
    }
  });
  return { inputs, inputColumn };
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
