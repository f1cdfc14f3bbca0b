// Ids that broken integrations send for everyone; merging on them would fuse strangers into one contact (PostHog's list).
const PLACEHOLDERS = new Set([
  '',
  'anonymous',
  'guest',
  'distinctid',
  'distinct_id',
  'id',
  'not_authenticated',
  'email',
  'undefined',
  'true',
  'false',
  'null',
  '0',
  'nan',
  'none',
  '[object object]',
  'user',
  'userid',
  'user_id',
  '-1',
]);

/**
 * True for ids that must never be used to identify or merge anyone.
 * @example isPlaceholderId('undefined') // true
 */
export function isPlaceholderId(id: string): boolean {
  return PLACEHOLDERS.has(id.trim().toLowerCase());
}
