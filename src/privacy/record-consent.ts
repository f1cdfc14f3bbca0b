import type { Kysely } from 'kysely';
import { lockWorkspace } from '../models/lock-workspace.js';
import type { Database } from '../storage/database-schema.js';

export interface ConsentInput {
  purpose: string;
  granted: boolean;
  source: string;
  at: number;
}

/** The trait each purpose keeps current on the contact (what email sending and scoring rules read). */
const PURPOSE_TRAIT: Record<string, string> = { marketing: 'marketing_consent', email: 'email_consent' };

/**
 * Records a contact's consent for a purpose (given or withdrawn) as the next row of its consent history; for
 * `marketing` and `email` the matching trait is set too, so email sending follows it at once. Null: no such contact.
 */
export async function recordConsent(
  db: Kysely<Database>,
  workspaceId: string,
  contactId: string,
  consent: ConsentInput,
): Promise<{ seq: number } | null> {
  return db.transaction().execute(async (trx) => {
    await lockWorkspace(trx, workspaceId);
    const contact = await trx
      .selectFrom('contacts')
      .select('traits')
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', contactId)
      .executeTakeFirst();
    if (!contact) return null;
    const last = await trx
      .selectFrom('consents')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('workspace_id', '=', workspaceId)
      .where('contact_id', '=', contactId)
      .executeTakeFirst();
    const seq = Number(last?.seq ?? 0) + 1;
    await trx
      .insertInto('consents')
      .values({
        workspace_id: workspaceId,
        contact_id: contactId,
        seq,
        purpose: consent.purpose,
        granted: consent.granted ? 1 : 0,
        source: consent.source,
        at: consent.at,
      })
      .execute();
    const trait = PURPOSE_TRAIT[consent.purpose];
    if (trait) {
      const traits = { ...(JSON.parse(contact.traits) as Record<string, unknown>), [trait]: consent.granted };
      await trx
        .updateTable('contacts')
        .set({ traits: JSON.stringify(traits), updated_at: Date.now() })
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', contactId)
        .execute();
    }
    return { seq };
  });
}
