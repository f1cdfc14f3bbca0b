import type { KermaRuntime } from '../kerma-runtime.js';
import { startPeriodicPass } from '../models/start-periodic-pass.js';
import { applyRetention } from './apply-retention.js';

/** With a retention period set, deletes raw events older than it, every hour, for every workspace. */
export function startRetentionScheduler(runtime: KermaRuntime, retentionDays: number | null): () => Promise<void> {
  if (!retentionDays) return async () => {};
  return startPeriodicPass(runtime, 3_600_000, 'old events deleted (retention)', async (workspaceId) => {
    const result = await applyRetention(runtime.storage.db, workspaceId, retentionDays, Date.now());
    return { ...result, changed: result.deleted };
  });
}
