import { applyEvent, applyTraits, emptyOutput, type ScoringClock, type ScoringOutput } from './score-contact.js';
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
): { state: ScoreState; output: ScoringOutput } {
  const state = emptyScoreState();
  const output = emptyOutput();
  const events = (
    until === Number.POSITIVE_INFINITY ? history.events.slice() : history.events.filter((e) => e.at <= until)
  )
    // Loaders hand them over in this order already, which makes the sort one pass.
    .sort(eventOrder);
  const span = history.span;
  const first = span === undefined ? events[0]?.at : span !== null && span.first <= until ? span.first : undefined;
  applyTraits(model, state, history.traits, Math.min(history.createdAt, first ?? history.createdAt), output);
  for (const event of events) applyEvent(model, state, event, clock, output);
  // Events no rule can match change nothing but this (a cut-off before the last leaves the last scored one's time).
  if (span && span.last <= until) state.lastEventAt = Math.max(state.lastEventAt, span.last);
  return { state, output };
}
