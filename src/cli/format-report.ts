import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';

export type ReportFormat = 'table' | 'csv' | 'json';

/** A column of a report table: its header and how a row shows in it (null shows as "no data"). */
export interface ReportColumn<T> {
  header: string;
  value(row: T): string | number | null;
}

const NO_DATA = 'no data';

/** A percentage with one decimal, or "no data". */
export const pct = (value: number | null) => (value === null ? null : `${(value * 100).toFixed(1)}%`);
/** A number with up to `digits` decimals, or "no data". */
export const num = (value: number | null, digits = 1) =>
  value === null ? null : Number.isInteger(value) ? value : Number(value.toFixed(digits));

/**
 * Rows as an aligned table (for people), CSV (for spreadsheets; "no data" cells empty) or JSON (the API's object,
 * passed as `json`).
 */
export function formatReport<T>(rows: T[], columns: ReportColumn<T>[], format: ReportFormat, json: unknown): string {
  if (format === 'json') return `${JSON.stringify(json, null, 2)}\n`;
  if (format === 'csv') {
    return stringify(
      rows.map((r) => columns.map((c) => c.value(r) ?? '')),
      { header: true, columns: columns.map((c) => c.header) },
    );
  }
  const table = new Table({
    head: columns.map((c) => c.header),
    style: { head: [], border: [], compact: true },
    colAligns: columns.map((_, i) => (i === 0 ? 'left' : 'right')),
  });
  for (const r of rows) table.push(columns.map((c) => String(c.value(r) ?? NO_DATA)));
  return `${table.toString()}\n`;
}
