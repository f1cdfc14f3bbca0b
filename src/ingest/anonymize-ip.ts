import { isIP } from 'node:net';

/**
 * Truncates an IP before storage, as Google Analytics did: IPv4 last octet zeroed, IPv6 keeps its first 48 bits.
 * @example anonymizeIp('203.0.113.7') // '203.0.113.0'
 */
export function anonymizeIp(ip: string): string | null {
  const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const kind = isIP(plain);
  if (kind === 4) return plain.replace(/\.\d+$/, '.0');
  if (kind === 6) {
    const head = plain.split('::')[0]!.split(':');
    const groups = [...head, '0', '0', '0'].slice(0, 3);
    return `${groups.join(':')}::`;
  }
  return null;
}
