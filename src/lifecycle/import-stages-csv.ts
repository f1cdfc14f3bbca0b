import { readCsv, withSkipped } from '../csv/read-csv.js';
import { KermaError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';
import { applyStageUpdates, type StageUpdate } from './apply-stage-updates.js';
import { type StageUpdateInput, toStageUpdate } from './stage-update-input.js';
import { describeStages, parseStage, type Stage } from './stages.js';

/** Which column holds what; a contact column (id, email or CRM id) and a stage (column or fixed) are required. */
export interface StageColumnMapping {
  contactId?: string | undefined;
  email?: string | undefined;
  crmId?: string | undefined;
  stage?: string | undefined;
  /** Every row is this stage (e.g. a file of won deals). */
  fixedStage?: string | undefined;
  at?: string | undefined;
  value?: string | undefined;
  currency?: string | undefined;
  reason?: string | undefined;
  owner?: string | undefined;
  updateId?: string | undefined;
  /** CRM stage names → Kerma stages, e.g. "Closed Won" → won. */
  stageMap: Record<string, string>;
}

export interface ImportStagesResult {
  rows: number;
  applied: number;
  unchanged: number;
  /** Moves back after won or lost without reopen. */
  ignored: number;
  duplicates: number;
  created: number;
  rejected: Array<{ line: number; reason: string }>;
}

const CHUNK = 500;

/**
 * `kerma import stages`: a CSV of stage changes through the same path as `POST /api/crm/stages` (source `import`).
 * A bad row is reported with its line and the rest are applied; a re-run applies nothing twice (the update id is the
 * mapped column or a hash of the row).
 */
export async function importStagesCsv(
  storage: Storage,
  workspace: Workspace,
  file: string,
  mapping: StageColumnMapping,
  options: {
    stageNames: Record<Stage, string>;
    createMissing: boolean;
    fireTriggers: boolean;
    onProgress?: (bytes: number, total: number) => void;
  },
): Promise<ImportStagesResult> {
  if (!mapping.contactId && !mapping.email && !mapping.crmId)
    throw new KermaError('invalid_input', 'map a contact column: --contact-id, --email or --crm-id');
  if (!mapping.stage === !mapping.fixedStage)
    throw new KermaError('invalid_input', 'give either --stage COLUMN or --set-stage STAGE');
  if (mapping.fixedStage && !parseStage(mapping.fixedStage, options.stageNames)) {
    throw new KermaError(
      'invalid_input',
      `--set-stage: unknown stage "${mapping.fixedStage}"; expected one of ${describeStages(options.stageNames)}`,
    );
  }
  const stageMap = new Map<string, string>();
  for (const [from, to] of Object.entries(mapping.stageMap)) {
    if (!parseStage(to, options.stageNames)) {
      throw new KermaError(
        'invalid_input',
        `--stage-map ${from}=${to}: unknown stage "${to}"; expected one of ${describeStages(options.stageNames)}`,
      );
    }
    stageMap.set(from.trim().toLowerCase(), to);
  }
  const columns = [
    mapping.contactId,
    mapping.email,
    mapping.crmId,
    mapping.stage,
    mapping.at,
    mapping.value,
    mapping.currency,
    mapping.reason,
    mapping.owner,
    mapping.updateId,
  ].filter((c): c is string => !!c);
  const csv = readCsv(file, columns);
  const result: ImportStagesResult = {
    rows: 0,
    applied: 0,
    unchanged: 0,
    ignored: 0,
    duplicates: 0,
    created: 0,
    rejected: [],
  };
  let pending: Array<{ line: number; update: StageUpdate }> = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const outcomes = await applyStageUpdates(
      storage,
      workspace,
      pending.map((p) => p.update),
      { createMissing: options.createMissing, fireTriggers: options.fireTriggers },
    );
    outcomes.forEach((outcome, i) => {
      if (!outcome.ok) result.rejected.push({ line: pending[i]!.line, reason: outcome.message });
      else if (outcome.status === 'duplicate') result.duplicates++;
      else if (outcome.status === 'unchanged') result.unchanged++;
      else if (outcome.status === 'ignored') result.ignored++;
      else result.applied++;
      if (outcome.ok && outcome.created && outcome.status !== 'duplicate') result.created++;
    });
    pending = [];
  };
  const now = Date.now();
  const cell = (record: Record<string, string>, column: string | undefined) => {
    const value = column ? (record[column] ?? '').trim() : '';
    return value === '' ? undefined : value;
  };
  for await (const { record, line, bytes } of csv.rows) {
    result.rows++;
    const rawStage = mapping.fixedStage ?? cell(record, mapping.stage) ?? '';
    const rawValue = cell(record, mapping.value);
    const value = rawValue === undefined ? undefined : Number(rawValue);
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      result.rejected.push({ line, reason: `"${rawValue}" in column "${mapping.value}" is not an amount` });
      continue;
    }
    const input: StageUpdateInput = {
      updateId: cell(record, mapping.updateId),
      contactId: cell(record, mapping.contactId),
      email: cell(record, mapping.email),
      crmId: cell(record, mapping.crmId),
      stage: stageMap.get(rawStage.toLowerCase()) ?? rawStage,
      at: cell(record, mapping.at),
      value,
      currency: cell(record, mapping.currency),
      reason: cell(record, mapping.reason),
      owner: cell(record, mapping.owner),
    };
    if (input.currency !== undefined && !/^[A-Za-z]{3}$/.test(input.currency)) {
      result.rejected.push({ line, reason: `currency "${input.currency}" is not a 3-letter ISO 4217 code` });
      continue;
    }
    const checked = toStageUpdate(input, {
      stageNames: options.stageNames,
      currency: workspace.currency,
      source: 'import',
      now,
    });
    if (!checked.ok) {
      const contactColumns = [mapping.contactId, mapping.email, mapping.crmId].filter(Boolean);
      const reason =
        checked.field === 'contactId'
          ? `no value in column ${contactColumns.map((c) => `"${c}"`).join(' or ')}`
          : `column "${checked.field === 'stage' ? mapping.stage : mapping.at}": ${checked.message}`;
      result.rejected.push({ line, reason });
      continue;
    }
    pending.push({ line, update: checked.update });
    if (pending.length >= CHUNK) {
      await flush();
      options.onProgress?.(bytes, csv.total);
    }
  }
  await flush();
  options.onProgress?.(csv.total, csv.total);
  result.rejected.sort((a, b) => a.line - b.line);
  result.rejected = withSkipped(result.rejected, csv.skipped);
  return result;
}
