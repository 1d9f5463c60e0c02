/**
 * Values between MySQL/MariaDB and logical values. Rows are read with the driver's type casting
 * off (every field a raw Buffer) and decoded here, because the driver's own parsing rounds some
 * DOUBLE values in their last digit and decodes invalid UTF-8 silently. Rows are written as
 * `LOAD DATA` text: tab-separated, `\N` for NULL, backslash escapes.
 */
import { isUtf8 } from 'node:buffer';
import { canonicalFloat } from '../../core/canonical.js';
import type { LogicalType } from '../../core/logical-types.js';
import { InvalidText } from '../../core/policies.js';
import { plainDecimal, roundScale, zonedToUtc } from '../../core/text-values.js';

type Raw = Buffer | null;

/** Raw field -> logical value (before cast-rule transforms). Keep `latin1DecoderFor` in step. */
export function decoderFor(t: LogicalType): (b: Raw) => unknown {
  switch (t.kind) {
    case 'boolean':
      return (b) => (b === null ? null : b.length === 1 && b[0] <= 1 ? b[0] === 1 : Number(b.toString('latin1')) !== 0);
    case 'int16':
    case 'int32':
      return (b) => (b === null ? null : Number(b.toString('latin1')));
    case 'int64':
    case 'uint64':
      return (b) => (b === null ? null : BigInt(b.toString('latin1')));
    case 'float32':
    case 'float64':
      return (b) => (b === null ? null : Number(b.toString('latin1')));
    case 'bytes':
      return (b) => b;
    case 'text':
    case 'json':
      return (b) => (b === null ? null : isUtf8(b) ? b.toString('utf8') : new InvalidText(Buffer.from(b)));
    case 'timestamptz':
      // Read in the pinned session time zone (+00:00): the text is UTC.
      return (b) => (b === null ? null : `${b.toString('latin1')}+00`);
    case 'uuid':
      return (b) => (b === null ? null : b.toString('latin1').toLowerCase());
    case 'array':
      return (b) => (b === null ? null : JSON.parse(b.toString('utf8')));
    default:
      return (b) => (b === null ? null : b.toString('latin1'));
  }
}

/**
 * The same decoding as `decoderFor`, from the field's latin1 text instead of a Buffer, for the
 * kinds whose value only needs that text (numbers, dates, uuid): the reader then asks the driver
 * for a string and no Buffer is made per field. `null` for kinds that need the bytes themselves.
 */
export function latin1DecoderFor(t: LogicalType): ((s: string | null) => unknown) | null {
  switch (t.kind) {
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return (s) => (s === null ? null : Number(s));
    case 'int64':
    case 'uint64':
      return (s) => (s === null ? null : BigInt(s));
    case 'timestamptz':
      return (s) => (s === null ? null : `${s}+00`);
    case 'uuid':
      return (s) => (s === null ? null : s.toLowerCase());
    case 'date':
    case 'time':
    case 'timestamp':
    case 'decimal':
      return (s) => s;
    default:
      return null;
  }
}

/** A logical value as a query parameter (chunk bounds). */
export function encodeParam(t: LogicalType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (t.kind) {
    case 'int64':
    case 'uint64':
      return String(v);
    case 'timestamptz':
      return String(v).replace(/\+00(:00)?$/, '');
    case 'bytes':
      return v as Buffer;
    default:
      return v;
  }
}

const ESC: Record<string, string> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u0000': '\\0',
  '\u001a': '\\Z',
};
const NEEDS = /[\\\n\r\t\u0000\u001a]/;
const ALL = /[\\\n\r\t\u0000\u001a]/g;

export function escapeText(s: string): string {
  return NEEDS.test(s) ? s.replace(ALL, (c) => ESC[c]) : s;
}

/** Escapes raw bytes for LOAD DATA (CHARACTER SET binary): the same six bytes, as backslash pairs. */
export function escapeBytes(b: Buffer): Buffer {
  let extra = 0;
  for (const x of b) if (x === 0x5c || x === 0x0a || x === 0x0d || x === 0x09 || x === 0x00 || x === 0x1a) extra++;
  if (extra === 0) return b;
  const out = Buffer.allocUnsafe(b.length + extra);
  let j = 0;
  for (const x of b) {
    switch (x) {
      case 0x5c:
        out[j++] = 0x5c;
        out[j++] = 0x5c;
        break;
      case 0x0a:
        out[j++] = 0x5c;
        out[j++] = 0x6e;
        break;
      case 0x0d:
        out[j++] = 0x5c;
        out[j++] = 0x72;
        break;
      case 0x09:
        out[j++] = 0x5c;
        out[j++] = 0x74;
        break;
      case 0x00:
        out[j++] = 0x5c;
        out[j++] = 0x30;
        break;
      case 0x1a:
        out[j++] = 0x5c;
        out[j++] = 0x5a;
        break;
      default:
        out[j++] = x;
    }
  }
  return out;
}

/** Arrays go into a JSON column: elements in JSON-able form (bigint as text, bytes as hex). */
function jsonArray(t: LogicalType, v: unknown[]): string {
  const el = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(el)
      : x === null
        ? null
        : typeof x === 'bigint'
          ? x.toString()
          : Buffer.isBuffer(x)
            ? x.toString('hex')
            : typeof x === 'number' && !Number.isFinite(x)
              ? canonicalFloat(x)
              : x;
  void t;
  return JSON.stringify(el(v));
}

/**
 * Encoder of a logical value into LOAD DATA text (before escaping), or a Buffer for bytes. The
 * session is `time_zone = '+00:00'`, so a UTC timestamp text is stored as that instant.
 */
export function loadEncoderFor(t: LogicalType): (v: unknown) => string | Buffer {
  switch (t.kind) {
    case 'boolean':
      return (v) => (v ? '1' : '0');
    case 'float32':
    case 'float64':
      return (v) => canonicalFloat(v as number);
    case 'bytes':
      return (v) => v as Buffer;
    case 'timestamptz':
      return (v) => String(v).replace(/([+-]\d{2}(:?\d{2})?|Z)$/, '');
    case 'array':
      return (v) => jsonArray(t, v as unknown[]);
    case 'text':
    case 'json':
      // Bytes that are not UTF-8 (MySQL -> MySQL) are loaded as they were read.
      return (v) => (v instanceof InvalidText ? v.bytes : String(v));
    default:
      return (v) => String(v);
  }
}

const ZONED = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Text from a files source for MariaDB/MySQL to cast, in the forms they parse: `true`/`false`
 * for a boolean (tinyint(1)) becomes 1/0, and a timestamp with a zone offset (`...T10:00:00+02:00`,
 * `...Z`) becomes its UTC time (the session's zone), which MariaDB would otherwise refuse. Any
 * other text goes as it is, and the server judges it.
 */
export function textForMysql(t: LogicalType): (v: unknown) => string | Buffer {
  if (t.kind === 'boolean') {
    return (v) => {
      const s = String(v);
      return /^(true|t|yes|y|on)$/i.test(s) ? '1' : /^(false|f|no|n|off)$/i.test(s) ? '0' : s;
    };
  }
  if (t.kind === 'decimal' && t.scale !== undefined) {
    // MySQL refuses a decimal with more digits than the scale (a truncation warning); PostgreSQL
    // rounds it. Rounded here, so a value loads the same into either.
    const scale = t.scale;
    return (v) => {
      const s = String(v).trim();
      const plain = plainDecimal(s);
      return plain === null ? s : roundScale(plain, scale);
    };
  }
  if (t.kind === 'timestamptz') {
    return (v) => {
      const s = String(v);
      const m = ZONED.exec(s);
      if (!m) return s;
      return zonedToUtc(m[1], `${m[2].length === 5 ? `${m[2]}:00` : m[2]}${m[3] ?? ''}`, m[4]) ?? s;
    };
  }
  return (v) => (v instanceof InvalidText ? v.bytes : String(v));
}
