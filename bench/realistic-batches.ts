const CHANNELS = [
  'utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0KCQ',
  'utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm',
  'utm_source=newsletter&utm_medium=email&utm_campaign=monthly',
  '',
  '',
];
const REFERRERS = ['https://www.google.com/', 'https://www.linkedin.com/', '', 'https://news.ycombinator.com/'];
const PATHS = ['/', '/pricing', '/features', '/blog/lead-scoring-guide', '/docs/getting-started', '/customers'];
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
];

/**
 * `count` analytics.js-style batch bodies of `size` events each (page views, tracks, a few identifies), every
 * messageId unique, visitors spread over `visitors` anonymous ids so sessions and identity see realistic reuse.
 */
export function realisticBatches(count: number, size: number, visitors: number, prefix = 'b'): string[] {
  const bodies: string[] = [];
  let n = 0;
  const now = Date.now();
  for (let b = 0; b < count; b++) {
    const batch: object[] = [];
    for (let i = 0; i < size; i++, n++) {
      // Ten visitors per batch, each sending ten events, drawn from the whole pool (as a server-side forwarder sends).
      const v = ((Math.floor(n / size) * 10 + (i % 10)) * 7919) % visitors;
      const path = PATHS[n % PATHS.length]!;
      // Campaign parameters only on the landing page view of a visit, as in real traffic.
      const query = i < 10 ? CHANNELS[v % CHANNELS.length]! : '';
      const url = `https://www.example.com${path}${query ? `?${query}` : ''}`;
      // A client's queue flushed: the batch's events happened over the 10 s before it was sent (`sentAt`), so the
      // server's clock-skew correction places them just before each arrival — in time order per visitor, however
      // often the template is sent again.
      const ts = new Date(now - (size - i) * 100).toISOString();
      const context = {
        page: {
          path,
          referrer: REFERRERS[v % REFERRERS.length],
          search: query ? `?${query}` : '',
          title: 'Example',
          url,
        },
        userAgent: UAS[v % UAS.length],
        locale: 'en-US',
        library: { name: 'analytics.js', version: 'next-1.84.3' },
        ip: `198.51.100.${v % 250}`,
      };
      const kind = n % 20;
      const base = { messageId: `${prefix}-${n}`, anonymousId: `anon-${v}`, timestamp: ts, context, integrations: {} };
      if (kind === 19)
        batch.push({
          ...base,
          type: 'identify',
          userId: `user-${v}`,
          traits: { email: `person${v}@example.com`, company: 'Acme', job_title: 'VP Marketing' },
        });
      else if (kind >= 15)
        batch.push({ ...base, type: 'track', event: 'CTA Clicked', properties: { cta: 'demo', position: kind } });
      else
        batch.push({
          ...base,
          type: 'page',
          name: 'Example',
          properties: { path, referrer: context.page.referrer, search: context.page.search, title: 'Example', url },
        });
    }
    bodies.push(JSON.stringify({ batch, sentAt: new Date(now).toISOString(), writeKey: '__WRITE_KEY__' }));
  }
  return bodies;
}
