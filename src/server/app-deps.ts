import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { GroupCommitter } from '../ingest/group-committer.js';
import type { Storage } from '../storage/storage.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { Metrics } from './metrics.js';

/** Everything the HTTP app needs, built by the composition root (main) or by a test. */
export interface AppDeps {
  config: Config;
  storage: Storage;
  workspaces: WorkspaceService;
  committer: GroupCommitter;
  metrics: Metrics;
  logger: Logger;
}
