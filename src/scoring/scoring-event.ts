/** What scoring needs of a stored event. */
export interface ScoringEvent {
  /**
   * The event's messageId; null where it was not read (a full rescore's pages, whose explanations find their events
   * again by rule and time: `assignChangeEvents`).
   */
  id: string | null;
  type: string;
  /** Track event name, or page name. */
  name: string | null;
  path: string | null;
  url: string | null;
  properties: Record<string, unknown>;
  /** Epoch milliseconds (clock-skew corrected). */
  at: number;
  /**
   * Whether the event meets each of the replayed model's engagement rules, in the model's order, where the reader
   * worked that out with `matchEvent` once for all of a contact's events of one type, name and path (a rescore's
   * events from a digest: `HistoryOptions.engagement`); the rules are tested per event where it is left out.
   */
  matches?: readonly boolean[];
}

/** One recorded contribution: why a contact's score moved. The rows of a contact replay to its score at any time. */
export interface ScoreChange {
  ruleId: string;
  kind: 'fit' | 'engagement';
  group: string;
  points: number;
  /** Null: never decays. */
  halfLifeDays: number | null;
  eventId: string | null;
  at: number;
}

/**
 * The order events are scored in: by time, then by id; events without an id keep their given order among those of
 * the same time (a stable sort; loaders give them in storage order).
 * @example events.sort(eventOrder)
 */
export function eventOrder(a: ScoringEvent, b: ScoringEvent): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.id === null || b.id === null || a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}
