import type { KermaRuntime } from '../kerma-runtime.js';
import { refreshDecayedScores } from './refresh-decayed-scores.js';

/**
 * Runs the decay pass for every workspace every `intervalMs` (first run one interval after start). A run still going
 * when the next is due is not doubled. Returns a stop function that waits for a running pass.
 */
export function startDecayScheduler(runtime: KermaRuntime, intervalMs: number): () => Promise<void> {
  if (intervalMs <= 0) return async () => {};
  let running: Promise<void> | null = null;
  const run = async () => {
    for (const ws of await runtime.workspaces.list()) {
      const started = Date.now();
      const result = await refreshDecayedScores(runtime.storage.db, ws.id, Date.now());
      if (result.updated > 0)
        runtime.logger.info({ workspace: ws.id, ...result, ms: Date.now() - started }, 'decayed scores refreshed');
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .catch((error: unknown) => runtime.logger.error({ err: error }, 'decay pass failed; the next interval retries'))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
