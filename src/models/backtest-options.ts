import { isStage } from '../lifecycle/stages.js';

export type Outcome =
  | { kind: 'won' }
  | { kind: 'sql' }
  | { kind: 'stage'; stage: string }
  | { kind: 'trait'; trait: string };

export type CutPoint = { kind: 'days'; days: number } | { kind: 'now' } | { kind: 'mql' };

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** `won`, `sql`, `stage:NAME`, `trait:NAME` (a trait that says yes or no, e.g. an imported `converted` column). */
export function parseOutcome(text: string): Parsed<Outcome> {
  if (text === 'won' || text === 'sql') return { ok: true, value: { kind: text } };
  const match = /^(stage|trait):(.+)$/.exec(text);
  if (match?.[1] === 'stage') {
    const stage = match[2]!.toLowerCase();
    if (!isStage(stage) || stage === 'contact' || stage === 'lost')
      return { ok: false, message: `unknown outcome stage "${match[2]}"; expected one of mql, sql, meeting, won` };
    return { ok: true, value: { kind: 'stage', stage } };
  }
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

/** A cell that says whether an outcome happened: 1/0, true/false, yes/no (y/n, won/lost), any case; null otherwise. */
export function yesNo(raw: unknown): boolean | null {
  if (raw === undefined || raw === null) return null;
  const value = String(raw).trim().toLowerCase();
  return YES.has(value) ? true : NO.has(value) ? false : null;
}

/**
 * Whether a contact's outcome happened (true), did not (false) or is not known yet (null), from its stage history:
 * a stage is reached when the history has it (skipped stages count); a contact that is lost, or that sales rejected,
 * without reaching it is a no; others are still open.
 */
export function outcomeOf(
  outcome: Outcome,
  contact: { stage: string; traits: Record<string, unknown>; reached: Map<string, number>; rejected: boolean },
): boolean | null {
  if (outcome.kind === 'trait') {
    return yesNo(contact.traits[outcome.trait]);
  }
  const target = outcome.kind === 'won' ? 'won' : outcome.kind === 'sql' ? 'sql' : outcome.stage;
  if (contact.reached.has(target)) return true;
  if (contact.stage === 'lost') return false;
  if (contact.rejected) return false;
  return null;
}
