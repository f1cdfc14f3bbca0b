const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * An instant from a date (`2024-03-01`, midnight UTC) or a date-time (`2024-03-01T10:00:00Z`, `2024-03-01 10:00:00`;
 * no offset means UTC, as CRM exports write it). Null when the text is neither.
 */
export function parseInstant(text: string): number | null {
  const value = text.trim();
  if (DATE_ONLY.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`);
    return Number.isFinite(ms) ? ms : null;
  }
  if (!DATE_TIME.test(value)) return null;
  const withT = value.replace(' ', 'T');
  const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(withT) ? withT : `${withT}Z`);
  return Number.isFinite(ms) ? ms : null;
}
