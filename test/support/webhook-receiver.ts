import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  timestamp: number;
  body: { type: string; data: Record<string, unknown> & { trigger: string; contactId: string } };
  at: number;
}

/**
 * A real HTTP receiver that verifies every request with the `standardwebhooks` package (a bad signature is a 401 and
 * is recorded as such). `answer` decides the response; `down()` stops listening, `up()` listens again on the same port.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly rejected: string[] = [];
  answer: (r: Received) => { status: number; headers?: Record<string, string> } = () => ({ status: 204 });
  /** How long each answer takes, as a real endpoint's would. */
  delayMs = 0;
  private server: Server | null = null;
  private port = 0;
  secret = '';

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/kerma`;
  }

  async up(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const payload = Buffer.concat(chunks).toString('utf8');
        try {
          const body = new Webhook(this.secret).verify(payload, request.headers as Record<string, string>);
          const r: Received = {
            id: String(request.headers['webhook-id']),
            timestamp: Number(request.headers['webhook-timestamp']),
            body: body as Received['body'],
            at: Date.now(),
          };
          const { status, headers } = this.answer(r);
          if (status >= 200 && status < 300) this.received.push(r);
          setTimeout(() => response.writeHead(status, headers).end(), this.delayMs);
        } catch (error) {
          this.rejected.push((error as Error).message);
          response.writeHead(401).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
