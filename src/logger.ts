import { type Logger, pino } from 'pino';

/** pino to stderr; keys and auth headers are redacted wherever they appear in a logged object. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          '*.authorization',
          '*.writeKey',
          '*.secretKey',
          '*.api_key',
          'headers.authorization',
          'req.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
