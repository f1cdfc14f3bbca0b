import type { Kysely } from 'kysely';
import type { Database } from '../storage/database-schema.js';

/**
 * Contacts joined to their current scores (`current_scores`, one row per contact), to select from; `workspace_id`,
 * in both tables, is named with its table.
 * @example await scoredContacts(db).select(['id', 'score']).where('contacts.workspace_id', '=', workspaceId).execute()
 */
export function scoredContacts(db: Kysely<Database>) {
  return db
    .selectFrom('contacts')
    .innerJoin('current_scores', (join) =>
      join
        .onRef('current_scores.workspace_id', '=', 'contacts.workspace_id')
        .onRef('current_scores.contact_id', '=', 'contacts.id'),
    );
}

/** Every column of the contacts with their current scores (`ScoredContactRow`). */
export function scoredContactRows(db: Kysely<Database>) {
  return scoredContacts(db)
    .selectAll('contacts')
    .select(['current_scores.score', 'current_scores.fit', 'current_scores.engagement', 'current_scores.grade']);
}
