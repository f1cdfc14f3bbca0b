import type { Kysely } from 'kysely';
import { contactView } from '../contacts/contact-view.js';
import { scoredContactRows } from '../contacts/scored-contacts.js';
import { nameChangeEvents } from '../models/name-change-events.js';
import { parseStoredModel } from '../scoring/compile-stored-model.js';
import { recordedChanges } from '../scoring/recorded-changes.js';
import type { Database } from '../storage/database-schema.js';
import { scoreChangeRow } from '../storage/live-scoring-rows.js';
import type { PersonTable } from './person-tables.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
const json = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown));

/**
 * Everything Kerma holds on a person (GDPR art. 15 / 20 access and portability): the contact, its identities, every
 * event (also from its anonymous ids), sessions, score history, stage history, sales rejections, consent history,
 * outbox rows and deliveries with their attempts. Null: no such contact.
 */
export async function exportContact(db: Kysely<Database>, workspaceId: string, contactId: string) {
  const row = await scoredContactRows(db)
    .where('contacts.workspace_id', '=', workspaceId)
    .where('id', '=', contactId)
    .executeTakeFirst();
  if (!row) return null;
  const rowsOf = (table: Exclude<PersonTable, 'events' | 'identities' | 'deliveries'>) =>
    db
      .selectFrom(table)
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('contact_id', '=', contactId)
      .execute();
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
    sessions: strip(await rowsOf('sessions')),
    scoreChanges: await scoreChangesOf(db, workspaceId, contactId),
    stageChanges: strip(await rowsOf('stage_changes')),
    salesRejections: strip(await rowsOf('sales_rejections')),
    consents: (
      await db
        .selectFrom('consents')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('contact_id', '=', contactId)
        .orderBy('seq')
        .execute()
    ).map((c) => ({ purpose: c.purpose, granted: c.granted === 1, source: c.source, at: iso(c.at) })),
    outbox: strip(await rowsOf('outbox')),
    deliveries: strip(deliveries),
    deliveryAttempts: strip(attempts),
  };
}

/** Every recorded score change of the contact under every model version: those a rescore packed, then the rows. */
async function scoreChangesOf(db: Kysely<Database>, workspaceId: string, contactId: string) {
  const packed = await db
    .selectFrom('contact_scores as cs')
    .leftJoin('scoring_models as m', (join) =>
      join.onRef('m.workspace_id', '=', 'cs.workspace_id').onRef('m.version', '=', 'cs.model_version'),
    )
    .select(['cs.model_version', 'cs.packed_changes', 'cs.change_log', 'm.source'])
    .where('cs.workspace_id', '=', workspaceId)
    .where('cs.contact_id', '=', contactId)
    .execute();
  const rows = await db
    .selectFrom('score_changes')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('contact_id', '=', contactId)
    .execute();
  const unpacked = (
    await Promise.all(
      packed.map(async (p) => {
        // A rescore's change log names no events; each version's own rules find them again. A version whose text no
        // longer parses (altered by hand) leaves them unnamed rather than failing the whole export.
        const model = p.source === null ? null : parseStoredModel(workspaceId, p.model_version, p.source);
        const recorded = recordedChanges(p);
        const changes = model ? await nameChangeEvents(db, workspaceId, contactId, model, recorded) : recorded;
        return changes.map((c, seq) => scoreChangeRow(workspaceId, p.model_version, contactId, c, seq));
      }),
    )
  ).flat();
  return [...unpacked, ...rows]
    .map(({ workspace_id: _, ...r }) => r)
    .sort((a, b) => a.model_version - b.model_version || a.seq - b.seq);
}
