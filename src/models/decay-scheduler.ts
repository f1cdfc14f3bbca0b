import type { KermaRuntime } from '../kerma-runtime.js';
import { refreshDecayedScores } from './refresh-decayed-scores.js';
import { startPeriodicPass } from './start-periodic-pass.js';

/** Runs the decay pass for every workspace every `intervalMs`; returns a stop function that waits for a running pass. */
export function startDecayScheduler(runtime: KermaRuntime, intervalMs: number): () => Promise<void> {
  return startPeriodicPass(runtime, intervalMs, 'decayed scores refreshed', async (workspaceId) => {
    const result = await refreshDecayedScores(runtime.storage.db, workspaceId, Date.now());
    return { ...result, changed: result.updated };
  });
}
