import type { Logger } from 'pino';
import type { Config } from './config.js';
import { GroupCommitter } from './ingest/group-committer.js';
import { createLogger } from './logger.js';
import { createMetrics, type Metrics } from './server/metrics.js';
import { openStorage } from './storage/open-storage.js';
import type { Storage } from './storage/storage.js';
import { WorkspaceService } from './workspaces/workspace-service.js';

export interface KermaRuntime {
  config: Config;
  storage: Storage;
  workspaces: WorkspaceService;
  committer: GroupCommitter;
  metrics: Metrics;
  logger: Logger;
  close(): Promise<void>;
}

/** Opens storage and builds the services shared by the server and the CLI. */
export async function openRuntime(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<KermaRuntime> {
  const storage = await openStorage(config);
  const metrics = createMetrics();
  const committer = new GroupCommitter(storage, {
    delayMs: config.commitDelayMs,
    maxEvents: 5_000,
    maxQueuedEvents: 100_000,
    onCommit: (_events, ms) => metrics.commits.observe(ms / 1000),
  });
  return {
    config,
    storage,
    workspaces: new WorkspaceService(storage, { rateLimitPerMinute: config.rateLimitPerMinute }),
    committer,
    metrics,
    logger,
    async close() {
      await committer.drain();
      await storage.close();
    },
  };
}
