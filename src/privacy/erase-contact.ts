import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { lockWorkspace } from '../models/lock-workspace.js';
import type { Database } from '../storage/database-schema.js';
import type { PersonTable } from './person-tables.js';

export interface ErasedRows {
  contact: number;
  identities: number;
  events: number;
  visitors: number;
  sessions: number;
  scores: number;
  /** The contact's event digest (0 or 1): a copy of its events' types, names, paths and times. */
  eventDigests: number;
  scoreChanges: number;
  stageChanges: number;
  crmUpdates: number;
  rejections: number;
  outbox: number;
  deliveries: number;
  deliveryAttempts: number;
  consents: number;
}

// Delete in chunks: SQLite allows 32 766 bound values.
const CHUNK = 500;

/**
 * Erases a person (GDPR art. 17 / CCPA deletion): the contact and every row holding its data — identities, events
 * (also those of its anonymous ids before it identified), visitors, sessions, scores and their history, its event
 * digest, stage history, CRM updates, sales rejections, outbox rows, deliveries and their attempts, consent
 * records — in one transaction under the workspace's write lock. The daily rollups keep their counts (they hold no
 * person). After the commit the freed space is wiped: on SQLite (secure_delete is on) the WAL is checkpointed and
 * truncated so old page images go; on PostgreSQL the touched tables are vacuumed so dead row versions go.
 * @example await eraseContact(db, workspaceId, 'c_…') // { contact: 1, events: 42, … } or null
 */
export async function eraseContact(
  db: Kysely<Database>,
  workspaceId: string,
  contactId: string,
): Promise<ErasedRows | null> {
  const erased = await db.transaction().execute(async (trx) => {
    await lockWorkspace(trx, workspaceId);
    const contact = await trx
      .selectFrom('contacts')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', contactId)
      .executeTakeFirst();
    if (!contact) return null;
    const identities = await trx
      .selectFrom('identities')
      .select(['kind', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('contact_id', '=', contactId)
      .execute();
    const anonymousIds = identities.filter((i) => i.kind === 'anonymous').map((i) => i.value);
    const visitors = await trx
      .selectFrom('visitors')
      .select('anonymous_id')
      .where('workspace_id', '=', workspaceId)
      .where('contact_id', '=', contactId)
      .execute();
    const anonymous = [...new Set([...anonymousIds, ...visitors.map((v) => v.anonymous_id)])];
    const deliveryIds = (
      await trx
        .selectFrom('deliveries')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('contact_id', '=', contactId)
        .execute()
    ).map((d) => d.id);
    const rows: ErasedRows = {
      contact: 0,
      identities: 0,
      events: 0,
      visitors: 0,
      sessions: 0,
      scores: 0,
      eventDigests: 0,
      scoreChanges: 0,
      stageChanges: 0,
      crmUpdates: 0,
      rejections: 0,
      outbox: 0,
      deliveries: 0,
      deliveryAttempts: 0,
      consents: 0,
    };
    const count = (r: Array<{ numDeletedRows: bigint }>) => r.reduce((s, x) => s + Number(x.numDeletedRows), 0);
    const byContact = async (table: PersonTable) =>
      count(
        await trx
          .deleteFrom(table)
          .where('workspace_id', '=', workspaceId)
          .where('contact_id', '=', contactId)
          .execute(),
      );
    for (const chunk of chunks(deliveryIds)) {
      rows.deliveryAttempts += count(
        await trx
          .deleteFrom('delivery_attempts')
          .where('workspace_id', '=', workspaceId)
          .where('delivery_id', 'in', chunk)
          .execute(),
      );
    }
    rows.deliveries = await byContact('deliveries');
    rows.outbox = await byContact('outbox');
    rows.events = await byContact('events');
    const byAnonymous = async (table: 'events' | 'sessions' | 'visitors') => {
      let n = 0;
      for (const chunk of chunks(anonymous))
        n += count(
          await trx
            .deleteFrom(table)
            .where('workspace_id', '=', workspaceId)
            .where('anonymous_id', 'in', chunk)
            .execute(),
        );
      return n;
    };
    rows.events += await byAnonymous('events');
    rows.sessions += await byAnonymous('sessions');
    rows.visitors += await byAnonymous('visitors');
    rows.sessions += await byContact('sessions');
    rows.visitors += await byContact('visitors');
    rows.scores = await byContact('contact_scores');
    rows.eventDigests = await byContact('event_digests');
    rows.scoreChanges = await byContact('score_changes');
    rows.stageChanges = await byContact('stage_changes');
    rows.crmUpdates = await byContact('crm_updates');
    rows.rejections = await byContact('sales_rejections');
    rows.consents = await byContact('consents');
    rows.identities = await byContact('identities');
    rows.contact = count(
      await trx.deleteFrom('contacts').where('workspace_id', '=', workspaceId).where('id', '=', contactId).execute(),
    );
    return rows;
  });
  if (erased) await wipeFreedSpace(db, touchedTables(erased));
  return erased;
}

/**
 * After deletes: no old copy of a deleted row stays readable in the database files. On PostgreSQL only the tables
 * that lost rows are vacuumed (a vacuum of a large events table is not free).
 */
export async function wipeFreedSpace(db: Kysely<Database>, tables: string[]): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    for (const table of tables) await sql`vacuum ${sql.table(table)}`.execute(db);
  } else {
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db);
  }
}

/** The tables an erase deleted rows from. */
function touchedTables(rows: ErasedRows): string[] {
  const table: Record<keyof ErasedRows, string> = {
    contact: 'contacts',
    identities: 'identities',
    events: 'events',
    visitors: 'visitors',
    sessions: 'sessions',
    scores: 'contact_scores',
    eventDigests: 'event_digests',
    scoreChanges: 'score_changes',
    stageChanges: 'stage_changes',
    crmUpdates: 'crm_updates',
    rejections: 'sales_rejections',
    outbox: 'outbox',
    deliveries: 'deliveries',
    deliveryAttempts: 'delivery_attempts',
    consents: 'consents',
  };
  return (Object.keys(table) as Array<keyof ErasedRows>).filter((k) => rows[k] > 0).map((k) => table[k]);
}

function chunks<T>(values: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += CHUNK) out.push(values.slice(i, i + CHUNK));
  return out;
}
