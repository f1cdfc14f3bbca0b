import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  PostgresAdapter,
  type RawBuilder,
  sql,
} from 'kysely';

// One migration set for both engines: only types both understand (text, bigint, integer, double precision).
const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('workspaces')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('time_zone', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('api_keys')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('api_keys_pk', ['workspace_id', 'key_hash'])
      .execute();
    await db.schema.createIndex('api_keys_hash').unique().on('api_keys').column('key_hash').execute();
    await db.schema
      .createTable('contacts')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('email', 'text')
      .addColumn('user_id', 'text')
      .addColumn('traits', 'text', (c) => c.notNull())
      .addColumn('first_touch', 'text')
      .addColumn('last_touch', 'text')
      .addColumn('first_channel', 'text')
      .addColumn('first_source', 'text')
      .addColumn('first_medium', 'text')
      .addColumn('first_campaign', 'text')
      .addColumn('first_landing_page', 'text')
      .addColumn('stage', 'text', (c) => c.notNull().defaultTo('contact'))
      .addColumn('score', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('fit', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('engagement', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('grade', 'text')
      .addColumn('probability', 'double precision')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('contacts_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema.createIndex('contacts_email').on('contacts').columns(['workspace_id', 'email']).execute();
    await db.schema.createIndex('contacts_created').on('contacts').columns(['workspace_id', 'created_at']).execute();
    await db.schema.createIndex('contacts_score').on('contacts').columns(['workspace_id', 'score']).execute();
    await db.schema
      .createTable('identities')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('identities_pk', ['workspace_id', 'kind', 'value'])
      .execute();
    await db.schema
      .createIndex('identities_contact')
      .on('identities')
      .columns(['workspace_id', 'contact_id'])
      .execute();
    await db.schema
      .createTable('visitors')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('anonymous_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text')
      .addColumn('first_seen_at', 'bigint')
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('session_id', 'text')
      .addColumn('first_touch', 'text')
      .addPrimaryKeyConstraint('visitors_pk', ['workspace_id', 'anonymous_id'])
      .execute();
    await db.schema
      .createTable('sessions')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('anonymous_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text')
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('last_at', 'bigint', (c) => c.notNull())
      .addColumn('page_views', 'integer', (c) => c.notNull())
      .addColumn('events', 'integer', (c) => c.notNull())
      .addColumn('touch', 'text', (c) => c.notNull())
      .addColumn('campaign_key', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('source', 'text')
      .addColumn('medium', 'text')
      .addColumn('campaign', 'text')
      .addColumn('landing_page', 'text')
      .addColumn('is_new_visitor', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('sessions_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema
      .createIndex('sessions_anonymous')
      .on('sessions')
      .columns(['workspace_id', 'anonymous_id'])
      .execute();
    await db.schema.createIndex('sessions_contact').on('sessions').columns(['workspace_id', 'contact_id']).execute();
    await db.schema
      .createTable('events')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('anonymous_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('contact_id', 'text')
      .addColumn('session_id', 'text')
      .addColumn('timestamp', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('properties', 'text', (c) => c.notNull())
      .addColumn('traits', 'text')
      .addColumn('context', 'text', (c) => c.notNull())
      .addColumn('url', 'text')
      .addColumn('path', 'text')
      .addColumn('referrer', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('browser', 'text')
      .addColumn('os', 'text')
      .addColumn('device', 'text')
      .addColumn('is_bot', 'integer', (c) => c.notNull())
      .addColumn('library', 'text')
      .addPrimaryKeyConstraint('events_pk', ['workspace_id', 'message_id'])
      .execute();
    await db.schema
      .createIndex('events_contact')
      .on('events')
      .columns(['workspace_id', 'contact_id', 'timestamp'])
      .where(sql.ref('contact_id'), 'is not', null)
      .execute();
    await db.schema.createIndex('events_anonymous').on('events').columns(['workspace_id', 'anonymous_id']).execute();
    await db.schema
      .createTable('daily_rollups')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('medium', 'text', (c) => c.notNull())
      .addColumn('campaign', 'text', (c) => c.notNull())
      .addColumn('landing_page', 'text', (c) => c.notNull())
      .addColumn('new_visitors', 'bigint', (c) => c.notNull())
      .addColumn('sessions', 'bigint', (c) => c.notNull())
      .addColumn('page_views', 'bigint', (c) => c.notNull())
      .addColumn('new_contacts', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('daily_rollups_pk', [
        'workspace_id',
        'day',
        'channel',
        'source',
        'medium',
        'campaign',
        'landing_page',
      ])
      .execute();
    await db.schema
      .createTable('import_checkpoints')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('import_key', 'text', (c) => c.notNull())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('import_checkpoints_pk', ['workspace_id', 'import_key'])
      .execute();
  },
};

// Scoring: model versions, each contact's running score per version, every change that explains it, trigger outbox
// and lifecycle stage history.
const scoring: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('scoring_models')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('activated_at', 'bigint')
      .addPrimaryKeyConstraint('scoring_models_pk', ['workspace_id', 'version'])
      .execute();
    await db.schema
      .createTable('contact_scores')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('model_version', 'integer', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('total', 'double precision', (c) => c.notNull())
      .addColumn('fit', 'double precision', (c) => c.notNull())
      .addColumn('engagement', 'double precision', (c) => c.notNull())
      .addColumn('grade', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('next_seq', 'integer', (c) => c.notNull())
      .addColumn('scored_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('contact_scores_pk', ['workspace_id', 'model_version', 'contact_id'])
      .execute();
    await db.schema
      .createTable('score_changes')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('model_version', 'integer', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('rule_group', 'text', (c) => c.notNull())
      .addColumn('points', 'double precision', (c) => c.notNull())
      .addColumn('half_life_days', 'double precision')
      .addColumn('event_id', 'text')
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('score_changes_pk', ['workspace_id', 'model_version', 'contact_id', 'seq'])
      .execute();
    await db.schema
      .createTable('outbox')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('source_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .addPrimaryKeyConstraint('outbox_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema.createIndex('outbox_due').on('outbox').columns(['delivered_at', 'next_at']).execute();
    await db.schema
      .createTable('stage_changes')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('from_stage', 'text')
      .addColumn('to_stage', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addPrimaryKeyConstraint('stage_changes_pk', ['workspace_id', 'contact_id', 'seq'])
      .execute();
  },
};

// Lifecycle and automation: stage history with deal value and owner (skipped stages flagged), CRM update idempotency,
// sales rejections, webhook endpoints, email templates, and the deliveries each trigger fans out into, with their log.
const lifecycle: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('stage_changes').addColumn('value', 'double precision').execute();
    await db.schema.alterTable('stage_changes').addColumn('currency', 'text').execute();
    await db.schema.alterTable('stage_changes').addColumn('owner', 'text').execute();
    await db.schema
      .alterTable('stage_changes')
      .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('stage_changes')
      .addColumn('reopen', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('stage_changes').addColumn('update_id', 'text').execute();
    await db.schema
      .createIndex('stage_changes_to')
      .on('stage_changes')
      .columns(['workspace_id', 'to_stage', 'at'])
      .execute();
    await db.schema.alterTable('contacts').addColumn('owner', 'text').execute();
    await db.schema
      .createTable('crm_updates')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('update_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('crm_updates_pk', ['workspace_id', 'update_id'])
      .execute();
    await db.schema
      .createTable('sales_rejections')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('owner', 'text')
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('sales_rejections_pk', ['workspace_id', 'contact_id', 'seq'])
      .execute();
    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('disabled_reason', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_endpoints_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema
      .createIndex('webhook_endpoints_name')
      .unique()
      .on('webhook_endpoints')
      .columns(['workspace_id', 'name'])
      .execute();
    await db.schema
      .createTable('email_templates')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('html', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('email_templates_pk', ['workspace_id', 'name'])
      .execute();
    await db.schema
      .createTable('deliveries')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('outbox_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_until', 'bigint')
      .addColumn('claimed_by', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .addPrimaryKeyConstraint('deliveries_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema.createIndex('deliveries_due').on('deliveries').columns(['status', 'next_at']).execute();
    await db.schema
      .createTable('delivery_attempts')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('error', 'text')
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('worker', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('delivery_attempts_pk', ['workspace_id', 'delivery_id', 'attempt'])
      .execute();
  },
};

// Reports: ad spend per day × source × medium × campaign (× ad), with the platform's own conversion counts.
const reports: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('spend')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('medium', 'text', (c) => c.notNull())
      .addColumn('campaign', 'text', (c) => c.notNull())
      .addColumn('ad', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('cost', 'double precision', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('impressions', 'bigint', (c) => c.notNull())
      .addColumn('clicks', 'bigint', (c) => c.notNull())
      .addColumn('conversions', 'double precision')
      .addColumn('approved_conversions', 'double precision')
      .addColumn('imported_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('spend_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema.createIndex('spend_day').on('spend').columns(['workspace_id', 'day']).execute();
  },
};

// The funnel counts a cohort (contacts created in a range) per first-touch dimension: an index that holds those
// columns answers it without reading the contacts' rows (measured 4× faster on SQLite at 50,000 contacts). It
// replaces the (workspace_id, created_at) index, which is its prefix.
const reportIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('contacts_created').execute();
    await db.schema
      .createIndex('contacts_cohort')
      .on('contacts')
      .columns([
        'workspace_id',
        'created_at',
        'first_channel',
        'first_source',
        'first_medium',
        'first_campaign',
        'first_landing_page',
      ])
      .execute();
  },
};

// Predictive models: versions with the whole trained model as JSON; contacts remember when and by which model their
// probability was computed, so the debounced pass finds the ones whose features moved since.
const predictive: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('predictive_models')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('card', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('activated_at', 'bigint')
      .addPrimaryKeyConstraint('predictive_models_pk', ['workspace_id', 'version'])
      .execute();
    await db.schema.alterTable('contacts').addColumn('predicted_at', 'bigint').execute();
    await db.schema.alterTable('contacts').addColumn('prediction_model', 'integer').execute();
  },
};

// Cookieless visitors: one random salt per workspace and day; old ones are deleted, so a visitor hash cannot be
// recomputed later.
const visitorSalts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('visitor_salts')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('salt', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('visitor_salts_pk', ['workspace_id', 'day'])
      .execute();
  },
};

// Consent per contact and purpose, as a history (who said what, when, through what).
const consents: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('consents')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('granted', 'integer', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('consents_pk', ['workspace_id', 'contact_id', 'seq'])
      .execute();
  },
};

// When each contact first reached each funnel stage, and its newest won deal value, kept on the contact by the
// database itself whenever the stage history changes (whichever code writes it), so the funnel aggregates one index
// entry per contact that reached a stage instead of grouping the history per contact (0.59 s before, 0.07 s after
// over 200,000 contacts on SQLite: bench/RESULTS.md). `funnel_at` is the first of them: a partial index holds only the
// contacts that have one.
const FUNNEL_STAGES = ['mql', 'sql', 'meeting', 'won', 'lost'] as const;

/**
 * The assignments that recompute a contact's stage columns from its history (correlated on `contacts`). Each reads the
 * contact's rows by the history's primary key only: a condition on the stage in WHERE would let SQLite answer min(at)
 * from the (workspace, stage, time) index by walking every contact's rows of that stage.
 */
function stageTimesAssignments() {
  const history = sql`from stage_changes s where s.workspace_id = contacts.workspace_id and s.contact_id = contacts.id`;
  const stages = sql.join(FUNNEL_STAGES.map((x) => sql.lit(x)));
  const valuedWin = sql`(s.to_stage = 'won' and s.value is not null)`;
  const firsts = [
    ...FUNNEL_STAGES.map((stage) => sql`min(case when s.to_stage = ${sql.lit(stage)} then s.at end)`),
    sql`min(case when s.to_stage in (${stages}) then s.at end)`,
  ];
  return sql`(${sql.join(FUNNEL_STAGES.map((stage) => sql.ref(`${stage}_at`)))}, funnel_at) = (select ${sql.join(firsts)} ${history}),
    (won_value, won_currency) = (select case when ${valuedWin} then s.value end, case when ${valuedWin} then s.currency end
      ${history} order by ${valuedWin} desc, s.at desc, s.seq desc limit 1)`;
}

const stageTimes: Migration = {
  async up(db: Kysely<unknown>) {
    for (const stage of FUNNEL_STAGES)
      await db.schema.alterTable('contacts').addColumn(`${stage}_at`, 'bigint').execute();
    await db.schema.alterTable('contacts').addColumn('funnel_at', 'bigint').execute();
    await db.schema.alterTable('contacts').addColumn('won_value', 'double precision').execute();
    await db.schema.alterTable('contacts').addColumn('won_currency', 'text').execute();
    const set = stageTimesAssignments();
    await sql`update contacts set ${set}
      where exists (select 1 from stage_changes s where s.workspace_id = contacts.workspace_id and s.contact_id = contacts.id)`.execute(
      db,
    );
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      // Statement triggers with transition tables: a bulk insert (a model's promotions) refreshes each contact once.
      const refreshFunction = (name: string, changedContacts: RawBuilder<unknown>) =>
        sql`create function ${sql.raw(name)}() returns trigger language plpgsql as $$
          begin
            update contacts set ${set}
            from (${changedContacts}) k
            where contacts.workspace_id = k.workspace_id and contacts.id = k.contact_id;
            return null;
          end $$`.execute(db);
      await refreshFunction('kerma_refresh_stage_times', sql`select distinct workspace_id, contact_id from changed`);
      for (const [event, tables] of [
        ['insert', sql`new table as changed`],
        ['delete', sql`old table as changed`],
      ] as const) {
        await sql`create trigger ${sql.raw(`stage_changes_times_${event}`)} after ${sql.raw(event)} on stage_changes
          referencing ${tables} for each statement execute function kerma_refresh_stage_times()`.execute(db);
      }
      // An update may move a row between contacts: both the old and the new contact are refreshed.
      await refreshFunction(
        'kerma_refresh_stage_times_update',
        sql`select workspace_id, contact_id from old_rows union select workspace_id, contact_id from new_rows`,
      );
      await sql`create trigger stage_changes_times_update after update on stage_changes
        referencing old table as old_rows new table as new_rows for each statement
        execute function kerma_refresh_stage_times_update()`.execute(db);
    } else {
      const refresh = (row: 'new' | 'old') =>
        sql`update contacts set ${set} where workspace_id = ${sql.raw(row)}.workspace_id and id = ${sql.raw(row)}.contact_id;`;
      await sql`create trigger stage_changes_times_insert after insert on stage_changes begin ${refresh('new')} end`.execute(
        db,
      );
      await sql`create trigger stage_changes_times_delete after delete on stage_changes begin ${refresh('old')} end`.execute(
        db,
      );
      await sql`create trigger stage_changes_times_update after update on stage_changes begin ${refresh('old')} ${refresh('new')} end`.execute(
        db,
      );
    }
    // The funnel's cohort scan: contacts that reached a stage, by creation time, with the keys and times it groups.
    await db.schema
      .createIndex('contacts_funnel')
      .on('contacts')
      .columns([
        'workspace_id',
        'created_at',
        'first_channel',
        'first_source',
        'first_medium',
        'first_campaign',
        'first_landing_page',
        ...FUNNEL_STAGES.map((stage) => `${stage}_at`),
        // Named though implied by the index's condition: SQLite reads a column of the condition from the row otherwise.
        'funnel_at',
        'won_value',
        'won_currency',
      ])
      .where(sql.ref('funnel_at'), 'is not', null)
      .execute();
    // Cohort sizes per first-touch key: one index per dimension, ordered by key then creation time, so the funnel
    // steps from key to key and counts each key's range (a loose index scan) instead of sorting the whole cohort. The
    // cohort index of 0005 is no longer read for its dimensions; its prefix still orders contacts by creation.
    for (const [dimension, column] of [
      ['channel', 'first_channel'],
      ['source', 'first_source'],
      ['medium', 'first_medium'],
      ['campaign', 'first_campaign'],
      ['landing_page', 'first_landing_page'],
    ] as const) {
      await db.schema
        .createIndex(`contacts_by_${dimension}`)
        .on('contacts')
        .columns(['workspace_id', column, 'created_at'])
        .execute();
    }
    await db.schema.dropIndex('contacts_cohort').execute();
    await db.schema.createIndex('contacts_created').on('contacts').columns(['workspace_id', 'created_at']).execute();
    // The headline's leads: contacts that first became an MQL in a window.
    await db.schema
      .createIndex('contacts_mql')
      .on('contacts')
      .columns(['workspace_id', 'mql_at'])
      .where(sql.ref('mql_at'), 'is not', null)
      .execute();
  },
};

/**
 * A full rescore stores each contact's replayed score changes as one packed value beside its score (changes with
 * seq below their count); score_changes keeps the rows live scoring appends after them.
 */
const packedChanges: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('contact_scores').addColumn('packed_changes', 'text').execute();
  },
};

/**
 * The contact index of events also carries what scoring reads of an event but its URL and properties, so a rescore
 * of a model whose rules look only at type, name and path reads the index alone, in contact order, instead of every
 * event row by random access (5,000,000 events: 43 s through the table, 12–15 s from the index on the same machine).
 * With the time each event was received, the first model's catch-up finds the contacts that got events during its
 * rescore from the index too (a scan of every event row took 15 s of a 54 s rescore).
 */
const scoringIndex: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('events_contact').execute();
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`create index events_contact on events (workspace_id, contact_id, timestamp)
        include (message_id, is_bot, type, name, path, received_at) where contact_id is not null`.execute(db);
    } else {
      await db.schema
        .createIndex('events_contact')
        .on('events')
        .columns([
          'workspace_id',
          'contact_id',
          'timestamp',
          'message_id',
          'is_bot',
          'type',
          'name',
          'path',
          'received_at',
        ])
        .where(sql.ref('contact_id'), 'is not', null)
        .execute();
    }
  },
};

/**
 * A full rescore stores each contact's replayed changes in the binary form of `encodeChangeLog`, less than half the
 * room of the JSON of `packed_changes` (which rows written before stay readable from).
 */
const changeLog: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .alterTable('contact_scores')
      .addColumn('change_log', postgres ? 'bytea' : 'blob')
      .execute();
  },
};

/**
 * On SQLite a stage row inserted for any stage but won moves the contact's stage times by itself: a first time at its
 * stage, or at the funnel, can only come earlier, and the newest won value cannot change. So such an insert updates
 * the contact's columns from the new row instead of aggregating the contact's whole history twice. The 21,804
 * promotions of the scoring bench's model change, inserted by one statement in a process that had not read those
 * rows yet: 2.8 s with the full refresh per row, 0.8 s with this, 0.3 s with no trigger at all; inside the model
 * apply, where the rows were just read, 0.72–0.75 s against 0.68–0.69 s (bench/RESULTS.md). A won row, a delete
 * and an update still refresh from the history. PostgreSQL's triggers already refresh each changed contact once per
 * statement and stay as they are.
 */
const stageTimesOnInsert: Migration = {
  async up(db: Kysely<unknown>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) return;
    const earlier = (column: string, stage: string | null) => {
      const ref = sql.ref(column);
      const moves = sql`(${ref} is null or new.at < ${ref})`;
      return sql`${ref} = case when ${stage === null ? moves : sql`new.to_stage = ${sql.lit(stage)} and ${moves}`} then new.at else ${ref} end`;
    };
    const stages = FUNNEL_STAGES.filter((stage) => stage !== 'won');
    await sql`drop trigger stage_changes_times_insert`.execute(db);
    await sql`create trigger stage_changes_times_insert after insert on stage_changes when new.to_stage = 'won'
      begin update contacts set ${stageTimesAssignments()} where workspace_id = new.workspace_id and id = new.contact_id; end`.execute(
      db,
    );
    await sql`create trigger stage_changes_times_insert_first after insert on stage_changes
      when new.to_stage in (${sql.join(stages.map((stage) => sql.lit(stage)))})
      begin update contacts set ${sql.join([...stages.map((stage) => earlier(`${stage}_at`, stage)), earlier('funnel_at', null)])}
      where workspace_id = new.workspace_id and id = new.contact_id; end`.execute(db);
  },
};

/**
 * Event digests: a rescore keeps each contact's events in a compact row (`encodeEventDigest`), and the next rescore
 * reads that row instead of stepping through the contact index of events. A digest holds while its `gen` equals the
 * contact's `events_gen`, which triggers on events move whenever an event of the contact is added, changed, moved to
 * or from it, or deleted, whichever code does it; a digest made from a read that such a change overtook is stale from
 * the start and is never read. SQLite only (below).
 */
const eventDigests: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('contacts')
      .addColumn('events_gen', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable('event_digests')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('gen', 'bigint', (c) => c.notNull())
      .addColumn('terms', 'text', (c) => c.notNull())
      .addColumn('data', postgres ? 'bytea' : 'blob', (c) => c.notNull())
      .addPrimaryKeyConstraint('event_digests_pk', ['workspace_id', 'contact_id'])
      .execute();
    // PostgreSQL keeps the table (one schema, one erasure) but no digest: its rescore is bound by the server's writes,
    // so a digest saved nothing after a model change and cost the first rescore two fifths more (bench/RESULTS.md).
    // Nothing moves events_gen there, and nothing reads or stores a digest there (`contactRowsQuery`).
    if (!postgres) {
      const move = (row: 'new' | 'old') =>
        sql`update contacts set events_gen = events_gen + 1
          where workspace_id = ${sql.raw(row)}.workspace_id and id = ${sql.raw(row)}.contact_id;`;
      await sql`create trigger events_gen_insert after insert on events when new.contact_id is not null
        begin ${move('new')} end`.execute(db);
      await sql`create trigger events_gen_delete after delete on events when old.contact_id is not null
        begin ${move('old')} end`.execute(db);
      await sql`create trigger events_gen_update
        after update of workspace_id, contact_id, is_bot, type, name, path, timestamp on events
        begin ${move('old')} ${move('new')} end`.execute(db);
    }
  },
};

/**
 * A contact's score state is stored in binary (`encodeScoreState`), about a third of the room of its JSON, which was
 * the largest part of what a rescore writes (bench/RESULTS.md). SQLite stores the bytes in the column as it is (its
 * types are the values'); PostgreSQL's column becomes `bytea`, each JSON state kept as its UTF-8 bytes, which
 * `decodeScoreState` still reads.
 */
const binaryScoreState: Migration = {
  async up(db: Kysely<unknown>) {
    if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
    await sql`alter table contact_scores alter column state type bytea using convert_to(state, 'UTF8')`.execute(db);
  },
};

/**
 * Each contact's current score (under the active model) moves from columns of `contacts` to a narrow table of its
 * own, one row per contact, kept by triggers on contacts (a row made with every contact, dropped with it), so that
 * whatever code creates or erases a contact keeps the two in step. Switching a model's version rewrote a wide row
 * per contact: on PostgreSQL a new version of it with an entry in every index of contacts, the largest part of the
 * switch (bench/RESULTS.md); now only the narrow rows and their two indexes, and the contact rows of those promoted.
 */
const currentScores: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable('current_scores')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('contact_id', 'text', (c) => c.notNull())
      .addColumn('score', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('fit', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('engagement', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('grade', 'text')
      .addPrimaryKeyConstraint('current_scores_pk', ['workspace_id', 'contact_id'])
      .execute();
    await sql`insert into current_scores (workspace_id, contact_id, score, fit, engagement, grade)
      select workspace_id, id, score, fit, engagement, grade from contacts`.execute(db);
    await db.schema.dropIndex('contacts_score').execute();
    await db.schema
      .createIndex('current_scores_score')
      .on('current_scores')
      .columns(['workspace_id', 'score'])
      .execute();
    for (const column of ['score', 'fit', 'engagement', 'grade'])
      await db.schema.alterTable('contacts').dropColumn(column).execute();
    const made = sql`insert into current_scores (workspace_id, contact_id) values (new.workspace_id, new.id)`;
    const dropped = sql`delete from current_scores where workspace_id = old.workspace_id and contact_id = old.id`;
    if (postgres) {
      await sql`create function kerma_current_score_made() returns trigger language plpgsql as $$
        begin ${made}; return null; end $$`.execute(db);
      await sql`create function kerma_current_score_dropped() returns trigger language plpgsql as $$
        begin ${dropped}; return null; end $$`.execute(db);
      await sql`create trigger contacts_current_score_insert after insert on contacts
        for each row execute function kerma_current_score_made()`.execute(db);
      await sql`create trigger contacts_current_score_delete after delete on contacts
        for each row execute function kerma_current_score_dropped()`.execute(db);
    } else {
      await sql`create trigger contacts_current_score_insert after insert on contacts begin ${made}; end`.execute(db);
      await sql`create trigger contacts_current_score_delete after delete on contacts begin ${dropped}; end`.execute(
        db,
      );
    }
  },
};

/**
 * How many contacts each workspace has lost (`workspaces.contacts_deleted`), counted by the database whenever a contact
 * row is deleted, whichever code deletes it (an erasure, retention). A model's switch compares it with the count
 * before its rescore read the first page: unchanged, no contact can have lost its row between a page's read and its
 * store, and the switch skips looking for score rows without a contact (a probe of contacts per score row, 0.14-0.21 s
 * on SQLite and 0.34 s on PostgreSQL at 200,000 contacts; bench/RESULTS.md).
 */
const contactDeletions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('workspaces')
      .addColumn('contacts_deleted', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      // A statement trigger: an erasure of many contacts writes each workspace row once.
      await sql`create function kerma_count_contact_deletions() returns trigger language plpgsql as $$
        begin
          update workspaces w set contacts_deleted = w.contacts_deleted + k.n
          from (select workspace_id, count(*) as n from gone group by workspace_id) k
          where w.id = k.workspace_id;
          return null;
        end $$`.execute(db);
      await sql`create trigger contacts_deletions after delete on contacts referencing old table as gone
        for each statement execute function kerma_count_contact_deletions()`.execute(db);
    } else {
      await sql`create trigger contacts_deletions after delete on contacts begin
        update workspaces set contacts_deleted = contacts_deleted + 1 where id = old.workspace_id; end`.execute(db);
    }
  },
};

const provider: MigrationProvider = {
  async getMigrations() {
    return {
      '0001-initial': initial,
      '0002-scoring': scoring,
      '0003-lifecycle': lifecycle,
      '0004-reports': reports,
      '0005-report-indexes': reportIndexes,
      '0006-predictive': predictive,
      '0007-visitor-salts': visitorSalts,
      '0008-consents': consents,
      '0009-stage-times': stageTimes,
      '0010-packed-changes': packedChanges,
      '0011-scoring-index': scoringIndex,
      '0012-change-log': changeLog,
      '0013-stage-times-on-insert': stageTimesOnInsert,
      '0014-event-digests': eventDigests,
      '0015-binary-score-state': binaryScoreState,
      '0016-current-scores': currentScores,
      '0017-contact-deletions': contactDeletions,
    };
  },
};

/** Brings a database to the named migration and no further (a test of a later migration on data before it). */
export async function migrateTo(db: Kysely<unknown>, name: string): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateTo(name);
  if (error) throw error;
}

/** Brings a database to the newest schema; safe to run at every start. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
