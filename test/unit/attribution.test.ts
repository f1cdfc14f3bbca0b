import { describe, expect, it } from 'vitest';
import { compileChannelRules, groupChannel } from '../../src/attribution/group-channel.js';
import { parseTouch } from '../../src/attribution/parse-touch.js';

const at = Date.UTC(2026, 0, 1);

describe('GA4 default channel grouping', () => {
  const cases: Array<[string | null, string | null, string | null, string]> = [
    [null, null, null, 'Direct'],
    ['(direct)', '(none)', null, 'Direct'],
    ['google', 'cpc', 'brand', 'Paid Search'],
    ['bing', 'ppc', null, 'Paid Search'],
    ['google', 'organic', null, 'Organic Search'],
    ['duckduckgo', 'referral', null, 'Organic Search'],
    ['linkedin', 'paid_social', null, 'Paid Social'],
    ['facebook', 'cpc', 'retargeting', 'Paid Social'],
    ['m.facebook.com', 'referral', null, 'Organic Social'],
    ['newsletter', 'social', null, 'Organic Social'],
    ['youtube', 'cpv', null, 'Paid Video'],
    ['youtube', 'referral', null, 'Organic Video'],
    ['adroll', 'display', null, 'Display'],
    ['criteo', 'cpm', null, 'Display'],
    ['newsletter', 'email', 'june', 'Email'],
    ['e-mail', 'blast', null, 'Email'],
    ['g2.com', 'referral', null, 'Referral'],
    ['partnerstack', 'affiliate', null, 'Affiliates'],
    ['amazon', 'cpc', null, 'Paid Shopping'],
    ['x', 'y', 'spring-shop', 'Organic Shopping'],
    ['capterra', 'paid', null, 'Paid Other'],
    ['foo', 'bar', 'cross-network-pmax', 'Cross-network'],
    ['twilio', 'sms', null, 'SMS'],
    ['podcast', 'audio', null, 'Audio'],
    ['foo', 'bar', null, 'Other'],
  ];
  for (const [source, medium, campaign, channel] of cases) {
    it(`${source}/${medium}${campaign ? `/${campaign}` : ''} → ${channel}`, () => {
      expect(groupChannel({ source, medium, campaign }, [])).toBe(channel);
    });
  }

  it('tries custom rules first, case-insensitively', () => {
    const rules = compileChannelRules([{ channel: 'Partners', source: '^(g2|capterra)' }]);
    expect(groupChannel({ source: 'G2.com', medium: 'referral', campaign: null }, rules)).toBe('Partners');
    expect(groupChannel({ source: 'google', medium: 'cpc', campaign: null }, rules)).toBe('Paid Search');
  });
});

describe('parseTouch', () => {
  it('reads utm_* and click ids from the URL', () => {
    const t = parseTouch(
      {
        url: 'https://a.io/pricing?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=crm&utm_content=ad1&gclid=XYZ',
        referrer: null,
        campaign: null,
        at,
      },
      [],
    );
    expect(t).toMatchObject({
      source: 'google',
      medium: 'cpc',
      campaign: 'brand',
      term: 'crm',
      content: 'ad1',
      channel: 'Paid Search',
      landingPage: '/pricing',
      clickIds: { gclid: 'XYZ' },
    });
    expect(t.at).toBe('2026-01-01T00:00:00.000Z');
  });

  it('prefers the campaign the client sent over the URL', () => {
    const t = parseTouch(
      {
        url: 'https://a.io/?utm_source=bing',
        referrer: null,
        campaign: { source: 'newsletter', medium: 'email', name: 'may', term: null, content: null },
        at,
      },
      [],
    );
    expect(t).toMatchObject({ source: 'newsletter', medium: 'email', campaign: 'may', channel: 'Email' });
  });

  it('uses click ids when there is no utm_source', () => {
    expect(parseTouch({ url: 'https://a.io/?msclkid=1', referrer: null, campaign: null, at }, [])).toMatchObject({
      source: 'bing',
      medium: 'cpc',
      channel: 'Paid Search',
    });
    expect(parseTouch({ url: 'https://a.io/?li_fat_id=1', referrer: null, campaign: null, at }, [])).toMatchObject({
      source: 'linkedin',
      channel: 'Paid Social',
    });
    expect(
      parseTouch({ url: 'https://a.io/?fbclid=1', referrer: 'https://l.facebook.com/', campaign: null, at }, []),
    ).toMatchObject({ source: 'facebook', channel: 'Organic Social' });
  });

  it('falls back to the referrer: search, social, other sites; same-site referrers are direct', () => {
    expect(
      parseTouch({ url: 'https://a.io/', referrer: 'https://www.google.co.uk/', campaign: null, at }, []),
    ).toMatchObject({ source: 'google', medium: 'organic', channel: 'Organic Search' });
    expect(parseTouch({ url: 'https://a.io/', referrer: 'https://t.co/abc', campaign: null, at }, [])).toMatchObject({
      source: 'twitter',
      medium: 'social',
      channel: 'Organic Social',
    });
    expect(
      parseTouch({ url: 'https://a.io/', referrer: 'https://www.g2.com/products', campaign: null, at }, []),
    ).toMatchObject({ source: 'g2.com', medium: 'referral', channel: 'Referral' });
    expect(parseTouch({ url: 'https://a.io/b', referrer: 'https://a.io/', campaign: null, at }, [])).toMatchObject({
      source: '(direct)',
      medium: '(none)',
      channel: 'Direct',
      referrer: null,
    });
  });

  it('survives a URL that is not a URL', () => {
    expect(parseTouch({ url: 'not a url', referrer: '::', campaign: null, at }, [])).toMatchObject({
      channel: 'Direct',
      landingPage: null,
    });
  });
});
