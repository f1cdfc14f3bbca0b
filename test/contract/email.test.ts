import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryWorker } from '../../src/automation/delivery-worker.js';
import { parseTemplateFile, saveEmailTemplate } from '../../src/automation/email-templates.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { testEngine } from '../support/test-storage.js';

const MODEL = `name: email
half_life_days: null
engagement:
  - id: demo
    when: { event: Demo Requested }
    points: 60
thresholds: { mql: 50 }
triggers:
  - id: hot
    when: { score: { crosses_above: 50 } }
    then:
      - { email: { template: book-a-demo, to: contact } }
      - { email: { template: sales-alert, to: owner } }
      - { email: { template: sales-alert, to: bounce@example.com } }
`;

const BOOK_A_DEMO = `subject: "{{contact.traits.first_name}}, book a demo"
text: |
  Hi {{contact.traits.first_name}},
  you look like a fit ({{contact.grade}}). Pick a time: https://example.com/demo?c={{contact.id}}
html: "<p>Hi {{contact.traits.first_name}}</p>"
`;
const SALES_ALERT = `subject: "Hot lead: {{contact.email}} ({{score}} points)"
text: "{{contact.traits.first_name}} crossed the threshold; owner {{contact.owner}}."
`;

const WINDOW = { start: 9 * 60, end: 17 * 60 };

/** A fixed-offset zone whose local hour now is in [from, to). */
function zoneWithLocalHour(from: number, to: number): { zone: string; offset: number } {
  const utcHour = new Date().getUTCHours();
  for (let offset = -12; offset <= 14; offset++) {
    const local = (utcHour + offset + 24) % 24;
    if (local >= from && local < to)
      return { zone: offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`, offset };
  }
  throw new Error('no zone found');
}

describe(`trigger emails through a real SMTP server (${testEngine})`, () => {
  let t: TestApp;
  let worker: DeliveryWorker;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  const inside = zoneWithLocalHour(10, 15);
  const outside = zoneWithLocalHour(19, 23);
  let seq = 0;
  const send = async (batch: object[]) => {
    const r = await t.sendBatch(batch.map((m) => ({ messageId: `e-${++seq}`, ...m })));
    expect(r.statusCode).toBe(200);
  };
  const lead = async (userId: string, traits: Record<string, unknown>) => {
    await send([{ type: 'identify', userId, traits: { email: `${userId}@example.com`, ...traits } }]);
    const owner = await t.app.inject({
      method: 'POST',
      url: '/api/crm/stages',
      headers: { authorization: `Bearer ${t.secretKey}` },
      payload: JSON.stringify({ crmId: userId, stage: 'contact', owner: `rep-of-${userId}@example.com` }),
    });
    expect(owner.statusCode).toBe(200);
    await send([{ type: 'track', userId, event: 'Demo Requested' }]);
  };
  const deliveries = () =>
    t.runtime.storage.db
      .selectFrom('deliveries')
      .innerJoin('contacts', 'contacts.id', 'deliveries.contact_id')
      .select([
        'deliveries.target',
        'deliveries.status',
        'deliveries.next_at',
        'deliveries.last_error',
        'contacts.user_id',
      ])
      .execute();

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp();
    await t.applyModel(MODEL);
    const db = t.runtime.storage.db;
    await saveEmailTemplate(db, t.workspaceId, 'book-a-demo', parseTemplateFile(BOOK_A_DEMO, 'book-a-demo.yaml'));
    await saveEmailTemplate(db, t.workspaceId, 'sales-alert', parseTemplateFile(SALES_ALERT, 'sales-alert.yaml'));
    worker = new DeliveryWorker(db, {
      smtpUrl: smtp.url,
      emailFrom: 'Kerma <kerma@example.com>',
      emailSendWindow: WINDOW,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await worker.stop();
    await t.close();
    await smtp.stop();
  });

  it('sends the nurture email to a consenting contact inside its window and alerts the owner, with merge fields', async () => {
    await lead('ada', { first_name: 'Ada', marketing_consent: true, timezone: inside.zone });
    await worker.runOnce();
    const toAda = smtp.mails.filter((m) => m.to.includes('ada@example.com'));
    expect(toAda).toHaveLength(1);
    expect(toAda[0]!.from).toBe('kerma@example.com');
    expect(toAda[0]!.subject).toBe('Ada, book a demo');
    const { contacts } = await t.read<{ contacts: Array<{ id: string }> }>('/api/contacts?email=ada%40example.com');
    expect(toAda[0]!.text).toContain(
      `Hi Ada,\nyou look like a fit (A1). Pick a time: https://example.com/demo?c=${contacts[0]!.id}`,
    );
    const alert = smtp.mails.filter((m) => m.to.includes('rep-of-ada@example.com'));
    expect(alert).toHaveLength(1);
    expect(alert[0]!.subject).toBe('Hot lead: ada@example.com (60 points)');
    expect(alert[0]!.text).toContain('Ada crossed the threshold; owner rep-of-ada@example.com.');
    // A permanent SMTP refusal (550) fails the delivery at once, without retries.
    const bounced = (await deliveries()).find((d) => d.user_id === 'ada' && d.target.includes('bounce@'));
    expect(bounced).toMatchObject({ status: 'failed' });
    expect(bounced!.last_error).toMatch(/550/);
  });

  it('never sends marketing email without consent or after unsubscribing; alerts still go out', async () => {
    await lead('bob', { first_name: 'Bob' });
    await lead('cy', { first_name: 'Cy', marketing_consent: true, unsubscribed: true });
    await worker.runOnce();
    expect(smtp.mails.some((m) => m.to.includes('bob@example.com') || m.to.includes('cy@example.com'))).toBe(false);
    expect(smtp.mails.filter((m) => m.to.includes('rep-of-bob@example.com'))).toHaveLength(1);
    const skipped = (await deliveries()).filter((d) => d.target.includes('"contact"') && d.user_id !== 'ada');
    expect(skipped.map((d) => [d.user_id, d.status, d.last_error])).toEqual(
      expect.arrayContaining([
        ['bob', 'skipped', 'no marketing consent recorded (trait marketing_consent or email_consent)'],
        ['cy', 'skipped', 'the contact unsubscribed'],
      ]),
    );
  });

  it("holds marketing email until the send window opens in the contact's own time zone", async () => {
    await lead('dee', { first_name: 'Dee', marketing_consent: true, timezone: outside.zone });
    const now = Date.now();
    await worker.runOnce(now);
    expect(smtp.mails.some((m) => m.to.includes('dee@example.com'))).toBe(false);
    const held = (await deliveries()).find((d) => d.user_id === 'dee' && d.target.includes('"contact"'))!;
    expect(held.status).toBe('pending');
    expect(held.last_error).toBe(`held for the send window (${outside.zone})`);
    // 09:00 local in that zone, the next time it comes.
    const local = new Date(Number(held.next_at) + outside.offset * 3600_000);
    expect([local.getUTCHours(), local.getUTCMinutes()]).toEqual([9, 0]);
    expect(Number(held.next_at)).toBeGreaterThan(now);
    expect(Number(held.next_at) - now).toBeLessThan(24 * 3600_000);
    // The alert to the owner is not marketing: it went out at once.
    expect(smtp.mails.filter((m) => m.to.includes('rep-of-dee@example.com'))).toHaveLength(1);
  });

  it('escapes contact fields in HTML (they come from form data)', async () => {
    await lead('eve', { first_name: '<i>Eve</i>', marketing_consent: true, timezone: inside.zone });
    await worker.runOnce();
    const mail = smtp.mails.find((m) => m.to.includes('eve@example.com'))!;
    expect(mail.raw).toContain('<p>Hi &lt;i&gt;Eve&lt;&#x2F;i&gt;</p>');
    expect(mail.subject).toBe('<i>Eve</i>, book a demo');
  });
});
