import { ByteWriter } from './byte-buffer.js';

/** What an event digest keeps of an event: what rules test on the contact index of events, and its time. */
export interface DigestEvent {
  type: string;
  name: string | null;
  path: string | null;
  at: number;
}

/**
 * A contact's events in a compact form (`encodeEventDigest`): the distinct texts as a JSON array, and the events as
 * bytes that number them.
 */
export interface EventDigest {
  terms: string;
  data: Uint8Array;
}

/**
 * A contact's events, in the order given, as an event digest: each distinct type, name and path once (`terms`), and
 * per event its time as the difference from the event before (a zigzag varint; the first from 0) and its type, name
 * and path as varints numbering the terms from 1 (0: null). The contact index of events holds about 90 bytes per
 * event; a digest holds 13 on the scoring bench's data, so a rescore reads a row per contact instead of stepping
 * through every event of it (bench/RESULTS.md). Written by hand for the same reason as the change log
 * (`encodeChangeLog`): four varints per event.
 * @example decodeEventDigest(encodeEventDigest(events), visit) // visits each event in order
 */
export function encodeEventDigest(events: readonly DigestEvent[]): EventDigest {
  const terms: string[] = [];
  const numbers = new Map<string, number>();
  const term = (text: string | null) => {
    if (text === null) return 0;
    let n = numbers.get(text);
    if (n === undefined) {
      terms.push(text);
      n = terms.length;
      numbers.set(text, n);
    }
    return n;
  };
  const out = new ByteWriter();
  let previous = 0;
  for (const e of events) {
    // A time is an integer of milliseconds; anything else is a bug upstream, not a value to round.
    if (!Number.isSafeInteger(e.at)) throw new Error(`event digest: time ${e.at} is not an integer of milliseconds`);
    out.integer(e.at - previous);
    previous = e.at;
    out.varint(term(e.type));
    out.varint(term(e.name));
    out.varint(term(e.path));
  }
  return { terms: JSON.stringify(terms), data: out.done() };
}

/**
 * Calls `visit` with each event of a digest, in its order: its type, name, path and time, and a number for its
 * combination of type, name and path (`key`), so a caller can decide once per distinct combination (-1 where the
 * digest has too many terms to number them so). A damaged digest (cut off, a number beyond the terms) is an error.
 * The bytes are read here, not through `ByteReader`: each varint of one byte (a term's number, but in digests of over
 * 127 terms) in place, a longer one (most times' steps) by `longVarint`. A rescore decodes every contact's digest, and
 * so it took a quarter less time (50,000 of the scoring bench's digests: 79-81 ms against 107-111 ms).
 */
export function decodeEventDigest(
  digest: EventDigest,
  visit: (type: string, name: string | null, path: string | null, at: number, key: number) => void,
): void {
  const terms = JSON.parse(digest.terms) as string[];
  const size = terms.length + 1;
  // The combination's number stays exact up to about 200,000 terms; a digest with more gives -1 (no number).
  const keyed = size <= 200_000;
  const bytes = digest.data;
  const end = bytes.length;
  let i = 0;
  let at = 0;
  while (i < end) {
    // The step from the event before, a zigzag varint (`ByteWriter.integer`).
    let z = bytes[i++]!;
    if (z >= 0x80) {
      z = longVarint(bytes, i - 1);
      i = longEnd;
    }
    at += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    if (i + 3 > end) throw new Error('event digest: cut off');
    let t = bytes[i++]!;
    if (t >= 0x80) {
      t = longVarint(bytes, i - 1);
      i = longEnd;
    }
    if (i >= end) throw new Error('event digest: cut off');
    let n = bytes[i++]!;
    if (n >= 0x80) {
      n = longVarint(bytes, i - 1);
      i = longEnd;
    }
    if (i >= end) throw new Error('event digest: cut off');
    let p = bytes[i++]!;
    if (p >= 0x80) {
      p = longVarint(bytes, i - 1);
      i = longEnd;
    }
    if (t === 0 || t >= size || n >= size || p >= size) {
      throw new Error('event digest: an event names a term that is not listed');
    }
    const key = keyed ? (t * size + n) * size + p : -1;
    visit(terms[t - 1]!, n === 0 ? null : terms[n - 1]!, p === 0 ? null : terms[p - 1]!, at, key);
  }
}

/** Where the varint `longVarint` read last ended. */
let longEnd = 0;

/**
 * A varint of more than one byte from `from`, read as `ByteReader.varint` reads one (the same limit and errors), on
 * the bytes themselves; where it ends in `longEnd`.
 */
function longVarint(bytes: Uint8Array, from: number): number {
  let n = 0;
  let scale = 1;
  let i = from;
  for (;;) {
    if (i >= bytes.length) throw new Error('event digest: cut off');
    const b = bytes[i++]!;
    n += (b & 0x7f) * scale;
    if (b < 0x80) {
      longEnd = i;
      return n;
    }
    scale *= 0x80;
    if (scale > 2 ** 56) throw new Error('event digest: a number is too long');
  }
}
