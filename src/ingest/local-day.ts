const QUARTER_HOUR = 15 * 60_000;
// Per time zone: its formatter and the days of the quarter hours already asked for (numeric keys: no string per call).
const zones = new Map<string, { formatter: Intl.DateTimeFormat; days: Map<number, string> }>();

/**
 * The calendar day (YYYY-MM-DD) of an instant in a time zone. Every UTC offset in use is a multiple of 15 minutes,
 * so the answer is cached per quarter hour to keep Intl off the ingest hot path.
 * @example localDay(Date.UTC(2026, 0, 1, 23, 30), 'Europe/Berlin') // '2026-01-02'
 */
export function localDay(at: number, timeZone: string): string {
  const bucket = Math.floor(at / QUARTER_HOUR);
  let zone = zones.get(timeZone);
  if (!zone) {
    const formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    zone = { formatter, days: new Map() };
    zones.set(timeZone, zone);
  }
  const hit = zone.days.get(bucket);
  if (hit !== undefined) return hit;
  const day = zone.formatter.format(new Date(bucket * QUARTER_HOUR));
  if (zone.days.size > 50_000) zone.days.clear();
  zone.days.set(bucket, day);
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
