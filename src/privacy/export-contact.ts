import type { Kysely } from 'kysely';
import { contactView } from '../contacts/contact-view.js';
import type { Database } from '../storage/database-schema.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
const json = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown));

/**
 * Everything Kerma holds on a person (GDPR art. 15 / 20 access and portability): the contact, its identities, every
 * event (also from its anonymous ids), sessions, score history, stage history, sales rejections, consent history,
 * outbox rows and deliveries with their attempts. Null: no such contact.
 */
export async function exportContact(db: Kysely<Database>, workspaceId: string, contactId: string) {
  const row = await db
    .selectFrom('contacts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', contactId)
    .executeTakeFirst();
  if (!row) return null;
  const where = <T extends keyof Database>(table: T) =>
    db
      .selectFrom(table as 'contacts')
      .where('workspace_id', '=', workspaceId)
      .where('contact_id' as 'id', '=', contactId);
  const identities = await db
    .selectFrom('identities')
    .select(['kind', 'value', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', '=', contactId)
    .execute();
  const anonymous = identities.filter((i) => i.kind === 'anonymous').map((i) => i.value);
  let events = db.selectFrom('events').selectAll().where('workspace_id', '=', workspaceId);
  events = events.where((eb) =>
    anonymous.length
      ? eb.or([eb('contact_id', '=', contactId), eb('anonymous_id', 'in', anonymous)])
      : eb('contact_id', '=', contactId),
  );
  const deliveries = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', '=', contactId)
    .execute();
  const attempts = deliveries.length
    ? await db
        .selectFrom('delivery_attempts')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where(
          'delivery_id',
          'in',
          deliveries.map((d) => d.id),
        )
        .execute()
    : [];
  const strip = <R extends { workspace_id: string }>(rows: R[]) => rows.map(({ workspace_id: _, ...r }) => r);
  return {
    exportedAt: new Date().toISOString(),
    contact: contactView(row),
    identities: identities.map((i) => ({ kind: i.kind, value: i.value, since: iso(i.created_at) })),
    events: (await events.orderBy('timestamp').execute()).map((e) => ({
      messageId: e.message_id,
      type: e.type,
      name: e.name,
      timestamp: iso(e.timestamp),
      receivedAt: iso(e.received_at),
      anonymousId: e.anonymous_id,
      userId: e.user_id,
      url: e.url,
      referrer: e.referrer,
      ip: e.ip,
      userAgent: e.user_agent,
      properties: json(e.properties),
      traits: json(e.traits),
      context: json(e.context),
    })),
    sessions: strip(
      await db
        .selectFrom('sessions')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('contact_id', '=', contactId)
        .execute(),
    ),
    scoreChanges: strip(await where('score_changes').selectAll().execute()),
    stageChanges: strip(await where('stage_changes').selectAll().execute()),
    salesRejections: strip(await where('sales_rejections').selectAll().execute()),
    consents: (await where('consents').selectAll().execute()).map((c) => {
      const r = c as unknown as Database['consents'];
      return { purpose: r.purpose, granted: r.granted === 1, source: r.source, at: iso(r.at) };
    }),
    outbox: strip(await where('outbox').selectAll().execute()),
    deliveries: strip(deliveries),
    deliveryAttempts: strip(attempts),
  };
}
