const HEX = '0123456789abcdef';

/** Bytes per slab that `ByteWriter.done` hands values out of. */
const SLAB = 1 << 16;
let slab = new Uint8Array(SLAB);
let slabAt = 0;

/**
 * A growing byte buffer for the binary formats Kerma stores (`encodeChangeLog`, `encodeEventDigest`); one scratch
 * area (and its view) per thread, each value copied out of it into a shared slab (`done`).
 */
export class ByteWriter {
  private static scratch = new Uint8Array(1 << 16);
  private static scratchView = new DataView(ByteWriter.scratch.buffer);
  private bytes = ByteWriter.scratch;
  private view = ByteWriter.scratchView;
  private at = 0;

  byte(b: number): void {
    this.room(1);
    this.bytes[this.at++] = b;
  }

  /** A non-negative integer below 2^53, seven bits a byte, low bits first. */
  varint(n: number): void {
    this.room(8);
    const bytes = this.bytes;
    let at = this.at;
    // Bits above the 31st by division, the rest by shifts: nearly every value written (rule numbers, counts, the
    // steps between times) is below 2^31, and encoding the scoring bench's change logs took 14% less time so.
    while (n > 0x7fffffff) {
      bytes[at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    while (n >= 0x80) {
      bytes[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    bytes[at++] = n;
    this.at = at;
  }

  float(x: number): void {
    this.room(8);
    this.view.setFloat64(this.at, x, true);
    this.at += 8;
  }

  /** An integer (`isInteger`) as a zigzag varint, or any number as a float64. */
  number(x: number, asFloat: boolean): void {
    if (asFloat) this.float(x);
    else this.integer(x);
  }

  integer(x: number): void {
    this.varint(x >= 0 ? x * 2 : -x * 2 - 1);
  }

  /**
   * Any number, saying itself which form it takes: an integer (`isInteger`) as a varint of twice its zigzag form,
   * anything else as the varint 1 and a float64.
   */
  tagged(x: number): void {
    if (isInteger(x)) this.varint(x >= 0 ? x * 4 : -x * 4 - 2);
    else {
      this.byte(TAGGED_FLOAT);
      this.float(x);
    }
  }

  uuid(s: string): void {
    this.room(16);
    for (let i = 0; i < 36; i++) {
      if (i === 8 || i === 13 || i === 18 || i === 23) continue;
      const high = hexValue(s.charCodeAt(i));
      i++;
      this.bytes[this.at++] = high * 16 + hexValue(s.charCodeAt(i));
    }
  }

  text(s: string): void {
    // Ids are short and mostly ASCII: copied by hand, without a native call per string.
    let ascii = s.length < 0x80;
    for (let i = 0; ascii && i < s.length; i++) ascii = s.charCodeAt(i) < 0x80;
    if (ascii) {
      this.room(1 + s.length);
      this.bytes[this.at++] = s.length;
      for (let i = 0; i < s.length; i++) this.bytes[this.at++] = s.charCodeAt(i);
      return;
    }
    const encoded = encoder.encode(s);
    this.varint(encoded.length);
    this.room(encoded.length);
    this.bytes.set(encoded, this.at);
    this.at += encoded.length;
  }

  /**
   * The bytes written, as a view into a slab that many values share (as Node's `Buffer.allocUnsafe` pools small
   * buffers), not an array buffer of their own: a rescore makes two values per contact (state and change log), and
   * an array buffer each is memory allocated outside the heap by both worker threads and freed by the collector.
   * Without them, and without the change log's array of rule numbers per contact (`encodeChangeLog`), the scoring
   * bench's loop of reading, replaying and storing took 15-20 % less time (bench/RESULTS.md). A large value gets its
   * own.
   */
  done(): Uint8Array {
    const n = this.at;
    if (n > SLAB >>> 3) return this.bytes.slice(0, n);
    if (slabAt + n > SLAB) {
      slab = new Uint8Array(SLAB);
      slabAt = 0;
    }
    const value = slab.subarray(slabAt, slabAt + n);
    value.set(this.bytes.subarray(0, n));
    slabAt += n;
    return value;
  }

  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.at + n));
    grown.set(this.bytes.subarray(0, this.at));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
    if (grown.length <= 1 << 24) {
      ByteWriter.scratch = grown;
      ByteWriter.scratchView = this.view;
    }
  }
}

/** Reads what `ByteWriter` wrote; a value cut off or too long is an error naming the format (`what`). */
export class ByteReader {
  private readonly view: DataView;
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.at++]!;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new Error(`${this.what}: a number is too long`);
    }
  }

  float(): number {
    this.need(8);
    const x = this.view.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }

  number(asFloat: boolean): number {
    return asFloat ? this.float() : this.integer();
  }

  integer(): number {
    return unzigzag(this.varint());
  }

  tagged(): number {
    const v = this.varint();
    return v === TAGGED_FLOAT ? this.float() : unzigzag(v / 2);
  }

  uuid(): string {
    this.need(16);
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      const b = this.bytes[this.at++]!;
      s += HEX[b >> 4]! + HEX[b & 15]!;
    }
    return s;
  }

  text(): string {
    const length = this.varint();
    this.need(length);
    const s = decoder.decode(this.bytes.subarray(this.at, this.at + length));
    this.at += length;
    return s;
  }

  atEnd(): boolean {
    return this.at === this.bytes.length;
  }

  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new Error(`${this.what}: cut off`);
  }
}

/** Integers the zigzag varint holds exactly: their magnitude doubled, and doubled again by `tagged`, stays safe. */
export function isInteger(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) < 2 ** 51 && !Object.is(x, -0);
}

const TAGGED_FLOAT = 1;

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
