import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  text: string;
}

/** Unfolds headers and decodes quoted-printable text, enough to assert on what nodemailer sent (tests keep '=' out of HTML). */
function parseMail(raw: string): { subject: string; text: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = head.replace(/\r?\n[ \t]+/g, ' ');
  const subject = /^Subject: (.*)$/im.exec(headers)?.[1] ?? '';
  let body = rest.join('\n\n');
  if (/Content-Transfer-Encoding: quoted-printable/i.test(raw)) {
    body = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  }
  return { subject, text: body.replace(/\r\n/g, '\n') };
}

/** Starts the SMTP sink as its own process and collects what it receives. */
export async function startSmtpSink(): Promise<{ url: string; mails: ReceivedMail[]; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [join(import.meta.dirname, 'smtp-sink.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const mails: ReceivedMail[] = [];
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`SMTP sink exited with ${code}`)));
    lines.on('line', (line) => {
      const message = JSON.parse(line) as { port?: number } & Omit<ReceivedMail, 'subject' | 'text'>;
      if (message.port) resolve(message.port);
      else mails.push({ ...message, ...parseMail(message.raw) });
    });
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
