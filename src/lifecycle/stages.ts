/** Lifecycle stages in funnel order; `lost` sits beside `won` as the other way a deal ends. */
export const STAGES = ['contact', 'lead', 'mql', 'sql', 'meeting', 'won', 'lost'] as const;
export type Stage = (typeof STAGES)[number];

/** Stages a score may still promote to MQL; a contact that sales already took further is never moved back. */
export const PRE_MQL_STAGES: readonly string[] = ['contact', 'lead'];
