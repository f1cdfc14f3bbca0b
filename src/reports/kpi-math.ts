import { type FunnelRow, ratio } from './funnel-math.js';

export interface SpendTotals {
  cost: number;
  impressions: number;
  clicks: number;
  /** Platform-reported conversions; null when no imported row had them. */
  conversions: number | null;
  approvedConversions: number | null;
}

export interface KpiInput {
  key: string;
  spend: SpendTotals;
  sessions: number;
  funnel: FunnelRow;
  qualifiedSessions: number;
  abandonedQualifiedSessions: number;
}

export interface LtvSettings {
  purchasesPerYear: number;
  lifespanYears: number;
  margin: number;
  /** A fixed LTV instead of the computed one. */
  value: number | null;
}

/** Every KPI of a channel (or source, medium, campaign); null is "no data" (nothing to divide by). */
export interface KpiRow {
  key: string;
  cost: number;
  impressions: number;
  clicks: number;
  sessions: number;
  contacts: number;
  mql: number;
  sql: number;
  won: number;
  revenue: number;
  ctr: number | null;
  cpc: number | null;
  visitToContact: number | null;
  /** Cost per lead: per new contact (a form fill). */
  cpl: number | null;
  costPerMql: number | null;
  costPerSql: number | null;
  /** Customer acquisition cost: per won deal. */
  cac: number | null;
  roas: number | null;
  /** (revenue × margin − cost) ÷ cost. */
  roi: number | null;
  /** MQLs per SQL (3 means 3:1). */
  mqlPerSql: number | null;
  /** SQL ÷ MQL: leads that became opportunities (sales-accepted). */
  leadToOpportunity: number | null;
  /** Won ÷ SQL: opportunities that became customers. */
  opportunityToCustomer: number | null;
  winRate: number | null;
  medianCycleDays: number | null;
  averageOrderValue: number | null;
  ltv: number | null;
  /** 0–100: the share of MQLs that reached SQL, weighted by deal value against the average (see the README). */
  leadQuality: number | null;
  qualifiedSessions: number;
  qualifiedVisitAbandonment: number | null;
  /** The ad platform's own conversion counts and cost per conversion (CPL as the platform sees it). */
  platform: {
    conversions: number | null;
    approvedConversions: number | null;
    cpl: number | null;
    costPerApproved: number | null;
  };
}

const per = (cost: number, count: number | null) => (count === null ? null : ratio(cost, count));

/**
 * A KPI row from its parts. `overallAov` is the average won deal over every row, for the lead-quality weighting;
 * spend KPIs are "no data" where there was no spend (an organic channel has no CPL).
 */
export function kpiRow(input: KpiInput, ltv: LtvSettings, overallAov: number | null): KpiRow {
  const { spend, funnel } = input;
  const paid = spend.cost > 0;
  const cost = (count: number) => (paid ? ratio(spend.cost, count) : null);
  const aov = ratio(funnel.revenue, funnel.won);
  const sqlShare = ratio(funnel.sql, funnel.mql);
  const valueWeight = aov !== null && overallAov !== null && overallAov > 0 ? aov / overallAov : 1;
  return {
    key: input.key,
    cost: spend.cost,
    impressions: spend.impressions,
    clicks: spend.clicks,
    sessions: input.sessions,
    contacts: funnel.contacts,
    mql: funnel.mql,
    sql: funnel.sql,
    won: funnel.won,
    revenue: funnel.revenue,
    ctr: ratio(spend.clicks, spend.impressions),
    cpc: ratio(spend.cost, spend.clicks),
    visitToContact: ratio(funnel.contacts, input.sessions),
    cpl: cost(funnel.contacts),
    costPerMql: cost(funnel.mql),
    costPerSql: cost(funnel.sql),
    cac: cost(funnel.won),
    roas: paid ? ratio(funnel.revenue, spend.cost) : null,
    roi: paid ? ratio(funnel.revenue * ltv.margin - spend.cost, spend.cost) : null,
    mqlPerSql: ratio(funnel.mql, funnel.sql),
    leadToOpportunity: sqlShare,
    opportunityToCustomer: ratio(funnel.won, funnel.sql),
    winRate: funnel.rates.winRate,
    medianCycleDays: funnel.medianCycleDays,
    averageOrderValue: aov,
    ltv: ltv.value ?? (aov === null ? null : aov * ltv.purchasesPerYear * ltv.lifespanYears * ltv.margin),
    leadQuality: sqlShare === null ? null : Math.min(100, 100 * sqlShare * valueWeight),
    qualifiedSessions: input.qualifiedSessions,
    qualifiedVisitAbandonment: ratio(input.abandonedQualifiedSessions, input.qualifiedSessions),
    platform: {
      conversions: spend.conversions,
      approvedConversions: spend.approvedConversions,
      cpl: per(spend.cost, spend.conversions),
      costPerApproved: per(spend.cost, spend.approvedConversions),
    },
  };
}
