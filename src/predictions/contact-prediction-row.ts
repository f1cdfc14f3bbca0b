import { snakeCase } from '../identity/import-contacts-csv.js';
import { contactRawRow, type PredictionContact } from '../predictive/contact-raw-row.js';
import type { PredictiveModel } from '../predictive/predictive-model.js';
import type { RawRow, RawValue } from '../predictive/raw-row.js';

/**
 * A contact's feature row for a model, as of now. A model trained on contacts reads traits, touch, rule fit and
 * behaviour; a model trained on a CSV reads each of its columns from the trait of that name, or of its snake_case name
 * (what `kerma import contacts` made of the column); a column the contact has neither of is scored as missing.
 */
export function contactPredictionRow(model: PredictiveModel, contact: PredictionContact, now: number): RawRow {
  const row = contactRawRow(contact, now, model.behaviour);
  if (model.behaviour) return row;
  const mapped: RawRow = {};
  for (const { name } of model.spec.columns) {
    if (name in row) mapped[name] = row[name];
    else if (snakeCase(name) in row) mapped[name] = row[snakeCase(name)] as RawValue;
  }
  return mapped;
}
