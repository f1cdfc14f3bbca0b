import type { Kysely } from 'kysely';
import { scoredContacts } from '../contacts/scored-contacts.js';
import { type AccountScore, accountScores } from '../scoring/account-score.js';
import type { Database } from '../storage/database-schema.js';
import { activeModel } from './active-model.js';

/** The workspace's accounts ranked by score under the active model, or null when no model is active. */
export async function accountScoresQuery(
  db: Kysely<Database>,
  workspaceId: string,
  limit: number,
): Promise<{ model: { name: string; version: number }; accounts: AccountScore[] } | null> {
  const active = await activeModel(db, workspaceId);
  if (!active) return null;
  const rows = await scoredContacts(db)
    .select(['id', 'email', 'traits', 'score'])
    .where('contacts.workspace_id', '=', workspaceId)
    .execute();
  const members = rows.map((r) => ({
    id: r.id,
    email: r.email,
    traits: JSON.parse(r.traits) as Record<string, unknown>,
    score: r.score,
  }));
  return {
    model: { name: active.model.name, version: active.version },
    accounts: accountScores(active.model.account, members).slice(0, limit),
  };
}
