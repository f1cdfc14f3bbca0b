import { KermaError } from '../errors.js';
import { localDay } from '../ingest/local-day.js';

/** A report's days: `to` defaults to today in the workspace time zone, `from` to 29 days before `to`. */
export function reportRange(query: { from?: string | undefined; to?: string | undefined }, timeZone: string) {
  const to = query.to ?? localDay(Date.now(), timeZone);
  const from = query.from ?? localDay(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000, 'UTC');
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== value)
      throw new KermaError('invalid_input', `${name}: ${value} is not a calendar date (YYYY-MM-DD)`);
  }
  if (from > to) throw new KermaError('invalid_input', `empty date range: from (${from}) is after to (${to})`);
  return { from, to };
}
