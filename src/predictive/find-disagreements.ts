export interface RankedLead {
  id: string;
  email: string | null;
  score: number;
  probability: number;
}

export interface Disagreement extends RankedLead {
  /** Share of leads with a lower rule score (0 … 1). */
  scorePercentile: number;
  /** Share of leads with a lower probability (0 … 1). */
  probabilityPercentile: number;
}

export interface Disagreements {
  leads: number;
  /** The rules rank them in the bottom half, the model in its top fifth: worth a look by sales. */
  modelHigherThanRules: Disagreement[];
  /** The rules rank them in the top fifth, the model in its bottom half: rules that may over-reward. */
  rulesHigherThanModel: Disagreement[];
}

/**
 * Leads where the rule score and the predictive probability disagree, by percentile rank (ties share the lower
 * rank), biggest gap first.
 * @example findDisagreements(leads, 20).modelHigherThanRules[0]
 */
export function findDisagreements(leads: RankedLead[], limit: number): Disagreements {
  const scoreRank = percentiles(leads.map((l) => l.score));
  const probabilityRank = percentiles(leads.map((l) => l.probability));
  const ranked = leads.map((l, i) => ({
    ...l,
    scorePercentile: scoreRank[i]!,
    probabilityPercentile: probabilityRank[i]!,
  }));
  const gap = (d: Disagreement) => d.probabilityPercentile - d.scorePercentile;
  return {
    leads: leads.length,
    modelHigherThanRules: ranked
      .filter((d) => d.probabilityPercentile >= 0.8 && d.scorePercentile < 0.5)
      .sort((a, b) => gap(b) - gap(a) || b.probability - a.probability)
      .slice(0, limit),
    rulesHigherThanModel: ranked
      .filter((d) => d.scorePercentile >= 0.8 && d.probabilityPercentile < 0.5)
      .sort((a, b) => gap(a) - gap(b) || b.score - a.score)
      .slice(0, limit),
  };
}

function percentiles(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let k = 0; k < order.length; ) {
    let j = k;
    while (j < order.length && order[j]![0] === order[k]![0]) j++;
    for (let m = k; m < j; m++) out[order[m]![1]] = values.length > 1 ? k / (values.length - 1) : 0;
    k = j;
  }
  return out;
}
