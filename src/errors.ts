/** Every error Kerma reports to a client or a CLI user has one of these codes; `server/error-status.ts` maps them to HTTP. */
export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'invalid_config'
  | 'invalid_input';

/**
 * An expected failure with a code and a message meant for the person who caused it.
 * @example throw new KermaError('not_found', 'no contact with id "c_123" in this workspace')
 */
export class KermaError extends Error {
  override readonly name = 'KermaError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
