import type { ColumnType, Generated, Selectable } from 'kysely';

/** A column the database keeps (a trigger): read, never written by Kerma's code. */
type Derived<T> = ColumnType<T, never, never>;

/** Kysely table types. Times are epoch milliseconds; JSON columns hold text. */
export interface WorkspacesTable {
  id: string;
  name: string;
  time_zone: string;
  currency: string;
  created_at: number;
  /** Contacts of the workspace deleted so far, counted by a trigger on contacts (migration 0017). */
  contacts_deleted: Generated<number>;
}

export interface ApiKeysTable {
  workspace_id: string;
  key_hash: string;
  kind: 'write' | 'secret';
  prefix: string;
  created_at: number;
}

export interface ContactsTable {
  workspace_id: string;
  id: string;
  email: string | null;
  user_id: string | null;
  traits: string;
  first_touch: string | null;
  last_touch: string | null;
  first_channel: string | null;
  first_source: string | null;
  first_medium: string | null;
  first_campaign: string | null;
  first_landing_page: string | null;
  stage: string;
  probability: number | null;
  /** When `probability` was computed, and by which predictive model version. */
  predicted_at: number | null;
  prediction_model: number | null;
  /** Sales rep who owns the contact, from the newest stage update that named one. */
  owner: string | null;
  created_at: number;
  updated_at: number;
  last_seen_at: number;
  /** When the contact first reached each funnel stage, from its stage history (kept by triggers on stage_changes). */
  mql_at: Derived<number | null>;
  sql_at: Derived<number | null>;
  meeting_at: Derived<number | null>;
  won_at: Derived<number | null>;
  lost_at: Derived<number | null>;
  /** The first of those: null for a contact that never reached a funnel stage. */
  funnel_at: Derived<number | null>;
  /** The newest won deal value given, in its currency. */
  won_value: Derived<number | null>;
  won_currency: Derived<string | null>;
  /**
   * Moves whenever one of the contact's events is added, changed, moved to or from it or deleted (triggers on
   * events, SQLite only): an event digest made at another value no longer holds its events. Stays 0 on PostgreSQL,
   * which keeps no digests.
   */
  events_gen: Derived<number>;
}

/**
 * Each contact's score under the active model (zero and no grade before any), one row per contact: triggers on
 * contacts make a contact's row with it and drop it with it. Live scoring, the decay pass and a model's switch write it.
 */
export interface CurrentScoresTable {
  workspace_id: string;
  contact_id: string;
  score: number;
  fit: number;
  engagement: number;
  grade: string | null;
}

export interface IdentitiesTable {
  workspace_id: string;
  kind: string;
  value: string;
  contact_id: string;
  created_at: number;
}

export interface VisitorsTable {
  workspace_id: string;
  anonymous_id: string;
  contact_id: string | null;
  first_seen_at: number | null;
  last_seen_at: number;
  session_id: string | null;
  first_touch: string | null;
}

export interface SessionsTable {
  workspace_id: string;
  id: string;
  anonymous_id: string;
  contact_id: string | null;
  started_at: number;
  last_at: number;
  page_views: number;
  events: number;
  touch: string;
  campaign_key: string;
  channel: string;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  landing_page: string | null;
  is_new_visitor: number;
}

export interface EventsTable {
  workspace_id: string;
  message_id: string;
  type: string;
  name: string | null;
  anonymous_id: string | null;
  user_id: string | null;
  contact_id: string | null;
  session_id: string | null;
  timestamp: number;
  received_at: number;
  properties: string;
  traits: string | null;
  context: string;
  url: string | null;
  path: string | null;
  referrer: string | null;
  ip: string | null;
  user_agent: string | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  is_bot: number;
  library: string | null;
}

export interface DailyRollupsTable {
  workspace_id: string;
  day: string;
  channel: string;
  source: string;
  medium: string;
  campaign: string;
  landing_page: string;
  new_visitors: number;
  sessions: number;
  page_views: number;
  new_contacts: number;
}

export interface ImportCheckpointsTable {
  workspace_id: string;
  import_key: string;
  position: number;
  updated_at: number;
}

export interface ScoringModelsTable {
  workspace_id: string;
  version: number;
  name: string;
  source: string;
  active: number;
  created_at: number;
  activated_at: number | null;
}

/**
 * A contact's non-bot events as a rescore read them (`encodeEventDigest`), kept so the next rescore reads one row
 * instead of every event; it holds only while `gen` equals the contact's `events_gen`.
 */
export interface EventDigestsTable {
  workspace_id: string;
  contact_id: string;
  gen: number;
  /** The digest's distinct texts, as JSON. */
  terms: string;
  data: Uint8Array;
}

export interface ContactScoresTable {
  workspace_id: string;
  model_version: number;
  contact_id: string;
  /**
   * ScoreState in binary (`encodeScoreState`); rows written before it hold JSON, read as text on SQLite and as its
   * UTF-8 bytes on PostgreSQL (`decodeScoreState` reads both).
   */
  state: string | Uint8Array;
  total: number;
  fit: number;
  engagement: number;
  grade: string;
  status: string;
  /** Sequence number for this contact's next score_changes row. */
  next_seq: number;
  scored_at: number;
  /**
   * Changes with seq 0…k−1 as one JSON value (`unpackChanges`), as a full rescore wrote them before `change_log`;
   * null when every change is a row or they are in `change_log`. A replay by live scoring rewrites the rows from 0
   * and clears both.
   */
  packed_changes?: string | null;
  /**
   * Changes with seq 0…k−1 in binary (`encodeChangeLog`), written by a full rescore instead of k score_changes rows;
   * null when every change is a row.
   */
  change_log?: Uint8Array | null;
}

export interface ScoreChangesTable {
  workspace_id: string;
  model_version: number;
  contact_id: string;
  seq: number;
  rule_id: string;
  kind: string;
  rule_group: string;
  points: number;
  half_life_days: number | null;
  event_id: string | null;
  at: number;
}

export interface OutboxTable {
  workspace_id: string;
  id: string;
  kind: string;
  source_id: string;
  contact_id: string | null;
  payload: string;
  created_at: number;
  attempts: number;
  next_at: number;
  delivered_at: number | null;
}

export interface StageChangesTable {
  workspace_id: string;
  contact_id: string;
  seq: number;
  from_stage: string | null;
  to_stage: string;
  at: number;
  source: string;
  reason: string | null;
  value: number | null;
  currency: string | null;
  owner: string | null;
  /** 1 for a stage recorded as reached because a later stage was reached without it. */
  skipped: Generated<number>;
  /** 1 for the change that reopened a won or lost contact. */
  reopen: Generated<number>;
  update_id: string | null;
}

export interface CrmUpdatesTable {
  workspace_id: string;
  update_id: string;
  contact_id: string;
  result: string;
  created_at: number;
}

export interface SalesRejectionsTable {
  workspace_id: string;
  contact_id: string;
  seq: number;
  reason: string;
  note: string | null;
  owner: string | null;
  at: number;
}

export interface WebhookEndpointsTable {
  workspace_id: string;
  id: string;
  name: string;
  url: string;
  secret: string;
  enabled: number;
  disabled_reason: string | null;
  created_at: number;
}

export interface EmailTemplatesTable {
  workspace_id: string;
  name: string;
  subject: string;
  text: string;
  html: string | null;
  updated_at: number;
}

export interface DeliveriesTable {
  workspace_id: string;
  id: string;
  outbox_id: string;
  channel: string;
  target: string;
  contact_id: string | null;
  payload: string;
  status: string;
  attempts: number;
  next_at: number;
  lease_until: number | null;
  /** The worker holding the lease. */
  claimed_by: string | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface DeliveryAttemptsTable {
  workspace_id: string;
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  worker: string;
}

export interface SpendTable {
  workspace_id: string;
  /** Hash of day, source, medium, campaign and ad: a re-import replaces the row. */
  id: string;
  day: string;
  source: string;
  medium: string;
  campaign: string;
  /** The ad (or ad set) id or name; '' when the row is a whole campaign. */
  ad: string;
  channel: string;
  cost: number;
  currency: string;
  impressions: number;
  clicks: number;
  /** What the ad platform itself counted (leads, purchases…), when the export has it. */
  conversions: number | null;
  approved_conversions: number | null;
  imported_at: number;
}

export interface PredictiveModelsTable {
  workspace_id: string;
  version: number;
  kind: string;
  /** e.g. `won`, `stage:meeting`, `column:Converted`. */
  outcome: string;
  /** `contacts` (trained on the workspace's contacts) or `file:NAME` (trained on a CSV). */
  source: string;
  /** PredictiveModel as JSON. */
  model: string;
  /** ModelCard as JSON. */
  card: string;
  active: number;
  created_at: number;
  activated_at: number | null;
}

export interface VisitorSaltsTable {
  workspace_id: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  salt: string;
  created_at: number;
}

export interface ConsentsTable {
  workspace_id: string;
  contact_id: string;
  seq: number;
  /** marketing, analytics, … */
  purpose: string;
  granted: number;
  /** Where it was given or withdrawn: api, form, crm, import… */
  source: string;
  at: number;
}

export interface Database {
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  contacts: ContactsTable;
  current_scores: CurrentScoresTable;
  identities: IdentitiesTable;
  visitors: VisitorsTable;
  sessions: SessionsTable;
  events: EventsTable;
  daily_rollups: DailyRollupsTable;
  import_checkpoints: ImportCheckpointsTable;
  scoring_models: ScoringModelsTable;
  contact_scores: ContactScoresTable;
  event_digests: EventDigestsTable;
  score_changes: ScoreChangesTable;
  outbox: OutboxTable;
  stage_changes: StageChangesTable;
  crm_updates: CrmUpdatesTable;
  sales_rejections: SalesRejectionsTable;
  webhook_endpoints: WebhookEndpointsTable;
  email_templates: EmailTemplatesTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  spend: SpendTable;
  predictive_models: PredictiveModelsTable;
  visitor_salts: VisitorSaltsTable;
  consents: ConsentsTable;
}

/** The contact columns the database derives from the stage history (the `Derived` ones). */
export type StageTimeColumn = {
  [K in keyof ContactsTable]: ContactsTable[K] extends Derived<unknown> ? K : never;
}[keyof ContactsTable];

/** A contact as read back. */
export type ContactRow = Selectable<ContactsTable>;

/** A contact as read back with its current score (`current_scores`). */
export type ScoredContactRow = ContactRow &
  Pick<Selectable<CurrentScoresTable>, 'score' | 'fit' | 'engagement' | 'grade'>;
