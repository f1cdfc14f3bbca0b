const FUTURE_TOLERANCE_MS = 60_000;

export type ParsedTime = number | 'invalid' | null;

/** Epoch ms of an ISO string or epoch number; null when absent, 'invalid' when present but unreadable. */
export function parseTime(value: unknown): ParsedTime {
  if (value === undefined || value === null || value === '') return null;
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : 'invalid';
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
  return result > t.receivedAt + FUTURE_TOLERANCE_MS ? t.receivedAt : result;
}
