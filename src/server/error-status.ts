import type { ErrorCode } from '../errors.js';

/** The one map from error code to HTTP status. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_json: 400,
  invalid_input: 400,
  invalid_config: 500,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};
