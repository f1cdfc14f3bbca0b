import { z } from 'zod';
import type { StageUpdate } from './apply-stage-updates.js';
import { parseInstant } from './parse-instant.js';
import { describeStages, parseStage, type Stage, type StageSource } from './stages.js';

/** One stage update as a CRM sends it (`POST /api/crm/stages`) or a CSV row maps to it. */
export const stageUpdateInput = z
  .object({
    updateId: z.string().min(1).max(200).optional(),
    contactId: z.string().min(1).max(200).optional(),
    email: z.string().min(3).max(320).optional(),
    crmId: z.string().min(1).max(200).optional(),
    stage: z.string().min(1).max(60),
    at: z.string().min(1).max(40).optional(),
    value: z.number().finite().min(0).optional(),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'a 3-letter ISO 4217 code such as EUR')
      .optional(),
    reason: z.string().max(1000).optional(),
    owner: z.string().max(320).optional(),
    reopen: z.boolean().optional(),
  })
  .strict();
export type StageUpdateInput = z.infer<typeof stageUpdateInput>;

/** A day of clock difference between a CRM and Kerma is tolerated; later than that is a wrong date. */
const FUTURE_MS = 24 * 3600_000;

/**
 * Checks what zod cannot: a contact key, a known stage (key or display name), a real date not in the future.
 * A value without a currency is in the workspace currency.
 */
export function toStageUpdate(
  input: StageUpdateInput,
  context: { stageNames: Record<Stage, string>; currency: string; source: StageSource; now: number },
): { ok: true; update: StageUpdate } | { ok: false; field: string; message: string } {
  if (!input.contactId && !input.email && !input.crmId)
    return { ok: false, field: 'contactId', message: 'name the contact with contactId, email or crmId' };
  const stage = parseStage(input.stage, context.stageNames);
  if (!stage) {
    return {
      ok: false,
      field: 'stage',
      message: `unknown stage "${input.stage}"; expected one of ${describeStages(context.stageNames)}`,
    };
  }
  const at = input.at === undefined ? context.now : parseInstant(input.at);
  if (at === null)
    return { ok: false, field: 'at', message: `"${input.at}" is not a date; use ISO 8601, e.g. 2024-03-01T10:00:00Z` };
  if (at > context.now + FUTURE_MS) return { ok: false, field: 'at', message: `${input.at} is in the future` };
  return {
    ok: true,
    update: {
      updateId: input.updateId ?? null,
      contact: { contactId: input.contactId, email: input.email, crmId: input.crmId },
      stage,
      at,
      value: input.value ?? null,
      currency:
        input.value === undefined
          ? (input.currency?.toUpperCase() ?? null)
          : (input.currency?.toUpperCase() ?? context.currency),
      reason: input.reason ?? null,
      owner: input.owner ?? null,
      reopen: input.reopen ?? false,
      source: context.source,
    },
  };
}
