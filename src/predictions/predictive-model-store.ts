import type { Kysely } from 'kysely';
import { KermaError } from '../errors.js';
import type { ModelCard, PredictiveModel } from '../predictive/predictive-model.js';
import type { Database } from '../storage/database-schema.js';

export interface StoredPredictiveModel {
  version: number;
  kind: string;
  outcome: string;
  source: string;
  active: boolean;
  createdAt: number;
  activatedAt: number | null;
  card: ModelCard;
}

/** Stores a trained model as the workspace's next version; with `activate`, it becomes the active one in the same commit. */
export async function savePredictiveModel(
  db: Kysely<Database>,
  workspaceId: string,
  model: PredictiveModel,
  options: { source: string; activate: boolean; now?: number },
): Promise<number> {
  const now = options.now ?? Date.now();
  return db.transaction().execute(async (trx) => {
    const last = await trx
      .selectFrom('predictive_models')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    const version = Number(last?.v ?? 0) + 1;
    if (options.activate)
      await trx.updateTable('predictive_models').set({ active: 0 }).where('workspace_id', '=', workspaceId).execute();
    await trx
      .insertInto('predictive_models')
      .values({
        workspace_id: workspaceId,
        version,
        kind: model.kind,
        outcome: model.outcome,
        source: options.source,
        model: JSON.stringify(model),
        card: JSON.stringify(model.card),
        active: options.activate ? 1 : 0,
        created_at: now,
        activated_at: options.activate ? now : null,
      })
      .execute();
    return version;
  });
}

/** Makes a stored version the active one (the next scoring pass rescores every contact with it). */
export async function activatePredictiveModel(
  db: Kysely<Database>,
  workspaceId: string,
  version: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const found = await trx
      .selectFrom('predictive_models')
      .select('version')
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!found) throw new KermaError('not_found', `no predictive model ${version} in this workspace`);
    await trx.updateTable('predictive_models').set({ active: 0 }).where('workspace_id', '=', workspaceId).execute();
    await trx
      .updateTable('predictive_models')
      .set({ active: 1, activated_at: Date.now() })
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', version)
      .execute();
  });
}

export async function listPredictiveModels(
  db: Kysely<Database>,
  workspaceId: string,
): Promise<StoredPredictiveModel[]> {
  const rows = await db
    .selectFrom('predictive_models')
    .select(['version', 'kind', 'outcome', 'source', 'active', 'created_at', 'activated_at', 'card'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((r) => ({
    version: r.version,
    kind: r.kind,
    outcome: r.outcome,
    source: r.source,
    active: r.active === 1,
    createdAt: Number(r.created_at),
    activatedAt: r.activated_at === null ? null : Number(r.activated_at),
    card: JSON.parse(r.card) as ModelCard,
  }));
}

/** A stored version for a list: what it is and how good it was, without its whole card. */
export function predictiveModelSummary({ card, ...model }: StoredPredictiveModel) {
  return {
    ...model,
    rows: card.rows,
    positives: card.positives,
    validation: { auc: card.validation.auc, logLoss: card.validation.logLoss },
  };
}

const parsed = new Map<string, PredictiveModel>();

/** One stored version (`active` for the active one), parsed; null when there is none. Parsing is cached per version. */
export async function loadPredictiveModel(
  db: Kysely<Database>,
  workspaceId: string,
  version: number | 'active',
): Promise<{ version: number; model: PredictiveModel } | null> {
  let query = db.selectFrom('predictive_models').select('version').where('workspace_id', '=', workspaceId);
  query = version === 'active' ? query.where('active', '=', 1) : query.where('version', '=', version);
  const row = await query.executeTakeFirst();
  if (!row) return null;
  const key = `${workspaceId}/${row.version}`;
  const cached = parsed.get(key);
  if (cached) return { version: row.version, model: cached };
  const { model } = await db
    .selectFrom('predictive_models')
    .select('model')
    .where('workspace_id', '=', workspaceId)
    .where('version', '=', row.version)
    .executeTakeFirstOrThrow();
  const value = JSON.parse(model) as PredictiveModel;
  if (parsed.size > 50) parsed.clear();
  parsed.set(key, value);
  return { version: row.version, model: value };
}
