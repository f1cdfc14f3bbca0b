import { gunzipSync } from 'node:zlib';
import { KermaError } from '../errors.js';

/**
 * The request body as text: gunzipped when the client says so (RudderStack and PostHog do), whatever Content-Type
 * claims, and refused with 413 past `limit` decoded bytes (which also stops gzip bombs).
 */
export function readBody(raw: unknown, gzip: boolean, limit: number): string {
  const buffer = Buffer.isBuffer(raw) ? raw : typeof raw === 'string' ? Buffer.from(raw) : Buffer.alloc(0);
  let decoded = buffer;
  if (gzip || (buffer.length > 2 && buffer[0] === 0x1f && buffer[1] === 0x8b)) {
    try {
      decoded = gunzipSync(buffer, { maxOutputLength: limit + 1 });
    } catch (error) {
      if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new KermaError(
          'payload_too_large',
          `request body is over ${limit} bytes once decompressed; the limit is ${limit} bytes per batch`,
        );
      }
      throw new KermaError('bad_request', `request body is not valid gzip: ${(error as Error).message}`);
    }
  }
  if (decoded.length > limit) {
    throw new KermaError(
      'payload_too_large',
      `request body is ${decoded.length} bytes; the limit is ${limit} bytes per batch`,
    );
  }
  return decoded.toString('utf8');
}

/** Drops NUL characters from string values: PostgreSQL text cannot hold them, and no client means them. */
const withoutNul = (_key: string, value: unknown) =>
  typeof value === 'string' ? value.replaceAll('\u0000', '') : value;

/** JSON.parse with a 400 that says where the JSON broke. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new KermaError('invalid_json', 'request body is empty; expected a JSON object');
  try {
    // The reviver costs a walk of the whole body, so only bodies that hold an escaped NUL get it.
    return text.includes('\\u0000') ? JSON.parse(text, withoutNul) : JSON.parse(text);
  } catch (error) {
    throw new KermaError('invalid_json', `request body is not valid JSON: ${(error as Error).message}`);
  }
}
