/** One example as the predictive core sees it before encoding: column name → value (blank, text or number). */
export type RawValue = string | number | boolean | null | undefined;
export type RawRow = Record<string, RawValue>;

/** A blank cell: undefined, null, or text that is empty after trimming. */
export function isBlank(value: RawValue): value is null | undefined | '' {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * A cell read as a number: a finite number, or null when it is blank, is text that is not a number, or is NaN or
 * ±Infinity (those never reach the model: they count as missing).
 * @example numericValue(' 4.5 ') // 4.5
 */
export function numericValue(value: RawValue): number | null {
  if (isBlank(value)) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const n = typeof value === 'number' ? value : Number(value.trim());
  return Number.isFinite(n) ? n : null;
}

/** A cell read as a category level: trimmed text; blank is its own level. */
export function levelValue(value: RawValue): string {
  if (isBlank(value)) return BLANK_LEVEL;
  return String(value).trim();
}

export const BLANK_LEVEL = '(blank)';
export const OTHER_LEVEL = '(other)';
