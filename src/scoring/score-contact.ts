import { matchEvent, matchTraits } from './match-condition.js';
import { decay, type ScoreReading, scoreAt } from './score-at.js';
import type { DecayBucket, ScoreState } from './score-state.js';
import type { ScoreChange, ScoringEvent } from './scoring-event.js';
import type { EngagementRule, LeadCategory, ScoringModel, TriggerAction } from './scoring-model.js';

/** A trigger that fired: written to the outbox in the same commit as the change that caused it. */
export interface TriggerFiring {
  triggerId: string;
  /** When it fired in Kerma: the event's time, or the time of scoring when a replay found it. */
  at: number;
  /** When the crossing happened in the contact's history (the event's time). */
  happenedAt: number;
  eventId: string | null;
  total: number;
  grade: string;
  status: ScoreReading['status'];
  actions: TriggerAction[];
}

export interface StatusChange {
  from: ScoreReading['status'] | null;
  to: ScoreReading['status'];
  at: number;
}

/** What one scoring step produced besides the new state. */
export interface ScoringOutput {
  changes: ScoreChange[];
  firings: TriggerFiring[];
  statusChanges: StatusChange[];
}

export function emptyOutput(): ScoringOutput {
  return { changes: [], firings: [], statusChanges: [] };
}

/** `dayOf(ms)` gives the workspace's local day (YYYY-MM-DD), so "once per day" means the marketer's day. */
export interface ScoringClock {
  dayOf(ms: number): string;
}

// Few distinct days occur in any history; the Date arithmetic per event was a measurable part of a rescore.
const weeks = new Map<string, string>();

// A contact's events come in time order, so the day asked for is mostly the one asked for last.
let lastDay = '';
let lastWeek = '';

function weekOf(day: string): string {
  if (day === lastDay) return lastWeek;
  let week = weeks.get(day);
  if (week === undefined) {
    week = mondayOf(day);
    if (weeks.size > 10_000) weeks.clear();
    weeks.set(day, week);
  }
  lastDay = day;
  lastWeek = week;
  return week;
}

function mondayOf(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  const monday = new Date(date.getTime() - ((date.getUTCDay() + 6) % 7) * 86_400_000);
  return monday.toISOString().slice(0, 10);
}

function withinLimit(rule: EngagementRule, state: ScoreState, day: string, week: string): boolean {
  if (!rule.limit) return true;
  const count = state.counts[rule.id];
  if (!count) return true;
  switch (rule.limit.per) {
    case 'ever':
      return count.ever < rule.limit.times;
    case 'day':
      return count.day !== day || count.inDay < rule.limit.times;
    case 'week':
      return count.week !== week || count.inWeek < rule.limit.times;
  }
}

function count(state: ScoreState, ruleId: string, day: string, week: string): void {
  const c = state.counts[ruleId] ?? { ever: 0, day, inDay: 0, week, inWeek: 0 };
  c.ever += 1;
  c.inDay = c.day === day ? c.inDay + 1 : 1;
  c.day = day;
  c.inWeek = c.week === week ? c.inWeek + 1 : 1;
  c.week = week;
  state.counts[ruleId] = c;
}

/**
 * Reads the score at `at` and fires what crossed: triggers (once per crossing, re-armed when the score goes back),
 * status changes (MQL, nurture, unqualified) and grade entries. Live scoring, the periodic decay pass, rescore and
 * backtest all come through here.
 */
export function observe(
  model: ScoringModel,
  state: ScoreState,
  at: number,
  eventId: string | null,
  out: ScoringOutput,
): ScoreReading {
  const reading = scoreAt(model, state, at);
  const previousGrade = state.grade;
  const previousStatus = state.status;
  if (reading.status !== previousStatus) out.statusChanges.push({ from: previousStatus, to: reading.status, at });
  for (const trigger of model.triggers) {
    const when = trigger.when;
    let fire = false;
    switch (when.kind) {
      case 'crossesAbove': {
        const armed = state.armed[trigger.id] ?? true;
        if (reading.total >= when.score) {
          fire = armed;
          state.armed[trigger.id] = false;
        } else state.armed[trigger.id] = true;
        break;
      }
      case 'crossesBelow': {
        const armed = state.armed[trigger.id] ?? false;
        if (reading.total < when.score) {
          fire = armed;
          state.armed[trigger.id] = false;
        } else state.armed[trigger.id] = true;
        break;
      }
      case 'entersGrade':
        fire = reading.grade === when.grade && previousGrade !== when.grade;
        break;
      case 'reachesStatus':
        fire = reading.status === when.status && previousStatus !== when.status;
        break;
      case 'reachesStage':
      case 'salesRejects':
        break;
    }
    if (fire) {
      out.firings.push({
        triggerId: trigger.id,
        at,
        happenedAt: at,
        eventId,
        total: reading.total,
        grade: reading.grade,
        status: reading.status,
        actions: trigger.actions,
      });
    }
  }
  state.grade = reading.grade;
  state.status = reading.status;
  return reading;
}

/**
 * Re-evaluates fit and lead category for a contact's traits as of `at`; each fit rule that starts or stops matching
 * is recorded as a change (+points or −points), so history explains every past fit.
 */
export function applyTraits(
  model: ScoringModel,
  state: ScoreState,
  traits: Record<string, unknown>,
  at: number,
  out: ScoringOutput,
): void {
  for (const rule of model.fit) {
    const matched = matchTraits(rule.when, traits);
    const had = state.fit[rule.id];
    if (matched && had === undefined) {
      state.fit[rule.id] = rule.points;
      out.changes.push({
        ruleId: rule.id,
        kind: 'fit',
        group: rule.group,
        points: rule.points,
        halfLifeDays: null,
        eventId: null,
        at,
      });
    } else if (!matched && had !== undefined) {
      delete state.fit[rule.id];
      out.changes.push({
        ruleId: rule.id,
        kind: 'fit',
        group: rule.group,
        points: -had,
        halfLifeDays: null,
        eventId: null,
        at,
      });
    }
  }
  let category: LeadCategory | null = null;
  for (const rule of model.categories) {
    if (matchTraits(rule.when, traits)) {
      category = rule.category;
      break;
    }
  }
  state.category = category;
  observe(model, state, at, null, out);
}

/**
 * Adds one event's engagement points (rules matched, within their limits) and fires what crossed.
 * Events must come in time order; `needsReplay` tells a caller when one does not.
 */
export function applyEvent(
  model: ScoringModel,
  state: ScoreState,
  event: ScoringEvent,
  clock: ScoringClock,
  out: ScoringOutput,
): void {
  if (addEventPoints(model, state, event, clock, out)) observe(model, state, event.at, event.id, out);
}

/**
 * `applyEvent` without reading the score afterwards (`observe`): true when a rule matched, so the caller can observe
 * the score once after the last such event when it wants no crossings (`replayContact`).
 */
export function addEventPoints(
  model: ScoringModel,
  state: ScoreState,
  event: ScoringEvent,
  clock: ScoringClock,
  out: ScoringOutput,
): boolean {
  // The local day and week are worked out only when a limited rule matches (time-zone maths is the costly part).
  let day: string | null = null;
  let week = '';
  let matched = false;
  const rules = model.engagement;
  const known = event.matches;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (!(known === undefined ? matchEvent(rule.when, event) : known[i])) continue;
    if (rule.limit) {
      if (day === null) {
        day = clock.dayOf(event.at);
        week = weekOf(day);
      }
      if (!withinLimit(rule, state, day, week)) continue;
    }
    matched = true;
    // Only limited rules need counting.
    if (rule.limit && day !== null) count(state, rule.id, day, week);
    let bucket = bucketOf(state, rule);
    if (!bucket) {
      bucket = { group: rule.group, halfLifeDays: rule.halfLifeDays, value: 0, at: event.at };
      state.buckets.push(bucket);
    }
    bucket.value = decay(bucket.value, bucket.halfLifeDays, bucket.at, event.at) + rule.points;
    bucket.at = event.at;
    out.changes.push({
      ruleId: rule.id,
      kind: 'engagement',
      group: rule.group,
      points: rule.points,
      halfLifeDays: rule.halfLifeDays,
      eventId: event.id,
      at: event.at,
    });
  }
  state.lastEventAt = Math.max(state.lastEventAt, event.at);
  return matched;
}

/**
 * The state's bucket of a rule's group and half-life, if it has one. A loop, not `buckets.find`: the closure `find`
 * takes was made for every point awarded, two fifths of what a rescore's replay allocated (bench/RESULTS.md).
 */
function bucketOf(state: ScoreState, rule: EngagementRule): DecayBucket | undefined {
  for (const b of state.buckets) if (b.group === rule.group && b.halfLifeDays === rule.halfLifeDays) return b;
  return undefined;
}

/** True when `events` cannot be added to `state` in order (one is older than what was applied). */
export function needsReplay(state: ScoreState, events: ScoringEvent[]): boolean {
  return events.some((e) => e.at < state.lastEventAt);
}
