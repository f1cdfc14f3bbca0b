import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { KermaError } from '../errors.js';

export interface CsvRow {
  record: Record<string, string>;
  /** Line of the file where the row ends (1 is the header). */
  line: number;
  /** Bytes read so far, for progress. */
  bytes: number;
}

/**
 * Rows of a CSV file with a header (comma or semicolon separated, BOM tolerated), streamed. The first row is checked
 * against `required` columns: a missing one is refused naming it, line 1 and the header found.
 * @example const csv = readCsv('stages.csv', ['email', 'stage']); for await (const row of csv.rows) …
 */
export function readCsv(
  file: string,
  required: string[],
): { total: number; rows: AsyncIterable<CsvRow>; skipped: Array<{ line: number; reason: string }> } {
  let total: number;
  try {
    total = statSync(file).size;
  } catch {
    throw new KermaError('invalid_input', `cannot read ${file}: no such file`);
  }
  const skipped: Array<{ line: number; reason: string }> = [];
  const parser = createReadStream(file).pipe(
    parse({
      // A row the parser cannot read (a stray quote…) is skipped and reported by line; the rest are read.
      skip_records_with_error: true,
      on_skip: (error) => {
        if (error)
          skipped.push({ line: (error as { lines?: number }).lines ?? 0, reason: `not valid CSV: ${error.message}` });
        return undefined;
      },
      columns: true,
      delimiter: [',', ';'],
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      trim: false,
    }),
  );
  async function* rows(): AsyncIterable<CsvRow> {
    let checked = false;
    const records = parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; bytes: number } }>;
    try {
      for await (const row of records) yield* checkedRow(row);
    } catch (error) {
      // What skipping cannot recover from (a quote left open at the end of the file) ends the file, saying where.
      if (error instanceof Error && 'code' in error && String(error.code).startsWith('CSV_'))
        throw new KermaError('invalid_input', `${file}: not valid CSV: ${error.message}`);
      throw error;
    }
    function* checkedRow({ record, info }: { record: Record<string, string>; info: { lines: number; bytes: number } }) {
      if (!checked) {
        checked = true;
        const found = Object.keys(record);
        const missing = [...new Set(required)].filter((c) => !found.includes(c));
        if (missing.length > 0) {
          throw new KermaError(
            'invalid_input',
            `${file} line 1: missing column(s) ${missing.map((c) => `"${c}"`).join(', ')}; the header has ${found.map((c) => `"${c}"`).join(', ')}`,
          );
        }
      }
      // NUL characters cannot be stored in PostgreSQL text and mean nothing in a CSV cell.
      for (const [k, v] of Object.entries(record)) if (v.includes('\u0000')) record[k] = v.replaceAll('\u0000', '');
      yield { record, line: info.lines, bytes: info.bytes };
    }
  }
  return { total, rows: rows(), skipped };
}

/** An importer's rejected rows with the rows the parser skipped, in line order. */
export function withSkipped<R extends { line: number; reason: string }>(
  rejected: R[],
  skipped: Array<{ line: number; reason: string }>,
): Array<R | { line: number; reason: string }> {
  return [...rejected, ...skipped].sort((a, b) => a.line - b.line);
}
