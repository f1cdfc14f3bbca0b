/** What scoring needs of a stored event. */
export interface ScoringEvent {
  id: string;
  type: string;
  /** Track event name, or page name. */
  name: string | null;
  path: string | null;
  url: string | null;
  properties: Record<string, unknown>;
  /** Epoch milliseconds (clock-skew corrected). */
  at: number;
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
