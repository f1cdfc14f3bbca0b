import type { Kysely } from 'kysely';
import { compileStoredModel, storedModelCached } from '../scoring/compile-stored-model.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { Database } from '../storage/database-schema.js';

export interface ActiveModel {
  version: number;
  model: ScoringModel;
}

/**
 * The workspace's active model version, read from the database each time (one indexed row) so that every server
 * process sees a model applied from the CLI at once; compiling is cached per version.
 */
export async function activeModel(db: Kysely<Database>, workspaceId: string): Promise<ActiveModel | null> {
  const row = await db
    .selectFrom('scoring_models')
    .select(['version'])
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', 1)
    .executeTakeFirst();
  if (!row) return null;
  const cached = storedModelCached(workspaceId, row.version);
  if (cached) return { version: row.version, model: cached };
  const { source } = await db
    .selectFrom('scoring_models')
    .select('source')
    .where('workspace_id', '=', workspaceId)
    .where('version', '=', row.version)
    .executeTakeFirstOrThrow();
  return { version: row.version, model: compileStoredModel(workspaceId, row.version, source) };
}
