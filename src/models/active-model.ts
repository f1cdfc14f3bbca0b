import type { Kysely } from 'kysely';
import { parseModelFile } from '../scoring/parse-model-file.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { Database } from '../storage/database-schema.js';

export interface ActiveModel {
  version: number;
  model: ScoringModel;
}

// Compiled models by workspace and version; a version's text never changes, so entries never go stale.
const compiled = new Map<string, ScoringModel>();

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
  const key = `${workspaceId}:${row.version}`;
  let model = compiled.get(key);
  if (!model) {
    const { source } = await db
      .selectFrom('scoring_models')
      .select('source')
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', row.version)
      .executeTakeFirstOrThrow();
    const parsed = parseModelFile(source);
    // Only models that parsed are ever stored; failing here means the stored text was altered by hand.
    if (!parsed.ok) throw new Error(`stored scoring model ${key} no longer parses`);
    model = parsed.model;
    compiled.set(key, model);
  }
  return { version: row.version, model };
}
