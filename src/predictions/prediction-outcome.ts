import { snakeCase } from '../identity/import-contacts-csv.js';
import { type Outcome, outcomeOf, type Parsed, parseOutcome } from '../models/backtest-options.js';
import type { StoredContactHistory } from '../models/read-contact-row.js';

/** What a predictive model learns to predict: a stage reached (won, sql, stage:NAME) or a yes/no column or trait. */
export type PredictionOutcome = Outcome | { kind: 'column'; column: string };

/** `won`, `sql`, `stage:NAME`, `column:NAME` (a CSV column, or the trait it was imported as) or `trait:NAME`. */
export function parsePredictionOutcome(text: string): Parsed<PredictionOutcome> {
  const column = /^column:(.+)$/.exec(text);
  if (column) return { ok: true, value: { kind: 'column', column: column[1]! } };
  const parsed = parseOutcome(text);
  if (parsed.ok) return parsed;
  return { ok: false, message: `unknown outcome "${text}"; expected won, sql, stage:NAME, column:NAME or trait:NAME` };
}

/** The trait a column outcome reads on a contact: the name itself, or the snake_case name `kerma import contacts` gave it. */
export function outcomeTrait(outcome: PredictionOutcome, traits: Record<string, unknown>): string | null {
  if (outcome.kind === 'trait') return outcome.trait;
  if (outcome.kind !== 'column') return null;
  return outcome.column in traits ? outcome.column : snakeCase(outcome.column);
}

/**
 * A contact's label and the moment it was decided (features are taken as of then): for a stage, when it was first
 * reached (yes) or when the contact was lost (no); for a trait, now. Null when the outcome is not known yet.
 * With `withinDays`, a stage outcome means "reached within N days of creation": reached later, or not reached N days
 * after creation, is a no decided at that deadline; a younger contact that has not reached it is still open.
 */
export function contactLabel(
  outcome: PredictionOutcome,
  contact: StoredContactHistory,
  now: number,
  withinDays: number | null = null,
): { label: boolean; at: number } | null {
  const trait = outcomeTrait(outcome, contact.traits);
  if (trait !== null) {
    const label = outcomeOf({ kind: 'trait', trait }, contact);
    return label === null ? null : { label, at: now };
  }
  const target =
    outcome.kind === 'won' ? 'won' : outcome.kind === 'sql' ? 'sql' : outcome.kind === 'stage' ? outcome.stage : '';
  if (withinDays !== null) {
    const deadline = contact.createdAt + withinDays * 86_400_000;
    const reached = contact.reached.get(target);
    if (reached !== undefined && reached <= deadline) return { label: true, at: reached };
    const lost = contact.reached.get('lost');
    if (reached === undefined && lost !== undefined && lost <= deadline) return { label: false, at: lost };
    return deadline <= now ? { label: false, at: deadline } : null;
  }
  const label = outcomeOf(outcome as Outcome, contact);
  if (label === null) return null;
  const at = label ? contact.reached.get(target) : contact.reached.get('lost');
  return { label, at: Math.min(at ?? now, now) };
}
