import type { Kysely } from 'kysely';
import { KermaError } from '../errors.js';
import type { Database } from '../storage/database-schema.js';

/** The contact an email (any of its identities, case-insensitive) or an id names; not found is an error naming it. */
export async function findContact(
  db: Kysely<Database>,
  workspaceId: string,
  by: { email?: string | undefined; contact?: string | undefined },
): Promise<string> {
  if (by.contact) return by.contact;
  if (!by.email) throw new KermaError('invalid_input', 'name the person with --email ADDRESS or --contact ID');
  const email = by.email.trim().toLowerCase();
  const row = await db
    .selectFrom('identities')
    .select('contact_id')
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', 'email')
    .where('value', '=', email)
    .executeTakeFirst();
  if (!row) throw new KermaError('not_found', `no contact with the email ${email} in this workspace`);
  return row.contact_id;
}
