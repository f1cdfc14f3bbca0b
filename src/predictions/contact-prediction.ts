import type { Kysely } from 'kysely';
import { scoredContacts } from '../contacts/scored-contacts.js';
import { KermaError } from '../errors.js';
import { type Disagreements, findDisagreements } from '../predictive/find-disagreements.js';
import { type Factor, predict, topFactors } from '../predictive/predictive-model.js';
import type { Database } from '../storage/database-schema.js';
import { contactPredictionRow } from './contact-prediction-row.js';
import { loadPredictionContacts } from './load-prediction-contacts.js';
import { loadPredictiveModel } from './predictive-model-store.js';

export interface ContactPrediction {
  contactId: string;
  modelVersion: number;
  kind: string;
  outcome: string;
  probability: number;
  /** Calibrated log-odds of an average lead; plus every factor's contribution gives the lead's log-odds. */
  base: number;
  logit: number;
  positive: Factor[];
  negative: Factor[];
  /** Model columns this contact has no value for (scored as missing). */
  missing: string[];
  /** Numeric columns whose value was not a number (scored as missing). */
  invalid: string[];
  /** The probability stored on the contact by the last scoring pass, and when. */
  stored: { probability: number | null; at: number | null };
}

const NO_MODEL = 'no predictive model is active in this workspace; train one with `kerma train --outcome won`';

/** The active model's prediction for one contact now, with its top factors each way. */
export async function contactPrediction(
  db: Kysely<Database>,
  workspaceId: string,
  contactId: string,
  factors = 5,
): Promise<ContactPrediction> {
  const active = await loadPredictiveModel(db, workspaceId, 'active');
  if (!active) throw new KermaError('not_found', NO_MODEL);
  const [contact] = await loadPredictionContacts(db, workspaceId, [contactId]);
  if (!contact) throw new KermaError('not_found', `no contact with id "${contactId}" in this workspace`);
  const prediction = predict(active.model, contactPredictionRow(active.model, contact, Date.now()));
  const top = topFactors(prediction, factors);
  return {
    contactId,
    modelVersion: active.version,
    kind: active.model.kind,
    outcome: active.model.outcome,
    probability: prediction.probability,
    base: prediction.base,
    logit: prediction.logit,
    positive: top.positive,
    negative: top.negative,
    missing: prediction.absent,
    invalid: prediction.invalid,
    stored: contact.stored,
  };
}

/** Leads the rules and the active model rank very differently (contacts that have both a score and a probability). */
export async function predictionDisagreements(
  db: Kysely<Database>,
  workspaceId: string,
  limit: number,
): Promise<Disagreements & { modelVersion: number }> {
  const active = await loadPredictiveModel(db, workspaceId, 'active');
  if (!active) throw new KermaError('not_found', NO_MODEL);
  const rows = await scoredContacts(db)
    .select(['id', 'email', 'score', 'probability'])
    .where('contacts.workspace_id', '=', workspaceId)
    .where('prediction_model', '=', active.version)
    .where('probability', 'is not', null)
    .execute();
  const leads = rows.map((r) => ({
    id: r.id,
    email: r.email,
    score: Number(r.score),
    probability: Number(r.probability),
  }));
  return { modelVersion: active.version, ...findDisagreements(leads, limit) };
}
