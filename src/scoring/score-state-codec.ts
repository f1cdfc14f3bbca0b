import { ByteReader, ByteWriter } from './byte-buffer.js';
import type { DecayBucket, RuleCount, ScoreState } from './score-state.js';
import type { LeadCategory, LeadStatus } from './scoring-model.js';

/**
 * A contact's score state in a compact binary form, as `contact_scores.state` stores it: about a third of the room of
 * its JSON, and made without formatting a float as text. A rescore writes a state per contact, and the JSON (about
 * 390 bytes a contact on the scoring bench) was the largest part of what it wrote (bench/RESULTS.md). Written by
 * hand, as the change log is (`encodeChangeLog`): a general serialiser would store every key or need a schema.
 *
 * Layout (a varint is seven bits a byte, low first; a string a varint byte length and UTF-8; a number is tagged,
 * `ByteWriter.tagged`: a varint of twice its zigzag form when it is an integer below 2^51 in size, else the byte 1
 * and a little-endian float64):
 * - format byte 1 (a stored JSON state starts with `{`, byte 123, and stays readable: `decodeScoreState`);
 * - a flags byte (1 category, 2 grade, 4 status), then `lastEventAt` and the flagged texts in that order;
 * - the fit rules: a varint count, then per rule its id and points (the counts and the arming below likewise);
 * - the buckets: a varint count, then per bucket its group, a byte (1 when it has a half-life) and the half-life,
 *   its value as a float64 and its time;
 * - the counts: a varint count, then per rule its id, `ever`, `day`, `inDay`, `week` and `inWeek`;
 * - the triggers' arming: a varint count, then per trigger its id and a byte (1 armed).
 * @example decodeScoreState(encodeScoreState(state)) // deep-equals state
 */
export function encodeScoreState(state: ScoreState): Uint8Array {
  const out = new ByteWriter();
  out.byte(FORMAT);
  out.byte(
    (state.category === null ? 0 : HAS_CATEGORY) |
      (state.grade === null ? 0 : HAS_GRADE) |
      (state.status === null ? 0 : HAS_STATUS),
  );
  out.tagged(state.lastEventAt);
  if (state.category !== null) out.text(state.category);
  if (state.grade !== null) out.text(state.grade);
  if (state.status !== null) out.text(state.status);
  putRecord(out, state.fit, (points) => out.tagged(points));
  out.varint(state.buckets.length);
  for (const b of state.buckets) {
    out.text(b.group);
    if (b.halfLifeDays === null) out.byte(0);
    else {
      out.byte(1);
      out.tagged(b.halfLifeDays);
    }
    out.float(b.value);
    out.tagged(b.at);
  }
  putRecord(out, state.counts, (c) => {
    out.tagged(c.ever);
    out.text(c.day);
    out.tagged(c.inDay);
    out.text(c.week);
    out.tagged(c.inWeek);
  });
  putRecord(out, state.armed, (armed) => out.byte(armed ? 1 : 0));
  return out.done();
}

/**
 * A stored state: the binary form of `encodeScoreState`, or the JSON that rows written before it hold (text, or
 * its UTF-8 bytes where PostgreSQL's column became `bytea`).
 */
export function decodeScoreState(stored: string | Uint8Array): ScoreState {
  if (typeof stored === 'string') return JSON.parse(stored) as ScoreState;
  if (stored[0] === JSON_START) return JSON.parse(decoder.decode(stored)) as ScoreState;
  const input = new ByteReader(stored, 'score state');
  const format = input.byte();
  if (format !== FORMAT) throw new Error(`score state: unknown format ${format}`);
  const flags = input.byte();
  const lastEventAt = input.tagged();
  const category = flags & HAS_CATEGORY ? (input.text() as LeadCategory) : null;
  const grade = flags & HAS_GRADE ? input.text() : null;
  const status = flags & HAS_STATUS ? (input.text() as LeadStatus) : null;
  const fit = getRecord(input, () => input.tagged());
  const buckets: DecayBucket[] = [];
  for (let n = input.varint(); n > 0; n--) {
    const group = input.text();
    const halfLifeDays = input.byte() === 1 ? input.tagged() : null;
    buckets.push({ group, halfLifeDays, value: input.float(), at: input.tagged() });
  }
  const counts = getRecord(
    input,
    (): RuleCount => ({
      ever: input.tagged(),
      day: input.text(),
      inDay: input.tagged(),
      week: input.text(),
      inWeek: input.tagged(),
    }),
  );
  const armed = getRecord(input, () => input.byte() === 1);
  if (!input.atEnd()) throw new Error('score state: bytes left over');
  return { fit, buckets, counts, category, lastEventAt, armed, grade, status };
}

const FORMAT = 1;
const JSON_START = 0x7b;
const HAS_CATEGORY = 1;
const HAS_GRADE = 2;
const HAS_STATUS = 4;

/** A record keyed by rule or trigger id: its size, then each id and its value (`put`). */
function putRecord<T>(out: ByteWriter, record: Record<string, T>, put: (value: T) => void): void {
  const ids = Object.keys(record);
  out.varint(ids.length);
  for (const id of ids) {
    out.text(id);
    put(record[id]!);
  }
}

function getRecord<T>(input: ByteReader, get: () => T): Record<string, T> {
  const record: Record<string, T> = {};
  for (let n = input.varint(); n > 0; n--) {
    const id = input.text();
    record[id] = get();
  }
  return record;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
