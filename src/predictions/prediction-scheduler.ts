import type { KermaRuntime } from '../kerma-runtime.js';
import { startPeriodicPass } from '../models/start-periodic-pass.js';
import { scorePredictions } from './score-predictions.js';

/**
 * Scores contacts whose features changed with the active predictive model, every `intervalMs`: a contact's events and
 * trait changes gather between passes and are scored once (debounced, not on every event).
 */
export function startPredictionScheduler(runtime: KermaRuntime, intervalMs: number): () => Promise<void> {
  return startPeriodicPass(runtime, intervalMs, 'predictions refreshed', async (workspaceId) => {
    const result = await scorePredictions(runtime.storage.db, workspaceId);
    return { ...result, changed: result.scored };
  });
}
