import type { Kysely } from 'kysely';
import { localDay } from '../ingest/local-day.js';
import {
  type BacktestMetrics,
  backtestMetrics,
  MIN_OUTCOMES_PER_CLASS,
  type Recommendation,
  recommendForCapacity,
  recommendForPrecision,
  type ScoredOutcome,
} from '../scoring/backtest-metrics.js';
import { eventFieldsRead } from '../scoring/event-fields-read.js';
import { eventPrefilter } from '../scoring/event-prefilter.js';
import { replayContact } from '../scoring/replay-contact.js';
import { scoreAt } from '../scoring/score-at.js';
import type { ScoringModel } from '../scoring/scoring-model.js';
import type { Database } from '../storage/database-schema.js';
import { type CutPoint, type Outcome, outcomeOf } from './backtest-options.js';
import { loadContactHistories } from './load-contact-histories.js';

export interface BacktestRequest {
  workspaceId: string;
  timeZone: string;
  models: ScoringModel[];
  outcome: Outcome;
  at: CutPoint;
  targetPrecision?: number | undefined;
  capacityPerWeek?: number | undefined;
  now?: number;
  onProgress?: (done: number) => void;
}

export interface ModelBacktest {
  name: string;
  metrics: BacktestMetrics;
  forPrecision: Recommendation | null;
  forCapacity: Recommendation | null;
}

export type BacktestResult =
  | { ok: true; contacts: number; unknownOutcome: number; neverMql: number; models: ModelBacktest[] }
  | { ok: false; code: 'too_few_outcomes'; message: string; positives: number; negatives: number };

const DAY_MS = 86_400_000;

/**
 * Replays every contact with a known outcome under each model (the same replay a rescore uses) and reports how well
 * the score at the cut point ranks the outcome.
 */
export async function runBacktest(db: Kysely<Database>, request: BacktestRequest): Promise<BacktestResult> {
  const now = request.now ?? Date.now();
  const clock = { dayOf: (ms: number) => localDay(ms, request.timeZone) };
  const rows: ScoredOutcome[][] = request.models.map(() => []);
  let contacts = 0;
  let unknownOutcome = 0;
  let neverMql = 0;
  // The event fields any of the models' rules look at.
  const read = request.models.map(eventFieldsRead);
  const fields = { url: read.some((f) => f.url), properties: read.some((f) => f.properties) };
  const only = eventPrefilter(request.models);
  // Scores only, no explanations: the events' ids are not read (as in a full rescore).
  const options = { stages: true, fields, only, eventIds: false };
  for await (const page of loadContactHistories(db, request.workspaceId, options)) {
    for (const contact of page) {
      contacts++;
      const positive = outcomeOf(request.outcome, contact);
      if (positive === null) {
        unknownOutcome++;
        continue;
      }
      let cut: number;
      if (request.at.kind === 'mql') {
        // Scored the moment it became an MQL: contacts that never did are not part of this question.
        const mqlAt = contact.reached.get('mql');
        if (mqlAt === undefined) {
          neverMql++;
          continue;
        }
        cut = mqlAt;
      } else cut = request.at.kind === 'now' ? now : Math.min(now, contact.createdAt + request.at.days * DAY_MS);
      request.models.forEach((model, i) => {
        const { state } = replayContact(model, contact, clock, cut, { crossings: false });
        rows[i]!.push({ score: scoreAt(model, state, cut).total, positive, at: cut });
      });
    }
    request.onProgress?.(contacts);
  }
  const positives = rows[0]?.filter((r) => r.positive).length ?? 0;
  const negatives = (rows[0]?.length ?? 0) - positives;
  if (positives < MIN_OUTCOMES_PER_CLASS || negatives < MIN_OUTCOMES_PER_CLASS) {
    return {
      ok: false,
      code: 'too_few_outcomes',
      positives,
      negatives,
      message: `a backtest needs at least ${MIN_OUTCOMES_PER_CLASS} contacts with the outcome and ${MIN_OUTCOMES_PER_CLASS} without; found ${positives} with and ${negatives} without (${unknownOutcome} of ${contacts} contacts have no known outcome${neverMql ? `, ${neverMql} never became an MQL` : ''})`,
    };
  }
  const models = request.models.map((model, i): ModelBacktest => {
    const { mql, nurture, unqualified } = model.thresholds;
    const lower = unqualified ?? nurture;
    const bands = [
      ...(lower !== null ? [{ band: 'unqualified', from: null, to: lower }] : []),
      { band: 'nurture', from: lower, to: mql },
      { band: 'mql', from: mql, to: null },
    ];
    const extra = [mql, ...(nurture !== null ? [nurture] : []), ...(unqualified !== null ? [unqualified] : [])];
    const metrics = backtestMetrics(rows[i]!, bands, extra);
    return {
      name: model.name,
      metrics,
      forPrecision:
        request.targetPrecision === undefined ? null : recommendForPrecision(metrics, request.targetPrecision),
      forCapacity:
        request.capacityPerWeek === undefined ? null : recommendForCapacity(metrics, request.capacityPerWeek),
    };
  });
  return { ok: true, contacts, unknownOutcome, neverMql, models };
}
