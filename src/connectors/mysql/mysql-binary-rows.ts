/**
 * PostgreSQL binary COPY rows made straight from MySQL's binary-protocol result rows (the rows of a
 * prepared statement), for the `postgres-binary` raw path (MysqlReader.readRaw).
 *
 * Why the binary protocol: the server then sends numbers and dates as their bytes instead of
 * printing them. For the 5.2M-row bench table MariaDB spent 6.3 s of CPU sending it so, against
 * 15.0 s as text (10 s of that printing DOUBLEs), and a double becomes PostgreSQL's by reversing its
 * 8 bytes instead of parsing text.
 *
 * Why by hand: mysql2 turns each binary row into JS values, or, with a typeCast hook, builds a
 * wrapper object per field per row (tried with 3.24: 60% of ferry's CPU, 10x slower). The row format
 * is small and fixed (a 0x00 byte, a NULL bitmap offset by 2 bits, then each non-NULL value: fixed
 * little-endian integers and doubles, dates as a length byte and their parts, everything else a
 * length-encoded string), so ferry reads it here and mysql2 still does the connection, the
 * statement and the packets.
 *
 * Every value a policy would look at (a zero or invalid date, a NUL, invalid UTF-8, text longer than
 * the target, a number out of range, a TIME beyond a day) throws RawUnfit, as the text-protocol
 * reader did: the chunk is then copied by rows, where the policies decide.
 */

import { isUtf8 } from 'node:buffer';
import type { ColumnInfo } from '../../core/connector.js';
import { RawUnfit } from '../../core/errors.js';
import type { LogicalType } from '../../core/logical-types.js';
import {
  type BinaryField,
  type BinaryOut,
  binaryFieldFor,
  putDateParts,
  putNull,
  putTimeParts,
  putTimestampParts,
} from '../../core/pg-copy-binary.js';
import { decimalFits } from '../../core/text-values.js';

/** What the server said of one result column (the part of mysql2's ColumnDefinition read here). */
export interface WireColumn {
  columnType: number;
  flags: number;
}

/** MySQL protocol column types (include/mysql_com.h). */
const TINY = 0x01;
const SHORT = 0x02;
const LONG = 0x03;
const FLOAT = 0x04;
const DOUBLE = 0x05;
const TIMESTAMP = 0x07;
const LONGLONG = 0x08;
const INT24 = 0x09;
const DATE = 0x0a;
const TIME = 0x0b;
const DATETIME = 0x0c;
const YEAR = 0x0d;
const NEWDATE = 0x0e;
const DECIMAL = 0x00;
const NEWDECIMAL = 0xf6;
/** Types sent as a length-encoded string in a binary row (anything not fixed-size or a date). */
const FIXED = new Set([TINY, SHORT, LONG, FLOAT, DOUBLE, LONGLONG, INT24, YEAR]);
const DATES = new Set([DATE, NEWDATE, DATETIME, TIMESTAMP]);
const UNSIGNED_FLAG = 32;
const TWO_32 = 4294967296;

/** Whether a value of this wire type comes as a length-encoded string (text, blobs, decimals, enums). */
function lengthEncoded(type: number): boolean {
  return !FIXED.has(type) && !DATES.has(type) && type !== TIME;
}

/** Reads one non-NULL value at b[p..], writes its field, returns the position after the value. */
type WireField = (b: Buffer, p: number, out: BinaryOut) => number;

/**
 * Length of the length-encoded string at b[p..] (binary and text protocol alike); its first byte
 * is then at `strAt`. A module variable, not a returned pair: this runs for every text value of
 * every row. (0xfb, NULL in a text-protocol row, is the caller's to check first.)
 */
export let strAt = 0;
export function strLen(b: Buffer, p: number): number {
  const c = b[p];
  if (c < 0xfb) {
    strAt = p + 1;
    return c;
  }
  if (c === 0xfc) {
    strAt = p + 3;
    return b[p + 1] | (b[p + 2] << 8);
  }
  if (c === 0xfd) {
    strAt = p + 4;
    return b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16);
  }
  strAt = p + 9;
  return b.readUInt32LE(p + 1) + b.readUInt32LE(p + 5) * TWO_32;
}

/** Bytes of a fixed-size type's value. */
function fixedWidth(type: number): number {
  switch (type) {
    case TINY:
      return 1;
    case SHORT:
    case YEAR:
      return 2;
    case LONG:
    case INT24:
    case FLOAT:
      return 4;
    default:
      return 8;
  }
}

/** The integer at b[p..] of an integer wire type: a number, or a bigint beyond 2^53. */
function intReader(type: number, unsigned: boolean): ((b: Buffer, p: number) => number | bigint) | null {
  switch (type) {
    case TINY:
      return unsigned ? (b, p) => b[p] : (b, p) => (b[p] << 24) >> 24;
    case SHORT:
    case YEAR:
      return unsigned ? (b, p) => b[p] | (b[p + 1] << 8) : (b, p) => ((b[p] | (b[p + 1] << 8)) << 16) >> 16;
    case INT24:
    case LONG:
      return unsigned ? (b, p) => b.readUInt32LE(p) : (b, p) => b.readInt32LE(p);
    case LONGLONG:
      return (b, p) => {
        const lo = b.readUInt32LE(p);
        const hi = unsigned ? b.readUInt32LE(p + 4) : b.readInt32LE(p + 4);
        if (hi >= -0x200000 && hi < 0x200000) return hi * TWO_32 + lo;
        return unsigned ? b.readBigUInt64LE(p) : b.readBigInt64LE(p);
      };
    default:
      return null;
  }
}

/** Target column types and the source kinds whose values each takes on this path. */
const KINDS_FOR: Record<string, ReadonlySet<LogicalType['kind']>> = {};
for (const [bases, kinds] of [
  [
    ['text', 'character varying', 'character', 'json', 'jsonb'],
    ['text', 'json', 'uuid'],
  ],
  [['bytea'], ['bytes']],
  [
    ['smallint', 'integer', 'bigint'],
    ['int16', 'int32', 'int64'],
  ],
  [
    ['real', 'double precision'],
    ['float32', 'float64'],
  ],
  [['numeric'], ['decimal', 'int16', 'int32', 'int64', 'uint64']],
  [['date'], ['date']],
  [['time without time zone'], ['time']],
  [
    ['timestamp without time zone', 'timestamp with time zone'],
    ['timestamp', 'timestamptz'],
  ],
  [['uuid'], ['uuid']],
] as const) {
  for (const base of bases) KINDS_FOR[base] = new Set(kinds);
}

interface Target {
  base: string;
  /** varchar/char length or numeric precision, when the type has one. */
  size: number | undefined;
  scale: number;
  put: BinaryField;
}

function targetOf(col: ColumnInfo, targetType: string): Target | null {
  const m = /^([a-z ]+?)(?:\((\d+)(?:,(\d+))?\))?$/.exec(targetType);
  if (!m || !KINDS_FOR[m[1]]?.has(col.logical.kind)) return null;
  const put = binaryFieldFor(m[1], col.name, () => {
    throw new RawUnfit(col.name, '\u0000');
  });
  if (!put) return null;
  return {
    base: m[1],
    size: m[2] === undefined ? undefined : Number(m[2]),
    scale: m[3] === undefined ? 0 : Number(m[3]),
    put,
  };
}

/** Whether every column can go this way into its target type (`format_type` of the staging table). */
export function pgBinaryFits(columns: readonly ColumnInfo[], targetTypes: readonly string[]): boolean {
  return columns.length === targetTypes.length && columns.every((c, i) => targetOf(c, targetTypes[i]) !== null);
}

/** Text up to this many bytes is copied and checked byte by byte in JS. */
const SHORT_TEXT = 64;

/** Whether text is UTF-8 (a policy decides otherwise) and fits `size` characters when there is a size. */
function textFits(b: Buffer, from: number, to: number, size: number | undefined): boolean {
  if (!isUtf8(b.subarray(from, to))) return false;
  return size === undefined || to - from <= size || utf8Chars(b, from, to) <= size;
}

/** Characters (code points) of valid UTF-8: the bytes that do not continue a sequence. */
function utf8Chars(b: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if ((b[i] & 0xc0) !== 0x80) n++;
  return n;
}

/**
 * The field of one column for the wire type the server announced. A wire type this column's target
 * does not expect gives a field that always throws RawUnfit: the chunk goes by rows.
 */
function wireField(name: string, t: Target, wire: WireColumn): WireField {
  const type = wire.columnType;
  const unsigned = (wire.flags & UNSIGNED_FLAG) !== 0;
  const unfit = (v: unknown): never => {
    throw new RawUnfit(name, v);
  };
  const never: WireField = () => unfit(`a value of MySQL type ${type}`);
  const put = t.put;
  switch (t.base) {
    case 'text':
    case 'character varying':
    case 'character':
    case 'json':
    case 'jsonb': {
      if (!lengthEncoded(type)) return never;
      const jsonb = t.base === 'jsonb' ? 1 : 0;
      const size = t.size;
      return (b, p, out) => {
        const n = strLen(b, p);
        const from = strAt;
        const to = from + n;
        out.room(4 + jsonb + n);
        const o = out.buf;
        let q = out.pos;
        o.writeInt32BE(n + jsonb, q);
        q += 4;
        if (jsonb) o[q++] = 1;
        if (n <= SHORT_TEXT) {
          // Short text is copied by byte, checked on the way: NUL, and whether any byte is not
          // ASCII (only then is the UTF-8 checked, and the length in characters). No Buffer view,
          // no call into C++: these are most keys and codes.
          let high = 0;
          for (let k = from; k < to; k++) {
            const c = b[k];
            if (c === 0) unfit(b.subarray(from, to));
            high |= c;
            o[q++] = c;
          }
          if (high > 0x7f ? !textFits(b, from, to, size) : size !== undefined && n > size) unfit(b.subarray(from, to));
        } else {
          const nul = b.indexOf(0, from);
          if ((nul >= 0 && nul < to) || !textFits(b, from, to, size)) unfit(b.subarray(from, to));
          q += b.copy(o, q, from, to);
        }
        out.pos = q;
        return to;
      };
    }
    case 'bytea':
      if (!lengthEncoded(type)) return never;
      return (b, p, out) => {
        const n = strLen(b, p);
        out.room(4 + n);
        out.buf.writeInt32BE(n, out.pos);
        out.pos += 4;
        out.pos += b.copy(out.buf, out.pos, strAt, strAt + n);
        return strAt + n;
      };
    case 'uuid':
      if (!lengthEncoded(type)) return never;
      return (b, p, out) => {
        const n = strLen(b, p);
        put(out, b.toString('latin1', strAt, strAt + n));
        return strAt + n;
      };
    case 'smallint':
    case 'integer':
    case 'bigint': {
      const read = intReader(type, unsigned);
      if (!read) return never;
      const width = fixedWidth(type);
      const to = t.base === 'smallint' ? 2 : t.base === 'integer' ? 4 : 8;
      // Same width and sign: the bytes reversed. Narrower into wider: sign-extended. Anything that
      // may not fit (wider, or unsigned of the same width) goes through the encoder's range check.
      if (width === 4 && to === 4 && !unsigned)
        return (b, p, out) => {
          out.room(8);
          const o = out.buf;
          const q = out.pos;
          o[q] = 0;
          o[q + 1] = 0;
          o[q + 2] = 0;
          o[q + 3] = 4;
          o[q + 4] = b[p + 3];
          o[q + 5] = b[p + 2];
          o[q + 6] = b[p + 1];
          o[q + 7] = b[p];
          out.pos = q + 8;
          return p + 4;
        };
      if (width === to && !unsigned)
        return (b, p, out) => {
          out.room(4 + to);
          const o = out.buf;
          const q = out.pos;
          o.writeInt32BE(to, q);
          for (let k = 0; k < to; k++) o[q + 4 + k] = b[p + to - 1 - k];
          out.pos = q + 4 + to;
          return p + width;
        };
      if (width < to && to <= 4)
        return (b, p, out) => {
          const v = read(b, p) as number;
          out.room(8);
          const o = out.buf;
          const q = out.pos;
          o.writeInt32BE(to, q);
          if (to === 4) o.writeInt32BE(v, q + 4);
          else o.writeInt16BE(v, q + 4);
          out.pos = q + 4 + to;
          return p + width;
        };
      return (b, p, out) => {
        put(out, read(b, p));
        return p + width;
      };
    }
    case 'double precision':
    case 'real':
      if (t.base === 'double precision' && type === DOUBLE) {
        // PostgreSQL's float8 is the same IEEE double, big-endian: the 8 bytes reversed. MySQL
        // stores no NaN or infinity; one here would not be ours to guess.
        return (b, p, out) => {
          if ((b[p + 7] & 0x7f) === 0x7f && (b[p + 6] & 0xf0) === 0xf0) unfit(b.readDoubleLE(p));
          out.room(12);
          const o = out.buf;
          const q = out.pos;
          o[q] = 0;
          o[q + 1] = 0;
          o[q + 2] = 0;
          o[q + 3] = 8;
          for (let k = 0; k < 8; k++) o[q + 4 + k] = b[p + 7 - k];
          out.pos = q + 12;
          return p + 8;
        };
      }
      // Otherwise through the encoder, which checks what a float4 can hold.
      if (type === DOUBLE)
        return (b, p, out) => {
          put(out, b.readDoubleLE(p));
          return p + 8;
        };
      if (type === FLOAT)
        return (b, p, out) => {
          put(out, b.readFloatLE(p));
          return p + 4;
        };
      return never;
    case 'numeric': {
      const { size, scale } = t;
      if (type === DECIMAL || type === NEWDECIMAL)
        return (b, p, out) => {
          const n = strLen(b, p);
          const s = b.toString('latin1', strAt, strAt + n);
          if (size !== undefined && !decimalFits(s, size, scale)) unfit(s);
          put(out, s);
          return strAt + n;
        };
      const read = intReader(type, unsigned);
      if (!read) return never;
      const width = fixedWidth(type);
      return (b, p, out) => {
        const s = String(read(b, p));
        if (size !== undefined && !decimalFits(s, size, scale)) unfit(s);
        put(out, s);
        return p + width;
      };
    }
    case 'date':
      if (!DATES.has(type)) return never;
      return (b, p, out) => {
        const n = b[p];
        // 0 bytes: the zero date. A time part other than midnight has no place in a date.
        if (n < 4 || (n > 4 && (b[p + 5] | b[p + 6] | b[p + 7]) !== 0) || (n > 7 && b.readUInt32LE(p + 8) !== 0))
          unfit(`a MySQL date of ${n} bytes`);
        if (!putDateParts(out, b[p + 1] | (b[p + 2] << 8), b[p + 3], b[p + 4])) unfit(dateText(b, p));
        return p + 1 + n;
      };
    case 'timestamp without time zone':
    case 'timestamp with time zone':
      if (!DATES.has(type)) return never;
      return (b, p, out) => {
        const n = b[p];
        if (n < 4) unfit('a zero date');
        const ok = putTimestampParts(
          out,
          b[p + 1] | (b[p + 2] << 8),
          b[p + 3],
          b[p + 4],
          n > 4 ? b[p + 5] : 0,
          n > 4 ? b[p + 6] : 0,
          n > 4 ? b[p + 7] : 0,
          n > 7 ? b.readUInt32LE(p + 8) : 0,
        );
        if (!ok) unfit(dateText(b, p));
        return p + 1 + n;
      };
    case 'time without time zone':
      if (type !== TIME) return never;
      return (b, p, out) => {
        const n = b[p];
        if (n === 0) {
          putTimeParts(out, 0, 0, 0, 0);
          return p + 1;
        }
        // A negative TIME or one of a day or more is not a time of day.
        if (n < 8 || b[p + 1] !== 0 || b.readUInt32LE(p + 2) !== 0) unfit('a MySQL TIME beyond a day');
        if (!putTimeParts(out, b[p + 6], b[p + 7], b[p + 8], n > 8 ? b.readUInt32LE(p + 9) : 0)) unfit('a MySQL TIME');
        return p + 1 + n;
      };
    default:
      return never;
  }
}

/** A date's parts as text, for the RawUnfit of a date that is not real. */
function dateText(b: Buffer, p: number): string {
  const n = b[p];
  return n < 4 ? '0000-00-00' : `${b[p + 1] | (b[p + 2] << 8)}-${b[p + 3]}-${b[p + 4]}`;
}

/**
 * Writes binary COPY rows from binary-protocol row packets for one chunk's columns and their target
 * types. `bind` takes the columns as the server announced them, before the first row.
 */
export class PgRowsFromMysql {
  private readonly targets: Target[];
  private fields: WireField[] = [];
  private bitmapBytes = 0;

  constructor(
    private readonly columns: readonly ColumnInfo[],
    targetTypes: readonly string[],
  ) {
    this.targets = columns.map((c, i) => {
      const t = targetOf(c, targetTypes[i]);
      if (!t) throw new Error(`postgres-binary: ${c.name} (${c.logical.kind}) has no binary form as ${targetTypes[i]}`);
      return t;
    });
  }

  bind(wire: readonly WireColumn[]): void {
    if (wire.length !== this.columns.length) {
      throw new Error(`postgres-binary: the server sent ${wire.length} columns, ${this.columns.length} expected`);
    }
    this.fields = this.columns.map((c, i) => wireField(c.name, this.targets[i], wire[i]));
    this.bitmapBytes = (wire.length + 7 + 2) >> 3;
  }

  /** One row packet's payload at b[start..]: its 0x00 byte, NULL bitmap, values. Throws RawUnfit. */
  row(b: Buffer, start: number, out: BinaryOut): void {
    const fields = this.fields;
    const n = fields.length;
    out.room(2);
    out.buf[out.pos] = n >> 8;
    out.buf[out.pos + 1] = n & 0xff;
    out.pos += 2;
    const bitmap = start + 1;
    let p = bitmap + this.bitmapBytes;
    for (let i = 0; i < n; i++) {
      const bit = i + 2;
      if ((b[bitmap + (bit >> 3)] & (1 << (bit & 7))) !== 0) putNull(out);
      else p = fields[i](b, p, out);
    }
  }
}
