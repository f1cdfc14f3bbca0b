/** Lifecycle stages: the funnel in order, then `lost` beside `won` as the other way a deal ends. */
export const STAGES = ['contact', 'mql', 'sql', 'meeting', 'won', 'lost'] as const;
export type Stage = (typeof STAGES)[number];

/** The forward path; reaching a later one counts every earlier one as reached. */
export const FUNNEL_STAGES: readonly Stage[] = ['contact', 'mql', 'sql', 'meeting', 'won'];

/** Won and lost end a deal: only an explicit reopen leaves them. */
export const TERMINAL_STAGES: readonly Stage[] = ['won', 'lost'];

/** Stages a score may still promote to MQL; a contact that sales already took further is never moved back. */
export const PRE_MQL_STAGES: readonly string[] = ['contact'];

/** Where a stage change came from. */
export const STAGE_SOURCES = ['score', 'crm', 'user', 'import'] as const;
export type StageSource = (typeof STAGE_SOURCES)[number];

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

/** Position on the funnel; `lost` has none (it implies no stage before it). */
export function funnelIndex(stage: string): number {
  return (FUNNEL_STAGES as readonly string[]).indexOf(stage);
}

export const DEFAULT_STAGE_NAMES: Record<Stage, string> = {
  contact: 'Contact',
  mql: 'MQL',
  sql: 'SQL',
  meeting: 'Meeting',
  won: 'Won',
  lost: 'Lost',
};

/** A stage from its key or its display name, any case: `SQL`, `sql`, `Sales accepted`. */
export function parseStage(input: string, names: Record<Stage, string>): Stage | null {
  const wanted = input.trim().toLowerCase();
  for (const stage of STAGES) {
    if (stage === wanted || names[stage].toLowerCase() === wanted) return stage;
  }
  return null;
}

/** The accepted stage names, for an error message. */
export function describeStages(names: Record<Stage, string>): string {
  return STAGES.map((s) => (names[s].toLowerCase() === s ? s : `${s} ("${names[s]}")`)).join(', ');
}
