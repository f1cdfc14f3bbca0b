import { createHash, randomBytes } from 'node:crypto';

export type KeyKind = 'write' | 'secret';

/** Keys are long random strings, so a fast hash is enough: no one can guess one to test against the hash. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(kind: KeyKind): string {
  return `${kind === 'write' ? 'wk' : 'sk'}_${randomBytes(kind === 'write' ? 18 : 32).toString('base64url')}`;
}
