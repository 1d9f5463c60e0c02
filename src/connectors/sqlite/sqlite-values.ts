/**
 * Conversions between SQLite's stored values (null, bigint with safeIntegers, number, string,
 * Buffer) and logical values. Decoding tolerates the storage classes SQLite's dynamic typing lets
 * a column hold and refuses, with the column named, a value that cannot be the column's type.
 */
import { canonicalFloat, canonicalValue } from '../../core/canonical.js';
import type { LogicalType } from '../../core/logical-types.js';

export type SqliteValue = null | bigint | number | string | Buffer;

export class SqliteValueError extends Error {}

/** How -0 is stored in a REAL column (see encoderFor): NO-BREAK SPACE then '-0'. */
export const NEGATIVE_ZERO_TEXT = '\u00a0-0';

function bad(t: LogicalType, v: unknown): never {
  const shown = Buffer.isBuffer(v) ? `<${v.length} bytes>` : JSON.stringify(typeof v === 'bigint' ? v.toString() : v);
  throw new SqliteValueError(`value ${shown} (${typeof v}) cannot be read as ${t.kind}`);
}

function parseFloatText(s: string): number {
  if (s === 'NaN') return Number.NaN;
  if (s === 'Infinity' || s === 'inf') return Number.POSITIVE_INFINITY;
  if (s === '-Infinity' || s === '-inf') return Number.NEGATIVE_INFINITY;
  const n = Number(s);
  if (s.trim() === '' || Number.isNaN(n)) throw new SqliteValueError(`text ${JSON.stringify(s)} is not a number`);
  return n;
}

/** Stored value -> logical value. */
export function decoderFor(t: LogicalType): (v: SqliteValue) => unknown {
  switch (t.kind) {
    case 'boolean':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'bigint' || typeof v === 'number') return Number(v) !== 0;
        if (typeof v === 'string' && /^(t|true|1|f|false|0)$/i.test(v)) return /^(t|true|1)$/i.test(v);
        return bad(t, v);
      };
    case 'int16':
    case 'int32':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'bigint') return Number(v);
        if (typeof v === 'number' && Number.isInteger(v)) return v;
        if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
        return bad(t, v);
      };
    case 'int64':
    case 'uint64':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'bigint') return v;
        if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
        if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
        return bad(t, v);
      };
    case 'float32':
    case 'float64':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'number') return v;
        if (typeof v === 'bigint') return Number(v);
        if (typeof v === 'string') return parseFloatText(v);
        return bad(t, v);
      };
    case 'decimal':
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'bigint' || typeof v === 'string') return v.toString();
        if (typeof v === 'number') return canonicalFloat(v);
        return bad(t, v);
      };
    case 'bytes':
      return (v) => {
        if (v === null) return null;
        if (Buffer.isBuffer(v)) return v;
        if (typeof v === 'string') return Buffer.from(v, 'utf8');
        return bad(t, v);
      };
    case 'array': {
      const el = decoderFor(t.element);
      // Elements are stored in their canonical text (bytes as hex), numbers of int16/int32 as numbers.
      const hex = t.element.kind === 'bytes';
      const walk = (x: unknown): unknown =>
        Array.isArray(x) ? x.map(walk) : hex && typeof x === 'string' ? Buffer.from(x, 'hex') : el(x as SqliteValue);
      return (v) => {
        if (v === null) return null;
        if (typeof v !== 'string') return bad(t, v);
        return walk(JSON.parse(v));
      };
    }
    default:
      return (v) => {
        if (v === null) return null;
        if (typeof v === 'string') return v;
        if (typeof v === 'bigint' || typeof v === 'number') return String(v);
        if (Buffer.isBuffer(v) && t.kind === 'text') return v.toString('utf8');
        return bad(t, v);
      };
  }
}

/** Logical value -> value bound into SQLite (see sqlite-types.ts for why decimals stay text). */
export function encoderFor(t: LogicalType): (v: unknown) => SqliteValue {
  switch (t.kind) {
    case 'boolean':
      return (v) => (v === null || v === undefined ? null : v ? 1 : 0);
    case 'int16':
    case 'int32':
      return (v) => (v === null || v === undefined ? null : (v as number));
    case 'int64':
      return (v) => (v === null || v === undefined ? null : BigInt(v as bigint));
    case 'float32':
    case 'float64':
      // NaN would become NULL and -0 would lose its sign in a REAL column: store those as text.
      // Text '-0' is not enough: REAL affinity turns any numeric-looking text (even ' -0', '-0.0')
      // back into the number 0. A leading NO-BREAK SPACE is not whitespace to SQLite, so the value
      // stays TEXT, while Number() (and Python's float()) still read it as -0.
      return (v) => {
        if (v === null || v === undefined) return null;
        const n = v as number;
        if (Object.is(n, -0)) return NEGATIVE_ZERO_TEXT;
        return Number.isNaN(n) ? canonicalFloat(n) : n;
      };
    case 'bytes':
      return (v) => (v === null || v === undefined ? null : (v as Buffer));
    case 'array': {
      const numeric = ['int16', 'int32'].includes(t.element.kind);
      const el = (x: unknown): unknown =>
        Array.isArray(x) ? x.map(el) : x === null ? null : numeric ? x : canonicalValue(t.element, x);
      return (v) => (v === null || v === undefined ? null : JSON.stringify(el(v)));
    }
    default:
      return (v) => (v === null || v === undefined ? null : String(v));
  }
}
