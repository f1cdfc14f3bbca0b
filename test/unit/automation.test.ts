import { describe, expect, it } from 'vitest';
import { parseTemplateFile, renderEmail } from '../../src/automation/email-templates.js';
import { marketingConsent } from '../../src/automation/marketing-consent.js';
import { DEFAULT_RETRY_SCHEDULE_MS, nextAttemptAt, parseRetryAfter } from '../../src/automation/retry-schedule.js';
import { nextSendTime } from '../../src/automation/send-window.js';
import { checkWebhookUrl } from '../../src/automation/webhook-endpoints.js';
import { normalizePhone } from '../../src/exports/format-offline-conversions.js';
import { formatModelError } from '../../src/scoring/model-error.js';
import { parseModelFile } from '../../src/scoring/parse-model-file.js';

const NOW = Date.parse('2026-03-28T12:00:00Z');

describe('retry schedule', () => {
  it('follows 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h with ±20% jitter, then gives up', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS.map((ms) => ms / 1000)).toEqual([
      5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
    ]);
    expect(nextAttemptAt(1, NOW, null, () => 0)).toBe(NOW + 4000);
    expect(nextAttemptAt(1, NOW, null, () => 1)).toBe(NOW + 6000);
    expect(nextAttemptAt(2, NOW, null, () => 0.5)).toBe(NOW + 300_000);
    expect(nextAttemptAt(10, NOW, null, () => 0.5)).toBeNull();
  });

  it("never retries sooner than the receiver's Retry-After (capped at a day)", () => {
    expect(nextAttemptAt(1, NOW, 120_000, () => 0.5)).toBe(NOW + 120_000);
    expect(nextAttemptAt(3, NOW, 1000, () => 0.5)).toBe(NOW + 1_800_000);
    expect(nextAttemptAt(1, NOW, 10 * 86_400_000, () => 0.5)).toBe(NOW + 86_400_000);
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('Sat, 28 Mar 2026 12:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('soon', NOW)).toBeNull();
    expect(parseRetryAfter(null, NOW)).toBeNull();
  });
});

describe('send window', () => {
  const window = { start: 9 * 60, end: 17 * 60 };
  it('is now inside the window, else the next opening in the contact zone, across a DST change', () => {
    // 12:00 UTC = 13:00 in Berlin (CET, the day before DST): open.
    expect(nextSendTime(NOW, 'Europe/Berlin', window)).toBe(NOW);
    // 20:00 UTC on 28 March = 21:00 CET; the clocks go forward that night, so 09:00 CEST is 07:00 UTC.
    expect(new Date(nextSendTime(Date.parse('2026-03-28T20:00:00Z'), 'Europe/Berlin', window)).toISOString()).toBe(
      '2026-03-29T07:00:00.000Z',
    );
    // 03:30 in New York: opens at 09:00 the same day.
    expect(new Date(nextSendTime(Date.parse('2026-06-01T07:30:00Z'), 'America/New_York', window)).toISOString()).toBe(
      '2026-06-01T13:00:00.000Z',
    );
  });
});

describe('consent, URLs, templates, phones', () => {
  it('sends marketing email only with consent and never after unsubscribing', () => {
    expect(marketingConsent({ marketing_consent: true })).toEqual({ ok: true });
    expect(marketingConsent({ email_consent: 'yes' })).toEqual({ ok: true });
    expect(marketingConsent({})).toMatchObject({ ok: false, reason: expect.stringMatching(/no marketing consent/) });
    expect(marketingConsent({ marketing_consent: true, unsubscribed: 'true' })).toEqual({
      ok: false,
      reason: 'the contact unsubscribed',
    });
  });

  it('refuses invalid webhook URLs, and plain http in production', () => {
    expect(checkWebhookUrl('http://127.0.0.1:9000/h', false).port).toBe('9000');
    expect(() => checkWebhookUrl('http://hooks.example.com/h', true)).toThrow(/must be https in production/);
    expect(() => checkWebhookUrl('hooks.example.com', false)).toThrow(/is not a URL/);
    expect(() => checkWebhookUrl('file:///etc/passwd', false)).toThrow(/must be http\(s\), not file/);
    expect(() => checkWebhookUrl('https://user:pw@hooks.example.com', false)).toThrow(/user name or password/);
  });

  it('checks template files and renders plain text verbatim, HTML escaped', () => {
    expect(() => parseTemplateFile('subject: Hi\n', 't.yaml')).toThrow(/t\.yaml: text: /);
    expect(() => parseTemplateFile('subject: "{{#a}}"\ntext: x\n', 't.yaml')).toThrow(
      /t\.yaml: subject: Unclosed section/,
    );
    const template = parseTemplateFile(
      'subject: "Hi {{name}}\\nthere"\ntext: "{{name}} & co"\nhtml: "<b>{{name}}</b>"\n',
      't',
    );
    expect(renderEmail(template, { name: '<Ann>' })).toEqual({
      subject: 'Hi <Ann> there',
      text: '<Ann> & co',
      html: '<b>&lt;Ann&gt;</b>',
    });
  });

  it('validates trigger actions in model files with path and line', () => {
    const parsed = parseModelFile(`name: x
thresholds: { mql: 10 }
triggers:
  - id: t
    when: { stage: { reaches: negotiation } }
    then: [ { slack: sales }, { email: { template: demo, to: "not an address" } } ]
`);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.map(formatModelError)).toEqual([
      'triggers[0].when.stage.reaches: unknown stage "negotiation" (line 5); expected one of mql, sql, meeting, won, lost',
      'triggers[0].then[0].slack: unknown action "slack" (line 6); expected { webhook: ENDPOINT_NAME } or { email: { template: NAME, to: contact | owner | ADDRESS } }',
      'triggers[0].then[1].email.to: to "not an address" is not contact, owner or an email address (line 6); expected { webhook: ENDPOINT_NAME } or { email: { template: NAME, to: contact | owner | ADDRESS } }',
    ]);
  });

  it('normalises phones to E.164 digits for Meta', () => {
    expect(normalizePhone('+49 (0)30 1234-567')).toBe('49301234567');
    expect(normalizePhone('030 1234567', 'DE')).toBe('49301234567');
    expect(normalizePhone('(415) 555-0132', 'US')).toBe('14155550132');
    expect(normalizePhone('00 12')).toBe('12');
  });
});
