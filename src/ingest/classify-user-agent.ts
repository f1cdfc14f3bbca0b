import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';

export interface UserAgentInfo {
  isBot: boolean;
  browser: string | null;
  os: string | null;
  device: string | null;
}

const MAX_CACHED = 5_000;
// Real traffic repeats a few thousand user-agent strings; parsing each once keeps ua-parser-js off the hot path.
const cache = new Map<string, UserAgentInfo>();

/**
 * Bot flag (isbot) and browser / OS / device type (ua-parser-js) of a user-agent string, memoised.
 * @example classifyUserAgent('Googlebot/2.1 (+http://www.google.com/bot.html)').isBot // true
 */
export function classifyUserAgent(userAgent: string | null): UserAgentInfo {
  if (!userAgent) return { isBot: false, browser: null, os: null, device: null };
  const hit = cache.get(userAgent);
  if (hit) return hit;
  const parsed = new UAParser(userAgent).getResult();
  const info: UserAgentInfo = {
    isBot: isbot(userAgent),
    browser: parsed.browser.name ?? null,
    os: parsed.os.name ?? null,
    device: parsed.device.type ?? 'desktop',
  };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(userAgent, info);
  return info;
}
