import type { KermaRuntime } from '../kerma-runtime.js';

/**
 * Runs `pass` for every workspace every `intervalMs` (first run one interval after start), logging what it did when
 * it did something. A run still going when the next is due is not doubled; a failed run is logged and the next
 * interval retries. Returns a stop function that waits for a running pass.
 * @example startPeriodicPass(runtime, 60_000, 'predictions refreshed', (id) => scorePredictions(db, id))
 */
export function startPeriodicPass(
  runtime: KermaRuntime,
  intervalMs: number,
  done: string,
  pass: (workspaceId: string) => Promise<{ changed: number } & Record<string, unknown>>,
): () => Promise<void> {
  if (intervalMs <= 0) return async () => {};
  let running: Promise<void> | null = null;
  const run = async () => {
    for (const ws of await runtime.workspaces.list()) {
      const started = Date.now();
      const result = await pass(ws.id);
      if (result.changed > 0) runtime.logger.info({ workspace: ws.id, ...result, ms: Date.now() - started }, done);
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .catch((error: unknown) =>
        runtime.logger.error({ err: error }, `${done}: pass failed; the next interval retries`),
      )
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
