import { KermaError } from '../errors.js';
import { applyStageUpdates, type StageUpdate } from '../lifecycle/apply-stage-updates.js';
import { decideLead } from '../lifecycle/decide-lead.js';
import type { RejectionReason } from '../lifecycle/rejection-reasons.js';
import { seededRandom as seeded } from '../seeded-random.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';

const DAY = 86_400_000;
const OWNERS = ['ana@demo.kerma.dev', 'ben@demo.kerma.dev', 'chloe@demo.kerma.dev'];
const REASONS: RejectionReason[] = ['no_budget', 'not_in_icp', 'no_authority', 'competitor'];

export interface DemoPipeline {
  accepted: number;
  rejected: number;
  meetings: number;
  won: number;
  lost: number;
}

/**
 * What sales did with the demo's MQLs, as a CRM would report it: most are accepted (SQL) a day or two after they
 * qualified, some rejected with a reason, meetings follow, then deals are won (with a value) or lost. Deterministic
 * for a seed; nothing is dated after `now`, so recent MQLs are still open. A second run applies nothing twice.
 */
export async function seedDemoPipeline(
  storage: Storage,
  workspace: Workspace,
  options: { now: number; seed?: number },
): Promise<DemoPipeline> {
  const random = seeded(options.seed ?? 7);
  const mqls = await storage.db
    .selectFrom('stage_changes')
    .select(['contact_id', (eb) => eb.fn.min('at').as('at')])
    .where('workspace_id', '=', workspace.id)
    .where('to_stage', '=', 'mql')
    .groupBy('contact_id')
    .orderBy('contact_id')
    .execute();
  const result: DemoPipeline = { accepted: 0, rejected: 0, meetings: 0, won: 0, lost: 0 };
  const updates: StageUpdate[] = [];
  const update = (contactId: string, stage: StageUpdate['stage'], at: number, extra: Partial<StageUpdate> = {}) =>
    updates.push({
      updateId: `demo-${contactId}-${stage}`,
      contact: { contactId },
      stage,
      at,
      value: null,
      currency: null,
      reason: null,
      owner: null,
      reopen: false,
      source: 'crm',
      ...extra,
    });
  for (const mql of mqls) {
    const owner = OWNERS[Math.floor(random() * OWNERS.length)]!;
    const roll = random();
    // Whole milliseconds: times are bigint columns, which PostgreSQL will not fill with a fraction.
    const decidedAt = Math.round(Number(mql.at) + (0.1 + random() * 1.4) * DAY);
    if (decidedAt > options.now) continue;
    if (roll < 0.15) {
      try {
        await decideLead(storage, workspace, mql.contact_id, {
          kind: 'reject',
          reason: REASONS[Math.floor(random() * REASONS.length)]!,
          owner,
          note: null,
          at: decidedAt,
        });
        result.rejected++;
      } catch (error) {
        // A second demo run: the contact was already decided.
        if (!(error instanceof KermaError && error.code === 'conflict')) throw error;
      }
      continue;
    }
    if (roll > 0.75) continue;
    update(mql.contact_id, 'sql', decidedAt, { owner, reason: 'accepted by sales' });
    result.accepted++;
    const meetingAt = Math.round(decidedAt + (1 + random() * 3) * DAY);
    if (meetingAt > options.now || random() > 0.7) continue;
    update(mql.contact_id, 'meeting', meetingAt);
    result.meetings++;
    const closedAt = Math.round(meetingAt + (3 + random() * 11) * DAY);
    const outcome = random();
    if (closedAt > options.now || outcome > 0.8) continue;
    if (outcome < 0.45) {
      const value = Math.round((6 + random() * 54) * 1000);
      update(mql.contact_id, 'won', closedAt, { value, currency: workspace.currency, reason: 'contract signed' });
      result.won++;
    } else {
      update(mql.contact_id, 'lost', closedAt, { reason: random() < 0.5 ? 'chose a competitor' : 'no decision' });
      result.lost++;
    }
  }
  await applyStageUpdates(storage, workspace, updates, { createMissing: false, fireTriggers: false, now: options.now });
  return result;
}
