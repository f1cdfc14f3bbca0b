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
export function readCsv(file: string, required: string[]): { total: number; rows: AsyncIterable<CsvRow> } {
  let total: number;
  try {
    total = statSync(file).size;
  } catch {
    throw new KermaError('invalid_input', `cannot read ${file}: no such file`);
  }
  const parser = createReadStream(file).pipe(
    parse({
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
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number; bytes: number };
    }>) {
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
      yield { record, line: info.lines, bytes: info.bytes };
    }
  }
  return { total, rows: rows() };
}
