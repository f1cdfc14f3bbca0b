import type { LeadCategory, LeadStatus } from './scoring-model.js';

/** A decaying sum of one rule group at one half-life, as of `at`. */
export interface DecayBucket {
  group: string;
  halfLifeDays: number | null;
  value: number;
  at: number;
}

export interface RuleCount {
  ever: number;
  day: string;
  inDay: number;
  week: string;
  inWeek: number;
}

/**
 * A contact's running score under one model version: enough to add the next event in O(1) and to read the decayed
 * score at any later time. It is derived data: replaying the contact's traits and events rebuilds it exactly.
 */
export interface ScoreState {
  /** Fit rules the traits match now, with their points. */
  fit: Record<string, number>;
  buckets: DecayBucket[];
  counts: Record<string, RuleCount>;
  category: LeadCategory | null;
  /** Time of the newest event applied; an older event forces a replay. */
  lastEventAt: number;
  /** Per trigger: whether its next crossing fires. */
  armed: Record<string, boolean>;
  grade: string | null;
  status: LeadStatus | null;
}

export function emptyScoreState(): ScoreState {
  return { fit: {}, buckets: [], counts: {}, category: null, lastEventAt: 0, armed: {}, grade: null, status: null };
}
