// GA4's default channel grouping matches the source against Google's category lists (search, social, video, shopping).
// Google publishes them only as a spreadsheet, so the common entries are kept here; config rules can add more.
const SEARCH = [
  'google',
  'bing',
  'yahoo',
  'baidu',
  'duckduckgo',
  'yandex',
  'ecosia',
  'naver',
  'seznam',
  'qwant',
  'startpage',
  'ask',
  'aol',
  'brave',
  'sogou',
  'so.com',
  'daum',
  'search.yahoo',
  'kagi',
  'perplexity',
  'chatgpt',
];
const SOCIAL = [
  'facebook',
  'fb',
  'instagram',
  'ig',
  'linkedin',
  'lnkd.in',
  'twitter',
  't.co',
  'x',
  'x.com',
  'reddit',
  'pinterest',
  'tiktok',
  'snapchat',
  'quora',
  'tumblr',
  'vk',
  'weibo',
  'wechat',
  'whatsapp',
  'telegram',
  'threads',
  'mastodon',
  'bsky',
  'bluesky',
  'discord',
  'messenger',
  'meta',
  'xing',
  'slack',
];
const VIDEO = ['youtube', 'vimeo', 'twitch', 'dailymotion', 'wistia', 'youku'];
const SHOPPING = [
  'amazon',
  'ebay',
  'etsy',
  'shopify',
  'walmart',
  'alibaba',
  'aliexpress',
  'google shopping',
  'igshopping',
];

export type SourceCategory = 'search' | 'social' | 'video' | 'shopping';

const byName = new Map<string, SourceCategory>();
for (const name of SEARCH) byName.set(name, 'search');
for (const name of SOCIAL) byName.set(name, 'social');
for (const name of VIDEO) byName.set(name, 'video');
for (const name of SHOPPING) byName.set(name, 'shopping');

/**
 * Category of a source such as "google", "m.facebook.com" or "l.instagram.com".
 * @example sourceCategory('www.bing.com') // 'search'
 */
export function sourceCategory(source: string): SourceCategory | null {
  const lower = source.toLowerCase();
  const direct = byName.get(lower);
  if (direct) return direct;
  // Host names: try every label that could be the brand (www.google.co.uk → google, m.facebook.com → facebook).
  for (const label of lower.split('.')) {
    const found = byName.get(label);
    if (found && label.length > 1) return found;
  }
  return null;
}

/** Short source name for a referring host: known brands by name (google, facebook), others by host without "www.". */
export function sourceFromHost(host: string): string {
  const lower = host.toLowerCase().replace(/^www\./, '');
  if (lower === 't.co') return 'twitter';
  if (lower === 'lnkd.in') return 'linkedin';
  for (const label of lower.split('.')) {
    if (label.length > 2 && byName.has(label)) return label;
  }
  return lower;
}
