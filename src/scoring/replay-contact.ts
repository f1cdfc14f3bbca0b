import {
  addEventPoints,
  applyEvent,
  applyTraits,
  emptyOutput,
  observe,
  type ScoringClock,
  type ScoringOutput,
} from './score-contact.js';
import { emptyScoreState, type ScoreState } from './score-state.js';
import { eventOrder, type ScoringEvent } from './scoring-event.js';
import type { ScoringModel } from './scoring-model.js';

export interface ContactHistory {
  traits: Record<string, unknown>;
  createdAt: number;
  /** In any order; replay sorts them (`eventOrder`). */
  events: ScoringEvent[];
  /**
   * The times of the contact's first and last event of all (the last may be the last up to the replay's cut-off),
   * when `events` holds only those a model can score (`eventPrefilter`): the traits count from the first, and the
   * state knows the last. Null: the contact has no events (up to the cut-off).
   */
  span?: { first: number; last: number } | null;
}

export interface ReplayOptions {
  /**
   * False: the caller wants the state and the changes, not the crossings on the way (a full rescore fires nothing,
   * a backtest reads the score at its cut-off). The score is then read once, after the last event a rule matched,
   * instead of after each: the state ends the same, as grade, status and each trigger's arming follow the last
   * reading alone, and `firings` and `statusChanges` come back empty. Those readings were a tenth of the work of
   * reading and replaying a rescore's pages (bench/RESULTS.md).
   */
  crossings?: boolean;
}

/**
 * Scores a contact from scratch: traits as of its creation, then every event up to `until` in time order.
 * Full rescore and backtest use this; live scoring applies the same steps one batch at a time.
 * @example const { state } = replayContact(model, history, clock); scoreAt(model, state, Date.now())
 */
export function replayContact(
  model: ScoringModel,
  history: ContactHistory,
  clock: ScoringClock,
  until = Number.POSITIVE_INFINITY,
  options: ReplayOptions = {},
): { state: ScoreState; output: ScoringOutput } {
  const state = emptyScoreState();
  const output = emptyOutput();
  const events = inOrderUntil(history.events, until)
    ? history.events
    : (until === Number.POSITIVE_INFINITY ? history.events.slice() : history.events.filter((e) => e.at <= until)).sort(
        eventOrder,
      );
  const span = history.span;
  const first = span === undefined ? events[0]?.at : span !== null && span.first <= until ? span.first : undefined;
  applyTraits(model, state, history.traits, Math.min(history.createdAt, first ?? history.createdAt), output);
  if (options.crossings === false) {
    let lastMatched: ScoringEvent | null = null;
    for (const event of events) if (addEventPoints(model, state, event, clock, output)) lastMatched = event;
    if (lastMatched) observe(model, state, lastMatched.at, lastMatched.id, output);
    output.firings.length = 0;
    output.statusChanges.length = 0;
  } else for (const event of events) applyEvent(model, state, event, clock, output);
  // Events no rule can match change nothing but this (a cut-off before the last leaves the last scored one's time).
  if (span && span.last <= until) state.lastEventAt = Math.max(state.lastEventAt, span.last);
  return { state, output };
}

/**
 * True when `events` are already in scoring order and none is after `until`, so the replay reads them as given:
 * loaders hand them over so, and copying and sorting every contact's events was a measurable part of a rescore.
 */
function inOrderUntil(events: readonly ScoringEvent[], until: number): boolean {
  let previous: ScoringEvent | undefined;
  for (const event of events) {
    if (event.at > until || (previous !== undefined && eventOrder(previous, event) > 0)) return false;
    previous = event;
  }
  return true;
}
