import type { Kysely } from 'kysely';
import { predict } from '../predictive/predictive-model.js';
import type { Database } from '../storage/database-schema.js';
import { contactPredictionRow } from './contact-prediction-row.js';
import { contactIdPages, loadPredictionContacts } from './load-prediction-contacts.js';
import { loadPredictiveModel } from './predictive-model-store.js';

const DAY_MS = 86_400_000;
const PAGE = 500;

export interface ScorePredictionsResult {
  version: number | null;
  scored: number;
}

/**
 * Writes the active predictive model's probability onto contacts. `all`: every contact (after training, or on
 * demand). Otherwise only those whose data moved since their last prediction (updated after it, or a scoring model
 * switched on after it), that another model version scored, or that were scored over a day ago (recency features age): the debounced pass `kerma serve` runs.
 * The pass's start time is the stamp, so a contact updated while it runs is picked up by the next one.
 */
export async function scorePredictions(
  db: Kysely<Database>,
  workspaceId: string,
  options: { all?: boolean; now?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ScorePredictionsResult> {
  const active = await loadPredictiveModel(db, workspaceId, 'active');
  if (!active) return { version: null, scored: 0 };
  const now = options.now ?? Date.now();
  const { version, model } = active;
  const stale = db
    .selectFrom('contacts')
    .where('workspace_id', '=', workspaceId)
    .where((eb) =>
      eb.or([
        eb('predicted_at', 'is', null),
        eb('prediction_model', 'is', null),
        eb('prediction_model', '!=', version),
        eb('updated_at', '>=', eb.ref('predicted_at')),
        // A scoring model switched on since: its fit, a feature, may be another (`current_scores`).
        eb.exists(
          eb
            .selectFrom('scoring_models as m')
            .select('m.version')
            .where('m.workspace_id', '=', workspaceId)
            .where('m.activated_at', '>=', eb.ref('contacts.predicted_at')),
        ),
        eb('predicted_at', '<', now - DAY_MS),
      ]),
    );
  // The total is only for a progress bar: the periodic pass, which has none, does not count.
  const total = options.onProgress
    ? Number(
        (
          await (options.all ? db.selectFrom('contacts').where('workspace_id', '=', workspaceId) : stale)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )
    : 0;
  let scored = 0;
  const pages = options.all ? contactIdPages(db, workspaceId, PAGE) : stalePages();
  async function* stalePages(): AsyncGenerator<string[]> {
    let after = '';
    for (;;) {
      const rows = await stale.select('id').where('id', '>', after).orderBy('id').limit(PAGE).execute();
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
      yield rows.map((r) => r.id);
    }
  }
  for await (const ids of pages) {
    const contacts = await loadPredictionContacts(db, workspaceId, ids);
    const updates = contacts.map((c) => ({
      id: c.id,
      p: predict(model, contactPredictionRow(model, c, now)).probability,
    }));
    await db.transaction().execute(async (trx) => {
      for (const u of updates) {
        await trx
          .updateTable('contacts')
          .set({ probability: u.p, predicted_at: now, prediction_model: version })
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', u.id)
          .execute();
      }
    });
    scored += updates.length;
    options.onProgress?.(scored, Math.max(total, scored));
  }
  return { version, scored };
}
