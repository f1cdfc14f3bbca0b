export type Outcome =
  | { kind: 'won' }
  | { kind: 'sql' }
  | { kind: 'stage'; stage: string }
  | { kind: 'trait'; trait: string };

export type CutPoint = { kind: 'days'; days: number } | { kind: 'now' } | { kind: 'mql' };

const STAGE_LADDER = ['lead', 'mql', 'sql', 'meeting', 'won'];
const CLOSED_NEGATIVE = new Set(['lost', 'unqualified', 'disqualified']);

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** `won`, `sql`, `stage:NAME`, `trait:NAME` (a trait that says yes or no, e.g. an imported `converted` column). */
export function parseOutcome(text: string): Parsed<Outcome> {
  if (text === 'won' || text === 'sql') return { ok: true, value: { kind: text } };
  const match = /^(stage|trait):(.+)$/.exec(text);
  if (match?.[1] === 'stage') return { ok: true, value: { kind: 'stage', stage: match[2]!.toLowerCase() } };
  if (match?.[1] === 'trait') return { ok: true, value: { kind: 'trait', trait: match[2]! } };
  return { ok: false, message: `unknown outcome "${text}"; expected won, sql, stage:NAME or trait:NAME` };
}

/** `days:N` (the score N days after the contact was created), `mql` (the score when it became an MQL) or `now`. */
export function parseCutPoint(text: string): Parsed<CutPoint> {
  if (text === 'now') return { ok: true, value: { kind: 'now' } };
  if (text === 'mql') return { ok: true, value: { kind: 'mql' } };
  const match = /^days:(\d+)$/.exec(text);
  if (match) return { ok: true, value: { kind: 'days', days: Number(match[1]) } };
  return { ok: false, message: `unknown cut point "${text}"; expected days:N, mql or now` };
}

const YES = new Set(['1', 'true', 'yes', 'y', 'won', 'converted']);
const NO = new Set(['0', 'false', 'no', 'n', 'lost']);

/**
 * Whether a contact's outcome happened (true), did not (false) or is not known yet (null).
 * Stage outcomes read the contact's current stage: a contact past the stage counts as having reached it.
 */
export function outcomeOf(
  outcome: Outcome,
  contact: { stage: string; traits: Record<string, unknown> },
): boolean | null {
  if (outcome.kind === 'trait') {
    const raw = contact.traits[outcome.trait];
    if (raw === undefined || raw === null || raw === '') return null;
    const value = String(raw).trim().toLowerCase();
    return YES.has(value) ? true : NO.has(value) ? false : null;
  }
  const stage = contact.stage.toLowerCase();
  if (outcome.kind === 'won') return stage === 'won' ? true : stage === 'lost' ? false : null;
  const target = outcome.kind === 'sql' ? 'sql' : outcome.stage;
  const targetRank = STAGE_LADDER.indexOf(target);
  const rank = STAGE_LADDER.indexOf(stage);
  if (stage === target || (targetRank >= 0 && rank >= targetRank)) return true;
  return CLOSED_NEGATIVE.has(stage) ? false : null;
}
