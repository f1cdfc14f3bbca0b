import { readCsv, withSkipped } from '../csv/read-csv.js';
import { yesNo } from '../models/backtest-options.js';
import type { RawRow } from '../predictive/raw-row.js';

export interface TrainingCsv {
  rows: RawRow[];
  labels: boolean[];
  columns: string[];
  /** Rows whose outcome cell is not a yes or a no, with their line. */
  rejected: Array<{ line: number; reason: string }>;
}

/**
 * A CSV (comma or semicolon separated) as training or evaluation rows: the outcome column read as yes/no (1/0,
 * true/false, yes/no), every other column (less `exclude`) as an input. A row with another outcome value is left out
 * and reported with its line; a missing outcome column is refused naming the header.
 */
export async function readTrainingCsv(
  file: string,
  outcomeColumn: string,
  options: { exclude?: string[]; onProgress?: (bytes: number, total: number) => void } = {},
): Promise<TrainingCsv> {
  const csv = readCsv(file, [outcomeColumn]);
  const excluded = new Set([...(options.exclude ?? []), outcomeColumn]);
  const rows: RawRow[] = [];
  const labels: boolean[] = [];
  const rejected: TrainingCsv['rejected'] = [];
  let columns: string[] | null = null;
  for await (const { record, line, bytes } of csv.rows) {
    columns ??= Object.keys(record).filter((c) => !excluded.has(c));
    const label = yesNo(record[outcomeColumn]);
    if (label === null) {
      rejected.push({
        line,
        reason: `${outcomeColumn} is ${JSON.stringify(record[outcomeColumn] ?? '')}; expected 1/0, true/false or yes/no`,
      });
    } else {
      rows.push(record);
      labels.push(label);
    }
    options.onProgress?.(bytes, csv.total);
  }
  return { rows, labels, columns: columns ?? [], rejected: withSkipped(rejected, csv.skipped) };
}
