import { applyEvent, applyTraits, emptyOutput, type ScoringClock, type ScoringOutput } from './score-contact.js';
import { emptyScoreState, type ScoreState } from './score-state.js';
import type { ScoringEvent } from './scoring-event.js';
import type { ScoringModel } from './scoring-model.js';

export interface ContactHistory {
  traits: Record<string, unknown>;
  createdAt: number;
  /** In any order; replay sorts by time, then id. */
  events: ScoringEvent[];
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
  const events = history.events
    .filter((e) => e.at <= until)
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  applyTraits(model, state, history.traits, Math.min(history.createdAt, events[0]?.at ?? history.createdAt), output);
  for (const event of events) applyEvent(model, state, event, clock, output);
  return { state, output };
}
