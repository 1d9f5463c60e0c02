import { hash } from 'node:crypto';
import type { LogicalType } from './logical-types.js';

/**
 * Canonical text of a value, by logical type, so that the same value read from any dialect hashes
 * the same (`ferry verify`). It is also the form chunk boundaries are shown in.
 */
export function canonicalValue(type: LogicalType, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  switch (type.kind) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint64':
      return typeof v === 'bigint' ? v.toString() : String(v);
    case 'float32':
    case 'float64':
      return canonicalFloat(v as number);
    case 'bytes':
      return (v as Buffer).toString('hex');
    case 'timestamp':
    case 'timestamptz':
    case 'time':
      return canonicalTemporal(String(v));
    case 'uuid':
      return String(v).toLowerCase();
    case 'decimal':
      return type.scale === undefined ? String(v) : padScale(String(v), type.scale);
    case 'array':
      return JSON.stringify(canonicalArray(type.element, v as unknown[]));
    default:
      return String(v);
  }
}

/** A decimal(p,s) value has s decimals: '1.5' and '1.50' are the same numeric(10,2) value. */
function padScale(s: string, scale: number): string {
  const m = /^(-?\d+)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] ?? '').length >= scale) return s;
  return `${m[1]}.${(m[2] ?? '').padEnd(scale, '0')}`;
}

function canonicalArray(element: LogicalType, arr: unknown[]): unknown[] {
  return arr.map((e) => (Array.isArray(e) ? canonicalArray(element, e) : canonicalValue(element, e)));
}

export function canonicalFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return 'Infinity';
  if (n === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

/** `2024-01-02 03:04:05.5+00` and `2024-01-02T03:04:05.500000+00:00` are the same instant: one text. */
function canonicalTemporal(s: string): string {
  const m = /^(\d{4,}-\d{2}-\d{2})?[ T]?(\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}(?::?\d{2})?)?( BC)?$/.exec(s);
  if (!m) return s;
  const [, date, time, frac = '', zone, bc = ''] = m;
  let z = '';
  if (zone !== undefined) z = zone === 'Z' || /^[+-]00(:?00)?$/.test(zone) ? 'Z' : zone;
  const t = `${time}.${frac.padEnd(6, '0')}${z}${bc}`;
  return date ? `${date}T${t}` : t;
}

/**
 * An order-independent digest of a multiset of rows: the sum (mod 2^64) of a 64-bit hash of each
 * row's canonical values, with the row count beside it. Order-independent because source and
 * target may return rows of a chunk in different orders (collations differ across dialects).
 */
export class RowSetDigest {
  count = 0;
  // Two 32-bit lanes summed mod 2^32 (plain numbers: no BigInt on the hot path).
  private hi = 0;
  private lo = 0;

  add(types: readonly LogicalType[], row: readonly unknown[]): void {
    let text = '';
    for (let i = 0; i < types.length; i++) {
      // A float32 is compared at float32 precision: PostgreSQL's real prints its shortest float4
      // text, which read back as a double is not the float4's exact value (3.4028235e38 vs
      // 3.4028234663852886e38), while SQLite holds the exact double of the same float4.
      const v = types[i].kind === 'float32' && typeof row[i] === 'number' ? Math.fround(row[i] as number) : row[i];
      const c = canonicalValue(types[i], v);
      // Length-prefixed so that ("ab","c") and ("a","bc") differ; null is distinct from "".
      text += c === null ? '\u0000N;' : `${c.length}:${c};`;
    }
    // One-shot hash of the row's text: about 3x faster than a Hash object per row.
    const h = hash('md5', text);
    this.hi = (this.hi + Number.parseInt(h.slice(0, 8), 16)) % 4294967296;
    this.lo = (this.lo + Number.parseInt(h.slice(8, 16), 16)) % 4294967296;
    this.count++;
  }

  /** Adds another digest's rows (digests of disjoint row sets add up to the digest of their union). */
  merge(other: RowSetDigest): void {
    this.hi = (this.hi + other.hi) % 4294967296;
    this.lo = (this.lo + other.lo) % 4294967296;
    this.count += other.count;
  }

  get hash(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }
}
