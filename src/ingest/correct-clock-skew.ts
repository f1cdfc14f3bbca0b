const FUTURE_TOLERANCE_MS = 60_000;

export type ParsedTime = number | 'invalid' | null;

/** Event times Kerma accepts: from 1970 to 2200 (epoch ms); anything else is a client bug, not a date. */
const EARLIEST = 0;
const LATEST = Date.UTC(2200, 0, 1);

/**
 * Epoch ms (whole) of an ISO string or epoch number; null when absent, 'invalid' when present but unreadable or
 * outside 1970–2200.
 */
export function parseTime(value: unknown): ParsedTime {
  if (value === undefined || value === null || value === '') return null;
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  // Whole milliseconds: times are stored as integers (PostgreSQL bigint refuses 1.5).
  return Number.isFinite(ms) && ms >= EARLIEST && ms <= LATEST ? Math.floor(ms) : 'invalid';
}

/**
 * Event time corrected for the sender's clock, as Segment does: `receivedAt − (sentAt − originalTimestamp)`.
 * An explicit `timestamp` next to `originalTimestamp` was set by hand (a back-dated event) and is kept as is.
 * Times in the future beyond a minute are clamped to receivedAt.
 * @example correctClockSkew({ originalTimestamp: 1000, sentAt: 2000, receivedAt: 5000 }) // 4000
 */
export function correctClockSkew(t: {
  timestamp?: number | null;
  originalTimestamp?: number | null;
  sentAt?: number | null;
  receivedAt: number;
}): number {
  let result: number;
  if (t.timestamp != null && t.originalTimestamp != null) result = t.timestamp;
  else {
    const base = t.originalTimestamp ?? t.timestamp ?? null;
    if (base === null) result = t.receivedAt;
    else if (t.sentAt != null) result = t.receivedAt - (t.sentAt - base);
    else result = base;
  }
  // A skew correction from a wild sentAt can leave the range: then the receiving time is the best there is.
  if (!(result >= EARLIEST)) return t.receivedAt;
  return result > t.receivedAt + FUTURE_TOLERANCE_MS ? t.receivedAt : result;
}
