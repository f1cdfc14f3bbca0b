import type { Kysely } from 'kysely';
import { snakeCase } from '../identity/import-contacts-csv.js';
import { type BehaviourEvent, learnVocabulary } from '../predictive/behaviour-features.js';
import { contactRawRow } from '../predictive/contact-raw-row.js';
import type { ModelKind } from '../predictive/predictive-model.js';
import type { RawRow } from '../predictive/raw-row.js';
import { DEFAULT_TRAINING, type TrainingResult, trainPredictiveModel } from '../predictive/train-predictive-model.js';
import type { Database } from '../storage/database-schema.js';
import { contactIdPages, type LoadedPredictionContact, loadPredictionContacts } from './load-prediction-contacts.js';
import { contactLabel, outcomeTrait, type PredictionOutcome } from './prediction-outcome.js';

export interface TrainFromContactsRequest {
  workspaceId: string;
  outcome: PredictionOutcome;
  outcomeText: string;
  kind: ModelKind;
  exclude: string[];
  /** Stage outcomes: reached within this many days of creation (see contactLabel); null: ever. */
  withinDays?: number | null;
  seed?: number;
  minRows?: number;
  minPositives?: number;
  now?: number;
  onProgress?: (step: string, done: number, total: number) => void;
}

/**
 * Trains on the workspace's contacts whose outcome is known: each contact's traits, first touch, rule fit and
 * behaviour as of the moment its outcome was decided. Contacts still open are left out.
 */
export async function trainFromContacts(
  db: Kysely<Database>,
  request: TrainFromContactsRequest,
): Promise<TrainingResult & { open?: number }> {
  const now = request.now ?? Date.now();
  const progress = request.onProgress ?? (() => {});
  const { n } = await db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', request.workspaceId)
    .executeTakeFirstOrThrow();
  const total = Number(n);
  const labelled: Array<{ contact: LoadedPredictionContact; label: boolean; at: number }> = [];
  let done = 0;
  let open = 0;
  for await (const ids of contactIdPages(db, request.workspaceId)) {
    for (const contact of await loadPredictionContacts(db, request.workspaceId, ids, { stages: true })) {
      const decided = contactLabel(request.outcome, contact.history, now, request.withinDays ?? null);
      if (decided) labelled.push({ contact, ...decided });
      else open++;
    }
    done += ids.length;
    progress('reading contacts', done, total);
  }
  const vocabulary = learnVocabulary(labelled.map((l) => l.contact.events.filter((e: BehaviourEvent) => e.at <= l.at)));
  // A column name excludes the trait `kerma import contacts` made of it too (`Lead Quality` → `lead_quality`).
  const excluded = new Set(request.exclude.flatMap((c) => [c, snakeCase(c)]));
  const rows: RawRow[] = labelled.map(({ contact, at }) => {
    const trait = outcomeTrait(request.outcome, contact.traits);
    const contactExcluded = trait ? new Set([...excluded, trait]) : excluded;
    return contactRawRow(contact, at, vocabulary, contactExcluded);
  });
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => !excluded.has(c)).sort();
  const created = labelled.map((l) => l.contact.createdAt);
  const result = trainPredictiveModel(
    rows,
    labelled.map((l) => l.label),
    columns,
    {
      kind: request.kind,
      outcome: request.outcomeText,
      seed: request.seed ?? DEFAULT_TRAINING.seed,
      validationShare: DEFAULT_TRAINING.validationShare,
      minRows: request.minRows ?? DEFAULT_TRAINING.minRows,
      minPositives: request.minPositives ?? DEFAULT_TRAINING.minPositives,
      behaviour: vocabulary,
      dateRange: created.length
        ? {
            from: new Date(created.reduce((a, b) => Math.min(a, b))).toISOString().slice(0, 10),
            to: new Date(created.reduce((a, b) => Math.max(a, b))).toISOString().slice(0, 10),
          }
        : null,
      onProgress: request.onProgress,
    },
  );
  if (!result.ok)
    return { ok: false, message: `${result.message} (${open} contacts whose outcome is not known yet were left out)` };
  return { ...result, open };
}
