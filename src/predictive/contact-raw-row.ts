import { type BehaviourEvent, type BehaviourVocabulary, behaviourFeatures } from './behaviour-features.js';
import type { RawRow, RawValue } from './raw-row.js';

/** What a contact contributes to its feature row. */
export interface PredictionContact {
  traits: Record<string, unknown>;
  createdAt: number;
  firstChannel: string | null;
  firstSource: string | null;
  firstCampaign: string | null;
  /** The active scoring model's fit points. */
  fit: number;
  events: BehaviourEvent[];
}

/** Traits that identify a person (not predictive, and personal data) or that sales set after the fact (leaky). */
const EXCLUDED_TRAIT =
  /^(email|e_mail|phone|mobile|name|first_?name|last_?name|full_?name|user_?id|id|sales_rejection.*)$/i;

/**
 * A contact as one feature row as of a moment: its traits (nested objects flattened with dots; identifying and
 * sales-entered traits left out), its first touch (`touch.channel`, `touch.source`, `touch.campaign`), the rule fit
 * score (`rules.fit`) and its behaviour (see behaviourFeatures) when the model uses behaviour.
 * @example contactRawRow(contact, Date.now(), vocabulary)['touch.channel'] // 'Paid Search'
 */
export function contactRawRow(
  contact: PredictionContact,
  asOf: number,
  vocabulary: BehaviourVocabulary | null,
  excludedTraits: ReadonlySet<string> = new Set(),
): RawRow {
  const row: RawRow = {};
  flatten(contact.traits, '', row, excludedTraits);
  row['touch.channel'] = contact.firstChannel;
  row['touch.source'] = contact.firstSource;
  row['touch.campaign'] = contact.firstCampaign;
  row['rules.fit'] = contact.fit;
  if (vocabulary) Object.assign(row, behaviourFeatures(contact.events, contact.createdAt, asOf, vocabulary));
  return row;
}

function flatten(value: Record<string, unknown>, prefix: string, row: RawRow, excluded: ReadonlySet<string>): void {
  for (const [key, v] of Object.entries(value)) {
    const name = `${prefix}${key}`;
    if (excluded.has(name) || (prefix === '' && EXCLUDED_TRAIT.test(key))) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      if (prefix.split('.').length < 3) flatten(v as Record<string, unknown>, `${name}.`, row, excluded);
    } else if (Array.isArray(v)) {
    } else row[name] = v as RawValue;
  }
}
