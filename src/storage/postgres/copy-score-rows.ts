import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ContactScoresTable } from '../database-schema.js';
import { CONTACT_SCORE_COLUMNS } from './contact-score-columns.js';
import type { Column } from './unnest-insert.js';

const NAMES = CONTACT_SCORE_COLUMNS.map(([name]) => name as keyof ContactScoresTable);
const KINDS = CONTACT_SCORE_COLUMNS.map(([, type]) => type);
const COPY_SQL = `copy contact_scores (${NAMES.map((n) => `"${n}"`).join(', ')}) from stdin (format binary)`;

/** Rows per buffer handed to the stream: about 1 MB of a rescore's rows. */
const ROWS_PER_BUFFER = 2_000;

/**
 * Stores contact_scores rows with one binary `COPY` on a connection of its own, outside any transaction (a rescore's
 * pages, before the switch). A multi-row INSERT of the same rows makes the server parse 26,000 parameters per 2,000
 * rows, and the text form of COPY would write every state and change log as hex; binary COPY sends the bytes as they
 * are. Written by hand: the format is a header, then per row a field count and each value's length and bytes, and the
 * binary COPY package for `pg` goes through an object stream per row.
 * @example await copyScoreRows(pool, page.scores)
 */
export async function copyScoreRows(pool: pg.Pool, rows: readonly ContactScoresTable[]): Promise<void> {
  if (rows.length === 0) return;
  const client = await pool.connect();
  try {
    await pipeline(Readable.from(copyBuffers(rows)), client.query(copyFrom(COPY_SQL)));
  } catch (error) {
    // A connection whose COPY failed half-way is closed, not handed to anyone else.
    client.release(error instanceof Error ? error : true);
    throw error;
  }
  client.release();
}

/** The rows in PostgreSQL's binary COPY format: the header, the rows a buffer at a time, the trailer. */
function* copyBuffers(rows: readonly ContactScoresTable[]): Generator<Buffer> {
  const header = new CopyWriter(19);
  header.bytes(SIGNATURE);
  header.int32(0); // flags: no OIDs
  header.int32(0); // no header extension
  yield header.done();
  for (let i = 0; i < rows.length; i += ROWS_PER_BUFFER) {
    const out = new CopyWriter(1 << 20);
    const end = Math.min(i + ROWS_PER_BUFFER, rows.length);
    for (let r = i; r < end; r++) {
      const row = rows[r]!;
      out.int16(NAMES.length);
      for (let c = 0; c < NAMES.length; c++) out.field(KINDS[c]!, row[NAMES[c]!] ?? null);
    }
    yield out.done();
  }
  const trailer = new CopyWriter(2);
  trailer.int16(-1);
  yield trailer.done();
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** A growing buffer of big-endian values, as binary COPY takes them. */
class CopyWriter {
  private buffer: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  int16(n: number): void {
    this.room(2);
    this.at = this.buffer.writeInt16BE(n, this.at);
  }

  int32(n: number): void {
    this.room(4);
    this.at = this.buffer.writeInt32BE(n, this.at);
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buffer.set(b, this.at);
    this.at += b.length;
  }

  /** One value: its length (-1 for null) and its bytes in the column's binary form. */
  field(kind: Column[1], value: unknown): void {
    if (value === null) {
      this.int32(-1);
      return;
    }
    switch (kind) {
      case 'text': {
        const text = String(value);
        const length = Buffer.byteLength(text, 'utf8');
        this.int32(length);
        this.room(length);
        this.at += this.buffer.write(text, this.at, 'utf8');
        break;
      }
      case 'bytea': {
        // A state stored as JSON before the binary form is text; its column takes the UTF-8 bytes.
        const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : (value as Uint8Array);
        this.int32(bytes.length);
        this.bytes(bytes);
        break;
      }
      case 'integer':
        this.int32(4);
        this.int32(integer(value, 2 ** 31));
        break;
      case 'bigint':
        this.int32(8);
        this.room(8);
        this.at = this.buffer.writeBigInt64BE(BigInt(integer(value, 2 ** 63)), this.at);
        break;
      case 'double precision':
        this.int32(8);
        this.room(8);
        this.at = this.buffer.writeDoubleBE(Number(value), this.at);
        break;
    }
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + n));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}

/** An integer column's value; anything else is a bug upstream, not a value to round. */
function integer(value: unknown, limit: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < -limit || n >= limit) {
    throw new Error(`contact_scores COPY: ${String(value)} is not an integer the column holds`);
  }
  return n;
}
