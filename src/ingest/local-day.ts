const QUARTER_HOUR = 15 * 60_000;
// Quarter hours kept in each time zone's array: about 3.7 years around the first instant asked for.
const WINDOW = 2 ** 17;

interface Zone {
  formatter: Intl.DateTimeFormat;
  /** The quarter hour at index 0 of `window`. */
  base: number;
  /** The days of quarter hours already asked for, by quarter hour from `base`. */
  window: (string | undefined)[];
  /** The days of quarter hours outside the window. */
  outside: Map<number, string>;
}

const zones = new Map<string, Zone>();

/**
 * The calendar day (YYYY-MM-DD) of an instant in a time zone. Every UTC offset in use is a multiple of 15 minutes,
 * so the answer is cached per quarter hour to keep Intl off the ingest hot path. The cache is an array around the
 * first instant asked for: a rescore asks once per event a limited rule matches, and a map of the quarter hours took
 * twice as long there (bench/RESULTS.md).
 * @example localDay(Date.UTC(2026, 0, 1, 23, 30), 'Europe/Berlin') // '2026-01-02'
 */
export function localDay(at: number, timeZone: string): string {
  const bucket = Math.floor(at / QUARTER_HOUR);
  let zone = zones.get(timeZone);
  if (!zone) {
    const formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    zone = {
      formatter,
      base: bucket - WINDOW / 2,
      window: new Array<string | undefined>(WINDOW).fill(undefined),
      outside: new Map(),
    };
    zones.set(timeZone, zone);
  }
  const index = bucket - zone.base;
  if (index >= 0 && index < WINDOW) {
    const hit = zone.window[index];
    if (hit !== undefined) return hit;
    const day = zone.formatter.format(new Date(bucket * QUARTER_HOUR));
    zone.window[index] = day;
    return day;
  }
  const hit = zone.outside.get(bucket);
  if (hit !== undefined) return hit;
  const day = zone.formatter.format(new Date(bucket * QUARTER_HOUR));
  if (zone.outside.size > 50_000) zone.outside.clear();
  zone.outside.set(bucket, day);
  return day;
}

/** True when the IANA time zone name is known to this runtime. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first instant of calendar day `day` (YYYY-MM-DD) in a time zone: the quarter hour where `localDay` turns to it
 * (every offset in use is a multiple of 15 minutes).
 * @example startOfLocalDay('2026-01-02', 'Europe/Berlin') // Date.UTC(2026, 0, 1, 23)
 */
export function startOfLocalDay(day: string, timeZone: string): number {
  const utcMidnight = Date.parse(`${day}T00:00:00Z`);
  for (let k = -56; k <= 56; k++) {
    const at = utcMidnight + k * QUARTER_HOUR;
    if (localDay(at, timeZone) === day) return at;
  }
  return utcMidnight;
}

/** The calendar day `n` days after `day` (before, for a negative `n`). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** The instants [start, end) of the days `from`..`to` (inclusive) in a time zone. */
export function localDaysRange(from: string, to: string, timeZone: string): { start: number; end: number } {
  return { start: startOfLocalDay(from, timeZone), end: startOfLocalDay(addDays(to, 1), timeZone) };
}
