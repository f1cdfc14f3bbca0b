/** Minutes after local midnight in `timeZone` at instant `ms`. */
function localMinutes(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const hour = Number(parts.find((p) => p.type === 'hour')!.value);
  const minute = Number(parts.find((p) => p.type === 'minute')!.value);
  return hour * 60 + minute;
}

/**
 * The first instant at or after `now` that falls inside the daily send window [start, end) (minutes after local
 * midnight) in `timeZone`: `now` itself when the window is open. Daylight-saving jumps are corrected by re-checking.
 * @example nextSendTime(Date.parse('2026-03-02T22:00:00Z'), 'Europe/Berlin', { start: 540, end: 1020 }) // 08:00Z next day
 */
export function nextSendTime(now: number, timeZone: string, window: { start: number; end: number }): number {
  const minutes = localMinutes(now, timeZone);
  if (minutes >= window.start && minutes < window.end) return now;
  const wait = minutes < window.start ? window.start - minutes : 24 * 60 - minutes + window.start;
  // On the minute boundary; then corrected for a daylight-saving change between now and the opening.
  let at = now - (now % 60_000) + wait * 60_000;
  for (let i = 0; i < 3; i++) {
    let off = localMinutes(at, timeZone) - window.start;
    if (off === 0) return at;
    if (off > 720) off -= 1440;
    if (off < -720) off += 1440;
    at -= off * 60_000;
  }
  return at;
}
