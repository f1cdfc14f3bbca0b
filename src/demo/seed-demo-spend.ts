import { sql } from 'kysely';
import type { CompiledChannelRules } from '../attribution/group-channel.js';
import { seededRandom as seeded } from '../seeded-random.js';
import { type SpendInput, saveSpend } from '../spend/import-spend.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';

/** What each demo campaign pays: cost per click and click-through rate. */
const CAMPAIGNS: Record<string, { cpc: number; ctr: number }> = {
  'google|cpc|brand': { cpc: 1.2, ctr: 0.08 },
  'google|cpc|lead-scoring-generic': { cpc: 4.5, ctr: 0.03 },
  'linkedin|paid_social|abm-q3': { cpc: 7, ctr: 0.006 },
  'facebook|cpc|retargeting': { cpc: 0.9, ctr: 0.01 },
  'adroll|display|awareness': { cpc: 0.6, ctr: 0.0015 },
};

/**
 * The ad spend behind the demo's paid traffic, as an ad platform export would report it: per day and campaign, clicks
 * a little above the sessions Kerma saw, impressions from the campaign's CTR, cost from its CPC (with noise).
 * Returns the total cost.
 */
export async function seedDemoSpend(
  storage: Storage,
  workspace: Workspace,
  channelRules: CompiledChannelRules,
): Promise<number> {
  const random = seeded(11);
  const rows = await storage.db
    .selectFrom('daily_rollups')
    .select(['day', 'source', 'medium', 'campaign', sql<number>`sum(sessions)`.as('sessions')])
    .where('workspace_id', '=', workspace.id)
    .groupBy(['day', 'source', 'medium', 'campaign'])
    .orderBy('day')
    .orderBy('source')
    .orderBy('campaign')
    .execute();
  const spend: SpendInput[] = [];
  for (const r of rows) {
    const campaign = CAMPAIGNS[`${r.source}|${r.medium}|${r.campaign}`];
    if (!campaign) continue;
    const clicks = Math.round(Number(r.sessions) * (1.05 + random() * 0.15));
    spend.push({
      day: r.day,
      source: r.source,
      medium: r.medium,
      campaign: r.campaign,
      ad: '',
      cost: Math.round(clicks * campaign.cpc * (0.85 + random() * 0.3) * 100) / 100,
      currency: workspace.currency,
      impressions: Math.round(clicks / (campaign.ctr * (0.8 + random() * 0.4))),
      clicks,
      conversions: null,
      approvedConversions: null,
    });
  }
  await saveSpend(storage.db, workspace.id, spend, channelRules);
  return spend.reduce((sum, s) => sum + s.cost, 0);
}
