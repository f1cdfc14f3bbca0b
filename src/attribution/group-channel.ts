import type { ChannelRule } from '../config.js';
import { sourceCategory } from './source-categories.js';

export type Channel = string;

const PAID_MEDIUM = /^(.*cp.*|ppc|retargeting|paid.*)$/i;
const SHOP_CAMPAIGN = /^(.*(([^a-df-z]|^)shop|shopping).*)$/i;
const DISPLAY_MEDIUM = new Set(['display', 'banner', 'expandable', 'interstitial', 'cpm']);
const SOCIAL_MEDIUM = new Set(['social', 'social-network', 'social-media', 'sm', 'social network', 'social media']);
const EMAIL = new Set(['email', 'e-mail', 'e_mail', 'e mail', 'newsletter']);

export interface ChannelInput {
  source: string | null;
  medium: string | null;
  campaign: string | null;
}

/** Compiled custom rules, tried before the defaults. */
export type CompiledChannelRules = Array<{ channel: string; source?: RegExp; medium?: RegExp; campaign?: RegExp }>;

export function compileChannelRules(rules: ChannelRule[]): CompiledChannelRules {
  return rules.map((rule) => ({
    channel: rule.channel,
    ...(rule.source ? { source: new RegExp(rule.source, 'i') } : {}),
    ...(rule.medium ? { medium: new RegExp(rule.medium, 'i') } : {}),
    ...(rule.campaign ? { campaign: new RegExp(rule.campaign, 'i') } : {}),
  }));
}

/**
 * GA4's default channel grouping, in GA4's order, after any custom rules. GA4's "Unassigned" is called "Other".
 * @example groupChannel({ source: 'google', medium: 'cpc', campaign: null }, []) // 'Paid Search'
 */
export function groupChannel(input: ChannelInput, custom: CompiledChannelRules): Channel {
  const source = (input.source ?? '').trim().toLowerCase();
  const medium = (input.medium ?? '').trim().toLowerCase();
  const campaign = (input.campaign ?? '').trim().toLowerCase();
  for (const rule of custom) {
    if (rule.source && !rule.source.test(source)) continue;
    if (rule.medium && !rule.medium.test(medium)) continue;
    if (rule.campaign && !rule.campaign.test(campaign)) continue;
    return rule.channel;
  }
  if ((source === '' || source === '(direct)') && (medium === '' || medium === '(none)' || medium === '(not set)')) {
    return 'Direct';
  }
  if (campaign.includes('cross-network')) return 'Cross-network';
  const category = source ? sourceCategory(source) : null;
  const paid = PAID_MEDIUM.test(medium);
  if ((category === 'shopping' || SHOP_CAMPAIGN.test(campaign)) && paid) return 'Paid Shopping';
  if (category === 'search' && paid) return 'Paid Search';
  if (category === 'social' && paid) return 'Paid Social';
  if (category === 'video' && paid) return 'Paid Video';
  if (DISPLAY_MEDIUM.has(medium)) return 'Display';
  if (paid) return 'Paid Other';
  if (category === 'shopping' || SHOP_CAMPAIGN.test(campaign)) return 'Organic Shopping';
  if (category === 'social' || SOCIAL_MEDIUM.has(medium)) return 'Organic Social';
  if (category === 'video' || medium.includes('video')) return 'Organic Video';
  if (category === 'search' || medium === 'organic') return 'Organic Search';
  if (medium === 'referral' || medium === 'app' || medium === 'link') return 'Referral';
  if (EMAIL.has(source) || EMAIL.has(medium)) return 'Email';
  if (medium === 'affiliate') return 'Affiliates';
  if (medium === 'audio') return 'Audio';
  if (source === 'sms' || medium === 'sms') return 'SMS';
  if (
    medium.endsWith('push') ||
    medium.includes('mobile') ||
    medium.includes('notification') ||
    source === 'firebase'
  ) {
    return 'Mobile Push Notifications';
  }
  return 'Other';
}
