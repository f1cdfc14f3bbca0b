import type { Kysely } from 'kysely';
import type { ChannelRule } from '../config.js';
import type { IngestEvent } from '../ingest/ingest-event.js';
import type { ContactScoresTable, Database } from './database-schema.js';

export interface WorkspaceBatch {
  workspaceId: string;
  timeZone: string;
  events: IngestEvent[];
}

export interface IngestOutcome {
  inserted: number;
  duplicates: number;
}

/**
 * The swappable storage: SQLite (embedded default) and PostgreSQL (server mode), both through Kysely.
 * `ingest` is the one write path for events: one durable transaction per call, dedupe on messageId per workspace.
 * @example const outcomes = await storage.ingest([{ workspaceId, timeZone: 'UTC', events }])
 */
export interface Storage {
  readonly engine: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  /** The SQLite database's file, which other threads open connections of their own to; null on PostgreSQL. */
  readonly file: string | null;
  /**
   * Stores a rescore's contact_scores rows, outside any transaction, faster than INSERTs where the engine has a bulk
   * path (PostgreSQL: binary COPY, `copyScoreRows`); null on SQLite, whose rescore workers store their own pages.
   */
  readonly bulkScores: ((rows: readonly ContactScoresTable[]) => Promise<void>) | null;
  ingest(batches: WorkspaceBatch[]): Promise<IngestOutcome[]>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface StorageOptions {
  sessionTimeoutMs: number;
  /** Custom channel rules (config); compiled by the storage, also inside a writer thread. */
  channelRules: ChannelRule[];
}
