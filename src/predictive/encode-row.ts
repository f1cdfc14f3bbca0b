import type { FeatureSpec } from './feature-spec.js';
import { isBlank, levelValue, numericValue, type RawRow } from './raw-row.js';

export interface EncodedRow {
  inputs: Float64Array;
  /** Columns of the spec that the row does not have at all (not even blank): they are scored as missing. */
  absent: string[];
  /** Numeric columns whose cell was text, NaN or Infinity: scored as missing. */
  invalid: string[];
}

/**
 * A raw row as model inputs, the way training encoded them: a missing number becomes the training median with its
 * indicator set; a level the model has not seen joins `(other)`, or sets no input when training had no rare levels.
 * @example encodeRow(spec, { 'Lead Origin': 'API', TotalVisits: '3' }).inputs
 */
export function encodeRow(spec: FeatureSpec, row: RawRow): EncodedRow {
  const inputs = new Float64Array(spec.inputs.length);
  const absent: string[] = [];
  const invalid: string[] = [];
  let at = 0;
  for (const column of spec.columns) {
    const value = row[column.name];
    if (!(column.name in row)) absent.push(column.name);
    if (column.kind === 'numeric') {
      const n = numericValue(value);
      if (n === null && !isBlank(value)) invalid.push(column.name);
      inputs[at++] = n ?? column.median;
      if (column.missingIndicator) inputs[at++] = n === null ? 1 : 0;
    } else {
      const level = levelValue(value);
      let index = column.levels.indexOf(level);
      if (index < 0 && column.other) index = column.levels.length;
      if (index >= 0) inputs[at + index] = 1;
      at += column.levels.length + (column.other ? 1 : 0);
    }
  }
  return { inputs, absent, invalid };
}

/** Rows encoded into one row-major matrix (n × inputs). */
export function encodeRows(spec: FeatureSpec, rows: RawRow[]): Float64Array {
  const width = spec.inputs.length;
  const matrix = new Float64Array(rows.length * width);
  rows.forEach((row, i) => {
    matrix.set(encodeRow(spec, row).inputs, i * width);
  });
  return matrix;
}
