import type { IngestEvent, RejectedEvent } from './ingest-event.js';

/** A request's events after normalisation: the accepted ones and, for each refused one, its index and reason. */
export interface NormalizedBatch {
  events: IngestEvent[];
  rejected: RejectedEvent[];
}

/** Byte size of one item when the whole body is over the per-event limit (else no item can be). */
export function itemTooLarge(item: unknown, bodyBytes: number, maxEventBytes: number): string | null {
  if (bodyBytes <= maxEventBytes) return null;
  const size = Buffer.byteLength(JSON.stringify(item));
  return size > maxEventBytes ? `event is ${size} bytes; the limit is ${maxEventBytes} bytes per event` : null;
}
