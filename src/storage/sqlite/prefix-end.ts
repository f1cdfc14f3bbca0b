/**
 * The least text above every text that starts with `prefix` in SQLite's byte order (UTF-8 keeps code point order):
 * the prefix with its last code point raised by one. Null where there is none (an empty prefix, or one ending in
 * the last code point).
 * @example prefixEnd('/pricing') // '/pricinh'
 */
export function prefixEnd(prefix: string): string | null {
  const last = prefix.codePointAt(prefix.length - 1);
  if (last === undefined) return null;
  // The last code point, and where it starts (a code point above U+FFFF takes two UTF-16 units).
  const lead = last >= 0xdc00 && last <= 0xdfff ? prefix.codePointAt(prefix.length - 2) : undefined;
  const [point, start] = lead !== undefined && lead > 0xffff ? [lead, prefix.length - 2] : [last, prefix.length - 1];
  // A lone surrogate is not valid text; no range is safe for it.
  if ((point >= 0xd800 && point <= 0xdfff) || point === 0x10ffff) return null;
  // The surrogate range holds no code points of valid text: the next after U+D7FF is U+E000.
  const next = point === 0xd7ff ? 0xe000 : point + 1;
  return prefix.slice(0, start) + String.fromCodePoint(next);
}
