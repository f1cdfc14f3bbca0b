import { seededRandom } from '../seeded-random.js';

/** One traffic source of the demo site: how it arrives, how much of it, and how well it converts. */
interface DemoChannel {
  weight: number;
  conversion: number;
  seniority: number;
  query?: string;
  referrer?: string;
  clickId?: string;
}

const CHANNELS: DemoChannel[] = [
  { weight: 30, conversion: 0.025, seniority: 0.35, referrer: 'https://www.google.com/' },
  { weight: 4, conversion: 0.02, seniority: 0.3, referrer: 'https://www.bing.com/' },
  {
    weight: 10,
    conversion: 0.06,
    seniority: 0.5,
    query: 'utm_source=google&utm_medium=cpc&utm_campaign=brand',
    clickId: 'gclid',
  },
  {
    weight: 12,
    conversion: 0.03,
    seniority: 0.35,
    query: 'utm_source=google&utm_medium=cpc&utm_campaign=lead-scoring-generic&utm_term=lead+scoring+software',
    clickId: 'gclid',
  },
  {
    weight: 8,
    conversion: 0.015,
    seniority: 0.6,
    query: 'utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm-q3',
    clickId: 'li_fat_id',
  },
  {
    weight: 7,
    conversion: 0.008,
    seniority: 0.15,
    query: 'utm_source=facebook&utm_medium=cpc&utm_campaign=retargeting',
    clickId: 'fbclid',
  },
  { weight: 5, conversion: 0.02, seniority: 0.4, referrer: 'https://www.linkedin.com/' },
  {
    weight: 6,
    conversion: 0.07,
    seniority: 0.4,
    query: 'utm_source=newsletter&utm_medium=email&utm_campaign=monthly-digest',
  },
  { weight: 4, conversion: 0.05, seniority: 0.45, referrer: 'https://www.g2.com/products/kerma/reviews' },
  { weight: 12, conversion: 0.03, seniority: 0.35 },
  {
    weight: 2,
    conversion: 0.003,
    seniority: 0.2,
    query: 'utm_source=adroll&utm_medium=display&utm_campaign=awareness',
  },
];

const PAGES = [
  '/',
  '/features',
  '/pricing',
  '/blog/what-is-an-mql',
  '/blog/lead-scoring-guide',
  '/customers',
  '/docs',
  '/careers',
  '/integrations',
];
const SENIOR = ['CEO', 'CTO', 'VP Marketing', 'Head of Growth', 'Director of Demand Generation', 'CMO'];
const JUNIOR = [
  'Marketing Manager',
  'Marketing Coordinator',
  'Developer',
  'Student',
  'Sales Representative',
  'Consultant',
];
const INDUSTRIES = [
  'software',
  'technology',
  'it services',
  'retail',
  'education',
  'finance',
  'healthcare',
  'manufacturing',
];
const FIRST = [
  'Ada',
  'Ben',
  'Chloe',
  'David',
  'Elena',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jonas',
  'Kira',
  'Liam',
  'Mia',
  'Noah',
  'Olga',
  'Pablo',
];
const LAST = [
  'Schmidt',
  'Garcia',
  'Okafor',
  'Tanaka',
  'Novak',
  'Dubois',
  'Rossi',
  'Larsen',
  'Silva',
  'Kowalski',
  'Nguyen',
  'Murphy',
];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
];
const BOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

export interface DemoOptions {
  days: number;
  visitorsPerDay: number;
  now: number;
  seed?: number;
}

/**
 * Segment-format messages for a B2B site over `days` days: channels of different size and quality, weekly rhythm,
 * one traffic spike, returning visitors, bots, and form fills that identify visitors as contacts.
 * Sorted by time; messageIds are stable for a seed, so running the demo twice stores nothing twice.
 */
export function generateDemoEvents(options: DemoOptions): Array<Record<string, unknown>> {
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const totalWeight = CHANNELS.reduce((s, c) => s + c.weight, 0);
  const pickChannel = () => {
    let r = random() * totalWeight;
    for (const c of CHANNELS) {
      r -= c.weight;
      if (r <= 0) return c;
    }
    return CHANNELS[0]!;
  };
  const messages: Array<Record<string, unknown>> = [];
  let seq = 0;
  const id = () => `demo-${(seq++).toString(36)}`;
  const dayMs = 86_400_000;
  const start = options.now - options.days * dayMs;
  const spikeDay = Math.floor(options.days * 0.66);
  let visitorNo = 0;
  let contactNo = 0;

  const page = (
    anonymousId: string,
    at: number,
    path: string,
    query: string | null,
    referrer: string | null,
    ua: string,
    ip: string,
  ) => {
    const url = `https://www.example-saas.com${path}${query ? `?${query}` : ''}`;
    messages.push({
      type: 'page',
      messageId: id(),
      anonymousId,
      name: path,
      properties: { url, path, referrer: referrer ?? '', title: path },
      context: { userAgent: ua, ip, page: { url, path, referrer: referrer ?? '' } },
      timestamp: new Date(at).toISOString(),
    });
  };

  for (let day = 0; day < options.days; day++) {
    const date = new Date(start + day * dayMs);
    const weekday = date.getUTCDay();
    const weekFactor = weekday === 0 || weekday === 6 ? 0.45 : 1;
    const growth = 0.8 + (0.4 * day) / options.days;
    const count = Math.round(options.visitorsPerDay * weekFactor * growth * (0.85 + random() * 0.3));
    const spike = day === spikeDay ? Math.round(options.visitorsPerDay * 2.5) : 0;
    for (let v = 0; v < count + spike; v++) {
      const anonymousId = `anon-${(visitorNo++).toString(36)}-${Math.floor(random() * 1e9).toString(36)}`;
      const isSpike = v >= count;
      const channel: DemoChannel = isSpike
        ? { weight: 0, conversion: 0.004, seniority: 0.2, referrer: 'https://news.ycombinator.com/' }
        : pickChannel();
      const isBot = random() < 0.02;
      const ua = isBot ? BOT_UA : pick(USER_AGENTS);
      const ip = `198.51.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}`;
      let at = start + day * dayMs + Math.floor((0.3 + random() * 0.6) * dayMs);
      if (at > options.now) continue;
      const sessions = random() < 0.25 ? 2 + Math.floor(random() * 3) : 1;
      const converts = !isBot && random() < channel.conversion * (1 + (sessions - 1) * 0.6);
      for (let s = 0; s < sessions && at <= options.now; s++) {
        const first = s === 0;
        const query =
          first && channel.query
            ? `${channel.query}${channel.clickId ? `&${channel.clickId}=${Math.floor(random() * 1e12).toString(36)}` : ''}`
            : null;
        const landing = first && channel.query?.includes('cpc') ? '/pricing' : pick(PAGES);
        page(anonymousId, at, landing, query, first ? (channel.referrer ?? null) : null, ua, ip);
        const views = 1 + Math.floor(random() * 4);
        for (let p = 1; p < views; p++) {
          at += 20_000 + Math.floor(random() * 120_000);
          page(anonymousId, at, pick(PAGES), null, 'https://www.example-saas.com/', ua, ip);
        }
        if (converts && s === sessions - 1) {
          at += 30_000;
          page(anonymousId, at, '/demo', null, 'https://www.example-saas.com/pricing', ua, ip);
          const senior = random() < channel.seniority;
          const first_name = pick(FIRST);
          const last_name = pick(LAST);
          const email =
            `${first_name}.${last_name}.${contactNo++}@${pick(['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'])}-${Math.floor(random() * 900 + 100)}.com`.toLowerCase();
          at += 45_000;
          messages.push({
            type: 'identify',
            messageId: id(),
            anonymousId,
            traits: {
              email,
              first_name,
              last_name,
              job_title: senior ? pick(SENIOR) : pick(JUNIOR),
              industry: pick(INDUSTRIES),
              company_size: senior ? 50 + Math.floor(random() * 900) : 5 + Math.floor(random() * 300),
            },
            context: { userAgent: ua, ip },
            timestamp: new Date(at).toISOString(),
          });
          messages.push({
            type: 'track',
            messageId: id(),
            anonymousId,
            event: random() < 0.5 ? 'Demo Requested' : 'Form Submitted',
            properties: { form: 'demo', path: '/demo' },
            context: { userAgent: ua, ip, page: { path: '/demo', url: 'https://www.example-saas.com/demo' } },
            timestamp: new Date(at + 1000).toISOString(),
          });
        }
        at += (1 + Math.floor(random() * 6)) * dayMs;
      }
    }
  }
  messages.sort((a, b) => String(a['timestamp']).localeCompare(String(b['timestamp'])));
  return messages;
}
