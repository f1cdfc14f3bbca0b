import { ByteReader, ByteWriter, isInteger } from './byte-buffer.js';
import type { ScoreChange } from './scoring-event.js';

// Each change's rule number, kept from contact to contact (one encoding at a time per thread), not made per contact.
let ruleScratch = new Int32Array(1_024);

/**
 * A contact's score changes in a compact binary form: what a full rescore stores beside each score instead of one
 * row per change. Each rule is named once (its id, kind, group, half-life and usual points); a change is then its
 * rule's number, its event id where it has one (a canonical UUID in 16 bytes; a rescore reads none, and its
 * explanations name the events again: `assignChangeEvents`) and its time as the difference from the change before,
 * with its points only where they differ from the rule's usual ones. It takes less than half the room of the JSON
 * it replaces (`packed_changes`), which was the largest part of what a rescore writes. Written by hand: the layout is a
 * few varints and strings, and a general serialiser (MessagePack, protobuf) would store every key or need a schema.
 *
 * Layout (numbers little-endian; a varint is seven bits a byte, low first; an integer is a zigzag varint; a string a
 * varint byte length and UTF-8):
 * - format byte 1, then the rule count (varint);
 * - per rule: its id; a flags byte (1 engagement, 2 group named otherwise than its kind, 4 no half-life, 8 half-life
 *   as a float64, 16 usual points as a float64); the group if flagged; the half-life (integer or float64) unless
 *   none; the usual points (integer or float64);
 * - the change count (varint), then per change a varint of rule number × 16 + flags (1 points as a float64, 2 event
 *   id as a string, 4 event id as a UUID in 16 bytes, 8 time as a float64 instead of an integer difference), then
 *   those fields in that order, and the time.
 * @example decodeChangeLog(encodeChangeLog(changes)) // deep-equals changes
 */
export function encodeChangeLog(changes: readonly ScoreChange[]): Uint8Array {
  const out = new ByteWriter();
  out.byte(FORMAT);
  const rules: ScoreChange[] = [];
  if (ruleScratch.length < changes.length)
    ruleScratch = new Int32Array(Math.max(changes.length, 2 * ruleScratch.length));
  const ruleOf = ruleScratch;
  // A contact's changes come from few rules: a search of those named so far, newest first, costs less than the maps
  // it replaced, which were made for every contact. A change names a new rule where it differs from the last of
  // that id in kind, group or half-life.
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    let n = rules.length - 1;
    while (n >= 0 && (rules[n]!.ruleId !== c.ruleId || rules[n]!.kind !== c.kind)) n--;
    if (n < 0 || rules[n]!.group !== c.group || rules[n]!.halfLifeDays !== c.halfLifeDays) {
      n = rules.length;
      rules.push(c);
    }
    ruleOf[i] = n;
  }
  out.varint(rules.length);
  for (const r of rules) {
    out.text(r.ruleId);
    const flags =
      (r.kind === 'engagement' ? RULE_ENGAGEMENT : 0) |
      (r.group === r.kind ? 0 : RULE_GROUP) |
      (r.halfLifeDays === null ? RULE_NO_HALF_LIFE : isInteger(r.halfLifeDays) ? 0 : RULE_HALF_LIFE_FLOAT) |
      (isInteger(r.points) ? 0 : RULE_POINTS_FLOAT);
    out.byte(flags);
    if (flags & RULE_GROUP) out.text(r.group);
    if (r.halfLifeDays !== null) out.number(r.halfLifeDays, (flags & RULE_HALF_LIFE_FLOAT) !== 0);
    out.number(r.points, (flags & RULE_POINTS_FLOAT) !== 0);
  }
  out.varint(changes.length);
  let previous = 0;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    const n = ruleOf[i]!;
    const step = c.at - previous;
    const uuid = c.eventId !== null && isUuid(c.eventId);
    const flags =
      (Object.is(c.points, rules[n]!.points) ? 0 : POINTS) |
      (c.eventId === null ? 0 : uuid ? EVENT_UUID : EVENT_TEXT) |
      // The difference only where adding it back gives the very same time (not for -0 or rounded sums).
      (isInteger(step) && previous + step === c.at && !Object.is(c.at, -0) ? 0 : TIME_FLOAT);
    out.varint(n * 16 + flags);
    if (flags & POINTS) out.float(c.points);
    if (uuid) out.uuid(c.eventId!);
    else if (c.eventId !== null) out.text(c.eventId);
    if (flags & TIME_FLOAT) out.float(c.at);
    else out.integer(step);
    previous = c.at;
  }
  return out.done();
}

/** The changes of `encodeChangeLog`, in order; an unknown format or a cut-off value is an error (a bug or damage). */
export function decodeChangeLog(bytes: Uint8Array): ScoreChange[] {
  const from = new ByteReader(bytes, 'change log');
  const format = from.byte();
  if (format !== FORMAT) throw new Error(`change log: unknown format ${format}`);
  const rules: Array<Omit<ScoreChange, 'eventId' | 'at'>> = [];
  for (let n = from.varint(); n > 0; n--) {
    const ruleId = from.text();
    const flags = from.byte();
    const kind = flags & RULE_ENGAGEMENT ? 'engagement' : 'fit';
    const group = flags & RULE_GROUP ? from.text() : kind;
    const halfLifeDays = flags & RULE_NO_HALF_LIFE ? null : from.number((flags & RULE_HALF_LIFE_FLOAT) !== 0);
    rules.push({ ruleId, kind, group, halfLifeDays, points: from.number((flags & RULE_POINTS_FLOAT) !== 0) });
  }
  const changes: ScoreChange[] = [];
  let previous = 0;
  for (let n = from.varint(); n > 0; n--) {
    const head = from.varint();
    const rule = rules[Math.floor(head / 16)];
    if (!rule) throw new Error('change log: a change names a rule that is not listed');
    const flags = head % 16;
    const points = flags & POINTS ? from.float() : rule.points;
    const eventId = flags & EVENT_UUID ? from.uuid() : flags & EVENT_TEXT ? from.text() : null;
    const at = flags & TIME_FLOAT ? from.float() : previous + from.integer();
    previous = at;
    changes.push({ ...rule, points, eventId, at });
  }
  if (!from.atEnd()) throw new Error('change log: bytes left after the last change');
  return changes;
}

const FORMAT = 1;
const RULE_ENGAGEMENT = 1;
const RULE_GROUP = 2;
const RULE_NO_HALF_LIFE = 4;
const RULE_HALF_LIFE_FLOAT = 8;
const RULE_POINTS_FLOAT = 16;
const POINTS = 1;
const EVENT_TEXT = 2;
const EVENT_UUID = 4;
const TIME_FLOAT = 8;

/** A lower-case UUID in its canonical 8-4-4-4-12 form, the only one that comes back from 16 bytes as it was. */
function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}
