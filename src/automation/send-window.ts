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
  let at = now;
  for (let i = 0; i < 4; i++) {
    const minutes = localMinutes(at, timeZone);
    if (minutes >= window.start && minutes < window.end) return at;
    const wait = minutes < window.start ? window.start - minutes : 24 * 60 - minutes + window.start;
    // Land on the minute boundary: drop the seconds already past in this minute.
    at = at - (at % 60_000) + wait * 60_000;
  }
  return at;
}
