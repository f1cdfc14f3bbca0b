import { triggerOutboxRow } from '../automation/trigger-outbox-row.js';
import type { IngestEvent } from '../ingest/ingest-event.js';
import { localDay } from '../ingest/local-day.js';
import type { IngestPlan } from '../ingest/plan-ingest.js';
import { PRE_MQL_STAGES } from '../lifecycle/stages.js';
import { type ContactScoreUpdate, planLiveScoring, type TouchedContact } from '../scoring/plan-live-scoring.js';
import type { ContactHistory } from '../scoring/replay-contact.js';
import { decodeScoreState, encodeScoreState } from '../scoring/score-state-codec.js';
import type { ScoreChange, ScoringEvent } from '../scoring/scoring-event.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { ContactScoresTable, OutboxTable, ScoreChangesTable } from './database-schema.js';

export function scoringEventOf(e: IngestEvent): ScoringEvent {
  return {
    id: e.messageId,
    type: e.type,
    name: e.name,
    path: e.page?.path ?? null,
    url: e.page?.url ?? null,
    properties: e.properties,
    at: e.timestamp,
  };
}

/** A stored event row as scoring sees it. */
export function scoringEventFromRow(row: {
  message_id: string;
  type: string;
  name: string | null;
  path: string | null;
  url: string | null;
  properties: string;
  timestamp: number;
}): ScoringEvent {
  return {
    id: row.message_id,
    type: row.type,
    name: row.name,
    path: row.path,
    url: row.url,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    at: Number(row.timestamp),
  };
}

export interface TouchedSummary {
  events: ScoringEvent[];
  linked: boolean;
  /** Newest identify in this batch: when the traits were set. */
  traitsAt: number | null;
}

/** The contacts a stored batch touched: events stored for them, traits changed, anonymous history attached. */
export function collectTouched(plan: IngestPlan, inserted: Set<string>): Map<string, TouchedSummary> {
  const touched = new Map<string, TouchedSummary>();
  const get = (id: string) => {
    let t = touched.get(id);
    if (!t) {
      t = { events: [], linked: false, traitsAt: null };
      touched.set(id, t);
    }
    return t;
  };
  for (const planned of plan.events) {
    if (!planned.contactId || !inserted.has(planned.event.messageId)) continue;
    const t = get(planned.contactId);
    if (!planned.event.isBot) t.events.push(scoringEventOf(planned.event));
    if (planned.event.traits) t.traitsAt = Math.max(t.traitsAt ?? 0, planned.event.timestamp);
  }
  for (const contact of plan.contacts) get(contact.id);
  for (const link of plan.links) get(link.contactId).linked = true;
  return touched;
}

/** What storage loads for a touched contact: its current traits and stage, and its score row under the active version. */
export interface LoadedContactScore {
  id: string;
  traits: string;
  stage: string;
  state: string | Uint8Array | null;
  next_seq: number | null;
}

export function touchedContacts(
  summaries: Map<string, TouchedSummary>,
  rows: LoadedContactScore[],
  now: number,
): TouchedContact[] {
  return rows.map((row) => {
    const summary = summaries.get(row.id)!;
    return {
      contactId: row.id,
      prior: row.state === null ? null : { state: decodeScoreState(row.state), nextSeq: Number(row.next_seq) },
      stage: row.stage,
      traits: JSON.parse(row.traits) as Record<string, unknown>,
      traitsAt: summary.traitsAt ?? now,
      events: summary.events,
      linked: summary.linked,
    };
  });
}

export interface LiveScoringRows {
  scores: ContactScoresTable[];
  /** Contacts whose score_changes are rewritten (replays): delete theirs first. */
  replaced: string[];
  changes: ScoreChangesTable[];
  outbox: OutboxTable[];
  promotions: Array<{ contactId: string; at: number; reason: string }>;
}

/** One recorded score change as its score_changes row. */
export function scoreChangeRow(
  workspaceId: string,
  version: number,
  contactId: string,
  c: ScoreChange,
  seq: number,
): ScoreChangesTable {
  return {
    workspace_id: workspaceId,
    model_version: version,
    contact_id: contactId,
    seq,
    rule_id: c.ruleId,
    kind: c.kind,
    rule_group: c.group,
    points: c.points,
    half_life_days: c.halfLifeDays,
    event_id: c.eventId,
    at: c.at,
  };
}

/** A contact's contact_scores row under one version, its state in binary (`encodeScoreState`). */
export function scoreRow(
  workspaceId: string,
  version: number,
  u: Pick<ContactScoreUpdate, 'contactId' | 'state' | 'nextSeq' | 'total' | 'fit' | 'engagement' | 'grade' | 'status'>,
  now: number,
): ContactScoresTable {
  return {
    workspace_id: workspaceId,
    model_version: version,
    contact_id: u.contactId,
    state: encodeScoreState(u.state),
    total: u.total,
    fit: u.fit,
    engagement: u.engagement,
    grade: u.grade,
    status: u.status,
    next_seq: u.nextSeq,
    scored_at: now,
  };
}

/** Rows to write for a batch's score updates; storage writes them in the batch's transaction. */
export function scoreUpdateRows(
  model: ScoringModel,
  workspaceId: string,
  version: number,
  updates: ContactScoreUpdate[],
  now: number,
): LiveScoringRows {
  const rows: LiveScoringRows = { scores: [], replaced: [], changes: [], outbox: [], promotions: [] };
  for (const u of updates) {
    rows.scores.push(scoreRow(workspaceId, version, u, now));
    if (u.replaced) rows.replaced.push(u.contactId);
    for (const c of u.changes) rows.changes.push(scoreChangeRow(workspaceId, version, u.contactId, c, c.seq));
    for (const f of u.firings) {
      rows.outbox.push(
        triggerOutboxRow(
          workspaceId,
          { id: f.triggerId, actions: f.actions },
          {
            modelVersion: version,
            contactId: u.contactId,
            at: f.at,
            details: {
              happenedAt: new Date(f.happenedAt).toISOString(),
              eventId: f.eventId,
              score: f.total,
              grade: f.grade,
              status: f.status,
            },
          },
          now,
        ),
      );
    }
    if (u.promotedAt !== null) {
      const reason = `score ${u.total.toFixed(1)} reached the MQL threshold (model v${version})`;
      rows.promotions.push({ contactId: u.contactId, at: u.promotedAt, reason });
      for (const trigger of model.triggers) {
        if (trigger.when.kind !== 'reachesStage' || trigger.when.stage !== 'mql') continue;
        const stage = { from: 'contact', to: 'mql', source: 'score', reason };
        rows.outbox.push(
          triggerOutboxRow(
            workspaceId,
            trigger,
            { modelVersion: version, contactId: u.contactId, at: u.promotedAt, details: { stage, score: u.total } },
            now,
          ),
        );
      }
    }
  }
  return rows;
}

/** A stored event row with its contact, as both engines read a contact's history. */
export type HistoryEventRow = Parameters<typeof scoringEventFromRow>[0] & { contact_id: string };

/**
 * The rows one batch's live scoring writes, from the touched contacts and the stored history of those that need a
 * replay: the part both engines share between their loads and their writes.
 */
export function planBatchScoringRows(
  model: ScoringModel,
  version: number,
  workspaceId: string,
  timeZone: string,
  touched: TouchedContact[],
  replayed: TouchedContact[],
  historyRows: HistoryEventRow[],
  now: number,
): LiveScoringRows {
  const histories = new Map<string, ContactHistory>();
  for (const c of replayed) histories.set(c.contactId, { traits: c.traits, createdAt: now, events: [] });
  for (const row of historyRows) histories.get(row.contact_id)?.events.push(scoringEventFromRow(row));
  const clock = { dayOf: (ms: number) => localDay(ms, timeZone) };
  return scoreUpdateRows(
    model,
    workspaceId,
    version,
    planLiveScoring(model, touched, histories, clock, PRE_MQL_STAGES, now),
    now,
  );
}
