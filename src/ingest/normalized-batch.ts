import type { IngestEvent, RejectedEvent } from './ingest-event.js';

/** A request's events after normalisation: the accepted ones and, for each refused one, its index and reason. */
export interface NormalizedBatch {
  events: IngestEvent[];
  rejected: RejectedEvent[];
}
