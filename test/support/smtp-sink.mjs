// A real SMTP server process for email tests (the smtp-server package): accepts every message and prints one JSON
// line per message on stdout: {"from", "to": [...], "raw"}. The first line is {"port": N} once it listens.
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const rcpt = session.envelope.rcptTo.map((r) => r.address);
      if (rcpt.some((a) => a.startsWith('bounce@'))) {
        const error = new Error('mailbox unavailable');
        error.responseCode = 550;
        return callback(error);
      }
      process.stdout.write(
        `${JSON.stringify({ from: session.envelope.mailFrom.address, to: rcpt, raw: Buffer.concat(chunks).toString('utf8') })}\n`,
      );
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`${JSON.stringify({ port: server.server.address().port })}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
