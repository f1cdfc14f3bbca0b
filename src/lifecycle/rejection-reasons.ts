/** Why sales rejected an MQL; `other` takes a free-text note. */
export const REJECTION_REASONS = [
  'not_in_icp',
  'no_budget',
  'no_authority',
  'duplicate',
  'bad_data',
  'competitor',
  'other',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export function isRejectionReason(value: string): value is RejectionReason {
  return (REJECTION_REASONS as readonly string[]).includes(value);
}
