const S = 1000;
const M = 60 * S;
const H = 60 * M;

/** Waits after the 1st, 2nd, … failed attempt (Standard Webhooks' suggested schedule); then the delivery fails. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5 * S,
  5 * M,
  30 * M,
  2 * H,
  5 * H,
  10 * H,
  14 * H,
  20 * H,
  24 * H,
];

/** A receiver's Retry-After is honoured up to this; longer asks are capped so a delivery is never parked forever. */
export const MAX_RETRY_AFTER_MS = 24 * H;

/**
 * When to try again after `attempts` failed attempts, or null when the schedule is used up. The wait is jittered by
 * ±20% so retries of many deliveries spread out, and is never shorter than the receiver's Retry-After.
 * @example nextAttemptAt(1, now, null, Math.random) // about now + 5 s
 */
export function nextAttemptAt(
  attempts: number,
  now: number,
  retryAfterMs: number | null,
  random: () => number,
  schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS,
): number | null {
  const base = schedule[attempts - 1];
  if (base === undefined) return null;
  const jittered = base * (0.8 + 0.4 * random());
  const wait = Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return now + Math.round(wait);
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}
