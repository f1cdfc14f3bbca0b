import type { IngestEvent } from '../ingest/ingest-event.js';
import type { IngestOutcome, WorkspaceBatch } from './storage.js';

/** Concurrent requests of one workspace in one commit are planned together: one load and one write, not one per request. */
export function mergeByWorkspace(batches: WorkspaceBatch[]): WorkspaceBatch[] {
  const merged = new Map<string, WorkspaceBatch>();
  for (const batch of batches) {
    const current = merged.get(batch.workspaceId);
    if (current) current.events = current.events.concat(batch.events);
    else merged.set(batch.workspaceId, { ...batch, events: batch.events.slice() });
  }
  return [...merged.values()];
}

/** Each request's share of what the merged commit stored: an event counts once, for the first request that sent it. */
export function splitOutcomes(batches: WorkspaceBatch[], stored: Map<string, Set<string>>): IngestOutcome[] {
  return batches.map((batch) => {
    const ids = stored.get(batch.workspaceId) ?? new Set<string>();
    let inserted = 0;
    for (const event of batch.events as IngestEvent[]) {
      if (ids.delete(event.messageId)) inserted++;
    }
    return { inserted, duplicates: batch.events.length - inserted };
  });
}
