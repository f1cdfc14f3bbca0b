import type { CampaignInfo } from '../ingest/ingest-event.js';
import { type CompiledChannelRules, groupChannel } from './group-channel.js';
import { sourceCategory, sourceFromHost } from './source-categories.js';
import type { Touch } from './touch.js';

export const CLICK_ID_PARAMS = [
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'li_fat_id',
  'ttclid',
  'twclid',
];

// Ad platforms append these to paid clicks; without utm_* they identify the source and a paid medium.
const CLICK_ID_SOURCE: Record<string, { source: string; medium: string }> = {
  gclid: { source: 'google', medium: 'cpc' },
  gbraid: { source: 'google', medium: 'cpc' },
  wbraid: { source: 'google', medium: 'cpc' },
  dclid: { source: 'google', medium: 'display' },
  msclkid: { source: 'bing', medium: 'cpc' },
  li_fat_id: { source: 'linkedin', medium: 'cpc' },
  ttclid: { source: 'tiktok', medium: 'cpc' },
  twclid: { source: 'twitter', medium: 'cpc' },
  // Meta adds fbclid to organic shares too, so it only names the source.
  fbclid: { source: 'facebook', medium: 'referral' },
};

export interface TouchInput {
  url: string | null;
  referrer: string | null;
  campaign: CampaignInfo | null;
  at: number;
}

function safeUrl(raw: string | null): URL | null {
  if (!raw) return null;
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

function nonEmpty(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/**
 * The touch of a page view: utm_* and click ids from the URL (unless the client sent its campaign), else the referrer.
 * @example parseTouch({ url: 'https://a.io/?utm_source=google&utm_medium=cpc', referrer: null, campaign: null, at: 0 }, [])
 *   // { source: 'google', medium: 'cpc', channel: 'Paid Search', landingPage: '/', ... }
 */
export function parseTouch(input: TouchInput, rules: CompiledChannelRules): Touch {
  const url = safeUrl(input.url);
  const params = url?.searchParams;
  const clickIds: Record<string, string> = {};
  if (params) {
    for (const name of CLICK_ID_PARAMS) {
      const value = nonEmpty(params.get(name));
      if (value) clickIds[name] = value;
    }
  }
  let source = nonEmpty(input.campaign?.source) ?? nonEmpty(params?.get('utm_source'));
  let medium = nonEmpty(input.campaign?.medium) ?? nonEmpty(params?.get('utm_medium'));
  const campaign = nonEmpty(input.campaign?.name) ?? nonEmpty(params?.get('utm_campaign'));
  const term = nonEmpty(input.campaign?.term) ?? nonEmpty(params?.get('utm_term'));
  const content = nonEmpty(input.campaign?.content) ?? nonEmpty(params?.get('utm_content'));

  const referrerUrl = safeUrl(input.referrer);
  const externalReferrer = referrerUrl && (!url || referrerUrl.hostname !== url.hostname) ? referrerUrl : null;
  if (!source) {
    const clickId = CLICK_ID_PARAMS.find((name) => clickIds[name] !== undefined);
    if (clickId) {
      source = CLICK_ID_SOURCE[clickId]!.source;
      medium = medium ?? CLICK_ID_SOURCE[clickId]!.medium;
    } else if (externalReferrer) {
      source = sourceFromHost(externalReferrer.hostname);
      const category = sourceCategory(source);
      medium = medium ?? (category === 'search' ? 'organic' : category === 'social' ? 'social' : 'referral');
    }
  }
  if (!source && !medium) {
    source = '(direct)';
    medium = '(none)';
  }
  return {
    source,
    medium,
    campaign,
    term,
    content,
    channel: nonEmpty(input.campaign?.channel) ?? groupChannel({ source, medium, campaign }, rules),
    landingPage: url ? url.pathname : null,
    referrer: externalReferrer ? externalReferrer.href : null,
    clickIds,
    at: new Date(input.at).toISOString(),
  };
}

/** Identity of a campaign for session splitting: a new non-direct campaign starts a new session (GA rule). */
export function campaignKey(touch: Touch): string {
  return [touch.source, touch.medium, touch.campaign, touch.term, touch.content].join('\u0001');
}
