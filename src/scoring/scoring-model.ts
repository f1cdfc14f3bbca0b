import type { RejectionReason } from '../lifecycle/rejection-reasons.js';
import type { Stage } from '../lifecycle/stages.js';
/** A compiled scoring model: what the YAML model file means, with regexes compiled and defaults filled in. */

export type TraitTest =
  | { op: 'equals'; value: unknown }
  | { op: 'in'; values: unknown[] }
  | { op: 'matches'; regex: RegExp }
  | { op: 'between'; min: number; max: number }
  | { op: 'exists' }
  | { op: 'missing' }
  | { op: 'domainIn'; domains: Set<string> };

export type TextTest =
  | { op: 'prefix'; value: string }
  | { op: 'equals'; value: string }
  | { op: 'matches'; regex: RegExp };

export type TraitCondition =
  | { kind: 'trait'; trait: string; test: TraitTest }
  | { kind: 'all'; of: TraitCondition[] }
  | { kind: 'any'; of: TraitCondition[] }
  | { kind: 'not'; of: TraitCondition };

export interface EventCondition {
  /** Event type (`page`, `track`, `identify`, `screen`, `group`). */
  type: string | null;
  /** Event name for track events (`Demo Requested`); page name for page events. */
  name: TextTest | null;
  path: TextTest | null;
  url: TextTest | null;
  properties: Array<{ key: string; test: TraitTest }>;
}

export type LimitPeriod = 'ever' | 'day' | 'week';

export interface FitRule {
  id: string;
  group: string;
  when: TraitCondition;
  points: number;
}

export interface EngagementRule {
  id: string;
  group: string;
  when: EventCondition;
  points: number;
  halfLifeDays: number | null;
  limit: { per: LimitPeriod; times: number } | null;
}

export type LeadCategory = 'existing_customer' | 'competitor' | 'partner' | 'non_potential';
export const LEAD_CATEGORIES: readonly LeadCategory[] = ['existing_customer', 'competitor', 'partner', 'non_potential'];

export interface CategoryRule {
  id: string;
  category: LeadCategory;
  when: TraitCondition;
}

export type TriggerCondition =
  | { kind: 'crossesAbove'; score: number }
  | { kind: 'crossesBelow'; score: number }
  | { kind: 'entersGrade'; grade: string }
  | { kind: 'reachesStatus'; status: LeadStatus }
  /** Fired by the lifecycle (a CRM, user or score stage change), not by the scorer. */
  | { kind: 'reachesStage'; stage: Stage }
  /** Fired when sales rejects an MQL; null reasons means any reason. */
  | { kind: 'salesRejects'; reasons: RejectionReason[] | null };

/** What a trigger does; delivered by the automation worker from the outbox. */
export type TriggerAction =
  | { webhook: string }
  | { email: { template: string; to: 'contact' | 'owner' | (string & {}) } };

export interface TriggerRule {
  id: string;
  when: TriggerCondition;
  actions: TriggerAction[];
}

export type LeadStatus = 'mql' | 'nurture' | 'unqualified';

export interface ScoringModel {
  name: string;
  /** Default engagement half-life; null means engagement never decays. */
  halfLifeDays: number | null;
  fit: FitRule[];
  engagement: EngagementRule[];
  /** Per rule group: bounds on the group's (decayed) sum. */
  caps: Map<string, { min: number; max: number }>;
  thresholds: { mql: number; nurture: number | null; unqualified: number | null };
  /** Fit points → letter (A best). */
  fitGrades: { A: number; B: number; C: number };
  /** Engagement points → level (1 best). */
  engagementLevels: { 1: number; 2: number; 3: number };
  categories: CategoryRule[];
  triggers: TriggerRule[];
  account: { key: 'company' | 'email_domain'; companyTrait: string; aggregate: 'sum' | 'max' | 'top3' };
}
