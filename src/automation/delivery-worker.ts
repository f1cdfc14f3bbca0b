import { hostname } from 'node:os';
import { type Kysely, PostgresAdapter, type Selectable, sql } from 'kysely';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { isValidTimeZone } from '../ingest/local-day.js';
import type { Database, DeliveriesTable } from '../storage/database-schema.js';
import { newId } from '../storage/ingest-rows.js';
import { loadEmailTemplate, renderEmail } from './email-templates.js';
import type { ContactSnapshot, WebhookMessage } from './fan-out-outbox.js';
import { fanOutOutbox } from './fan-out-outbox.js';
import { marketingConsent } from './marketing-consent.js';
import { DEFAULT_RETRY_SCHEDULE_MS, nextAttemptAt } from './retry-schedule.js';
import { type AttemptOutcome, sendWebhook } from './send-webhook.js';
import { nextSendTime } from './send-window.js';
import { findWebhookEndpoint, setWebhookEnabled } from './webhook-endpoints.js';

export interface DeliveryWorkerOptions {
  smtpUrl: string | null;
  emailFrom: string;
  emailSendWindow: { start: number; end: number };
  logger: Logger;
  retrySchedule?: readonly number[];
  random?: () => number;
  /** Deliveries attempted at once. */
  concurrency?: number;
}

type Delivery = Selectable<DeliveriesTable>;

/** Outcome of one attempt, including what is not an attempt: an email held for its send window, or skipped. */
type Step = AttemptOutcome | { kind: 'hold'; until: number; reason: string } | { kind: 'skipped'; reason: string };

/** What a step says in the delivery and its log: null when delivered. */
function stepMessage(step: Step): string | null {
  switch (step.kind) {
    case 'delivered':
      return null;
    case 'hold':
      return step.reason;
    case 'gone':
      return 'the receiver answered 410 Gone; endpoint disabled';
    case 'skipped':
      return step.reason;
    default:
      return step.error;
  }
}

/** A lease longer than any attempt (webhook timeout 10 s, SMTP's own): a crashed worker's claims come back after it. */
const LEASE_MS = 120_000;
const ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Delivers what triggers fired: fans the outbox out into deliveries, claims due ones (one statement; on PostgreSQL
 * `FOR UPDATE SKIP LOCKED`, so with several Kerma processes each delivery is claimed by one), attempts each, and
 * records the attempt in the delivery log. Webhooks retry on a schedule with jitter, honour Retry-After, and a 410
 * disables the endpoint. Email to a contact is marketing: only with consent, never after unsubscribing, and held until
 * the send window opens in the contact's time zone.
 */
export class DeliveryWorker {
  readonly id = `${hostname()}:${process.pid}:${newId('w').slice(2, 10)}`;
  private transport: Transporter | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly zones = new Map<string, string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: DeliveryWorkerOptions,
  ) {}

  /** One pass: fan out, then claim and attempt due deliveries until none are left. Returns attempts made. */
  async runOnce(now = Date.now()): Promise<number> {
    await fanOutOutbox(this.db, now);
    let attempted = 0;
    const batch = this.options.concurrency ?? 8;
    for (;;) {
      const claimed = await this.claim(Date.now(), batch);
      if (claimed.length === 0) return attempted;
      await Promise.all(claimed.map((d) => this.process(d)));
      attempted += claimed.length;
    }
  }

  /** Runs a pass every `intervalMs` until stopped; a failing pass is logged and the next one tries again. */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    const tick = () => {
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'delivery pass failed; retrying'))
        .finally(() => {
          this.running = null;
          if (this.timer) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    this.transport?.close();
  }

  private async claim(now: number, limit: number): Promise<Delivery[]> {
    const postgres = this.db.getExecutor().adapter instanceof PostgresAdapter;
    const due = sql`status = 'pending' and next_at <= ${now} and (lease_until is null or lease_until < ${now})`;
    const result = await sql<Delivery>`
      update deliveries set lease_until = ${now + LEASE_MS}, claimed_by = ${this.id}
      where (workspace_id, id) in (
        select workspace_id, id from deliveries where ${due} order by next_at limit ${limit}
        ${postgres ? sql`for update skip locked` : sql``}
      ) and ${due}
      returning *`.execute(this.db);
    return result.rows;
  }

  private async process(delivery: Delivery): Promise<void> {
    const started = Date.now();
    let step: Step;
    try {
      step = delivery.channel === 'webhook' ? await this.webhook(delivery) : await this.email(delivery, started);
    } catch (error) {
      this.options.logger.error({ err: error, delivery: delivery.id }, 'delivery attempt failed unexpectedly');
      step = {
        kind: 'retry',
        statusCode: null,
        error: `internal error: ${(error as Error).message}`,
        retryAfterMs: null,
      };
    }
    await this.record(delivery, step, started, Date.now());
  }

  private async webhook(delivery: Delivery): Promise<Step> {
    const endpoint = await findWebhookEndpoint(this.db, delivery.workspace_id, delivery.target);
    if (!endpoint) {
      return {
        kind: 'failed',
        statusCode: null,
        error: `no webhook endpoint named "${delivery.target}"; add it with \`kerma webhooks add ${delivery.target} URL\`, then replay`,
      };
    }
    if (Number(endpoint.enabled) !== 1) {
      return {
        kind: 'failed',
        statusCode: null,
        error: `endpoint "${endpoint.name}" is disabled (${endpoint.disabled_reason ?? 'by hand'})`,
      };
    }
    const outcome = await sendWebhook(endpoint.url, endpoint.secret, delivery.id, delivery.payload);
    if (outcome.kind === 'gone') {
      await setWebhookEnabled(
        this.db,
        delivery.workspace_id,
        endpoint.name,
        false,
        `the receiver answered 410 Gone at ${new Date().toISOString()}`,
      );
    }
    return outcome;
  }

  private async email(delivery: Delivery, now: number): Promise<Step> {
    const { template: name, to } = JSON.parse(delivery.target) as { template: string; to: string };
    const message = JSON.parse(delivery.payload) as WebhookMessage;
    const contact: ContactSnapshot | null = message.data.contact;
    let recipient: string | null;
    if (to === 'contact') {
      if (!contact?.email) return { kind: 'failed', statusCode: null, error: 'the contact has no email address' };
      const consent = marketingConsent(contact.traits);
      if (!consent.ok) return { kind: 'skipped', reason: consent.reason };
      const zone = await this.timeZoneOf(delivery.workspace_id, contact);
      const opens = nextSendTime(now, zone, this.options.emailSendWindow);
      if (opens > now) return { kind: 'hold', until: opens, reason: `held for the send window (${zone})` };
      recipient = contact.email;
    } else if (to === 'owner') {
      recipient = contact?.owner && ADDRESS.test(contact.owner) ? contact.owner : null;
      if (!recipient)
        return { kind: 'failed', statusCode: null, error: 'the contact has no owner with an email address' };
    } else recipient = to;
    const template = await loadEmailTemplate(this.db, delivery.workspace_id, name);
    if (!template) {
      return {
        kind: 'failed',
        statusCode: null,
        error: `no email template named "${name}"; add it with \`kerma templates set ${name} FILE\`, then replay`,
      };
    }
    if (!this.options.smtpUrl)
      return {
        kind: 'retry',
        statusCode: null,
        error: 'no SMTP server configured (KERMA_SMTP_URL)',
        retryAfterMs: null,
      };
    this.transport ??= nodemailer.createTransport(this.options.smtpUrl);
    const rendered = renderEmail(template, { ...message.data, contact, trigger: message.data.trigger });
    try {
      const info = await this.transport.sendMail({
        from: this.options.emailFrom,
        to: recipient,
        subject: rendered.subject,
        text: rendered.text,
        ...(rendered.html ? { html: rendered.html } : {}),
        messageId: `<${delivery.id}@kerma>`,
        headers: { 'X-Kerma-Delivery': delivery.id },
      });
      return { kind: 'delivered', statusCode: Number(/^(\d{3})/.exec(String(info.response))?.[1] ?? 250) };
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode ?? null;
      const text = (error as Error).message;
      // 5xx is the server refusing for good (no such mailbox); anything else may pass later.
      if (code !== null && code >= 500) return { kind: 'failed', statusCode: code, error: text };
      return { kind: 'retry', statusCode: code, error: text, retryAfterMs: null };
    }
  }

  private async timeZoneOf(workspaceId: string, contact: ContactSnapshot): Promise<string> {
    for (const key of ['timezone', 'time_zone', 'tz']) {
      const value = contact.traits[key];
      if (typeof value === 'string' && isValidTimeZone(value)) return value;
    }
    let zone = this.zones.get(workspaceId);
    if (!zone) {
      const row = await this.db
        .selectFrom('workspaces')
        .select('time_zone')
        .where('id', '=', workspaceId)
        .executeTakeFirst();
      zone = row?.time_zone ?? 'UTC';
      this.zones.set(workspaceId, zone);
    }
    return zone;
  }

  /** Writes the attempt's outcome, only while this worker still holds the lease. */
  private async record(delivery: Delivery, step: Step, started: number, finished: number): Promise<void> {
    const attempt = Number(delivery.attempts) + (step.kind === 'hold' ? 0 : 1);
    let set: Partial<DeliveriesTable>;
    switch (step.kind) {
      case 'delivered':
        set = { status: 'delivered', delivered_at: finished };
        break;
      case 'gone':
      case 'failed':
        set = { status: 'failed' };
        break;
      case 'skipped':
        set = { status: 'skipped' };
        break;
      case 'hold':
        set = { next_at: step.until };
        break;
      case 'retry': {
        const next = nextAttemptAt(
          attempt,
          finished,
          step.retryAfterMs,
          this.options.random ?? Math.random,
          this.options.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_MS,
        );
        set = next === null ? { status: 'failed' } : { next_at: next };
        break;
      }
    }
    set.last_error =
      step.kind === 'retry' && set.status === 'failed'
        ? `gave up after ${attempt} attempts: ${step.error}`
        : stepMessage(step);
    await this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('deliveries')
        .set({ ...set, attempts: attempt, lease_until: null, claimed_by: null })
        .where('workspace_id', '=', delivery.workspace_id)
        .where('id', '=', delivery.id)
        .where('claimed_by', '=', this.id)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0 || step.kind === 'hold') return;
      // The log numbers attempts over the delivery's life; `attempts` restarts at 0 when a delivery is replayed.
      const last = await trx
        .selectFrom('delivery_attempts')
        .select((eb) => eb.fn.max('attempt').as('attempt'))
        .where('workspace_id', '=', delivery.workspace_id)
        .where('delivery_id', '=', delivery.id)
        .executeTakeFirst();
      await trx
        .insertInto('delivery_attempts')
        .values({
          workspace_id: delivery.workspace_id,
          delivery_id: delivery.id,
          attempt: Number(last?.attempt ?? 0) + 1,
          at: started,
          status_code: 'statusCode' in step ? step.statusCode : null,
          error: stepMessage(step),
          duration_ms: finished - started,
          worker: this.id,
        })
        .execute();
    });
  }
}
