import { Webhook } from 'standardwebhooks';
import { parseRetryAfter } from './retry-schedule.js';

/** What one delivery attempt came to. */
export type AttemptOutcome =
  | { kind: 'delivered'; statusCode: number }
  /** The receiver said the endpoint is gone (410): disable it. */
  | { kind: 'gone'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; error: string; retryAfterMs: number | null }
  | { kind: 'failed'; statusCode: number | null; error: string };

const TIMEOUT_MS = 10_000;
const USER_AGENT = 'Kerma-Webhooks/1';

/**
 * POSTs one message signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`:
 * `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the `whsec_` secret). 2xx is delivered; 410 is gone; any
 * other answer or a network error is retried, honouring Retry-After.
 */
export async function sendWebhook(
  url: string,
  secret: string,
  messageId: string,
  body: string,
  now: Date = new Date(),
): Promise<AttemptOutcome> {
  const signature = new Webhook(secret).sign(messageId, now, body);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const message =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${TIMEOUT_MS / 1000} s`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    return { kind: 'retry', statusCode: null, error: message, retryAfterMs: null };
  }
  // The body is not needed; drain it so the connection is reused.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 200 && response.status < 300) return { kind: 'delivered', statusCode: response.status };
  if (response.status === 410) return { kind: 'gone', statusCode: 410 };
  return {
    kind: 'retry',
    statusCode: response.status,
    error: `HTTP ${response.status}`,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), now.getTime()),
  };
}
