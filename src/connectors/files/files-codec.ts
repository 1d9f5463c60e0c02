/**
 * Value codecs of the text formats, both ways, by logical type (documented in docs/lake.md):
 *
 * | logical            | CSV field                  | JSONL value                               |
 * |--------------------|----------------------------|-------------------------------------------|
 * | boolean            | `true` / `false`           | true / false                              |
 * | int16, int32       | digits                     | number                                    |
 * | int64, uint64      | digits                     | string (beyond 2^53 a JSON number is not exact) |
 * | decimal            | as stored (`12.30`, `NaN`) | string (exact)                            |
 * | float32, float64   | shortest round-trip text, `NaN`, `Infinity`, `-Infinity`, `-0` | number; `"NaN"`, `"Infinity"`, `"-Infinity"` as strings; `-0` |
 * | bytes              | `\x` + hex (PostgreSQL's bytea text) | base64 string                   |
 * | json               | the JSON text              | string holding the JSON text (exact)      |
 * | array              | JSON array text            | JSON array (elements coded as above)      |
 * | other (text, dates, times, uuid, interval) | the text | string                         |
 */
import type { LogicalType } from '../../core/logical-types.js';
import { floatText, parseFloatText } from './files-values.js';

export type TextEncoder_ = (v: unknown) => string;

/** Logical value -> CSV field text (never called for null). */
export function textEncoder(t: LogicalType): TextEncoder_ {
  switch (t.kind) {
    case 'boolean':
      return (v) => (v ? 'true' : 'false');
    case 'float32':
    case 'float64':
      return (v) => floatText(v as number);
    case 'bytes':
      return (v) => `\\x${(v as Buffer).toString('hex')}`;
    case 'array': {
      const el = jsonEncoder(t.element);
      return (v) => encodeArray(v as unknown[], el);
    }
    default:
      return (v) => String(v);
  }
}

/** CSV field text -> logical value (the inverse of `textEncoder`). */
export function textDecoder(t: LogicalType): (s: string) => unknown {
  switch (t.kind) {
    case 'boolean':
      return (s) => /^(true|t|1|yes|y)$/i.test(s);
    case 'int16':
    case 'int32':
      return (s) => Number(s);
    case 'int64':
    case 'uint64':
      return (s) => BigInt(s);
    case 'float32':
    case 'float64':
      return parseFloatText;
    case 'bytes':
      return (s) => (s.startsWith('\\x') ? Buffer.from(s.slice(2), 'hex') : Buffer.from(s, 'base64'));
    case 'array': {
      const el = jsonDecoder(t.element);
      return (s) => decodeArray(JSON.parse(s), el);
    }
    default:
      return (s) => s;
  }
}

/** Logical value -> JSON text of the value (never called for null). */
export function jsonEncoder(t: LogicalType): (v: unknown) => string {
  switch (t.kind) {
    case 'boolean':
      return (v) => (v ? 'true' : 'false');
    case 'int16':
    case 'int32':
      return (v) => String(v);
    case 'float32':
    case 'float64':
      return (v) => {
        const n = v as number;
        return Number.isFinite(n) ? floatText(n) : `"${floatText(n)}"`;
      };
    case 'bytes':
      return (v) => `"${(v as Buffer).toString('base64')}"`;
    case 'array': {
      const el = jsonEncoder(t.element);
      return (v) => encodeArray(v as unknown[], el);
    }
    default:
      return (v) => JSON.stringify(String(v));
  }
}

/** A parsed JSON value -> logical value (the inverse of `jsonEncoder`; lenient with other writers' files). */
export function jsonDecoder(t: LogicalType): (v: unknown) => unknown {
  switch (t.kind) {
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : /^(true|t|1)$/i.test(String(v)));
    case 'int16':
    case 'int32':
      return (v) => Number(v);
    case 'int64':
    case 'uint64':
      return (v) => BigInt(v as string | number);
    case 'float32':
    case 'float64':
      return (v) => (typeof v === 'number' ? v : parseFloatText(String(v)));
    case 'bytes':
      return (v) => Buffer.from(String(v), 'base64');
    case 'array': {
      const el = jsonDecoder(t.element);
      return (v) => decodeArray(v as unknown[], el);
    }
    case 'json':
      return (v) => (typeof v === 'string' ? v : JSON.stringify(v));
    default:
      return (v) => (typeof v === 'string' ? v : String(v));
  }
}

function encodeArray(arr: unknown[], el: (v: unknown) => string): string {
  let out = '[';
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += ',';
    const e = arr[i];
    out += e === null || e === undefined ? 'null' : Array.isArray(e) ? encodeArray(e, el) : el(e);
  }
  return `${out}]`;
}

function decodeArray(arr: unknown[], el: (v: unknown) => unknown): unknown[] {
  return arr.map((e) => (e === null ? null : Array.isArray(e) ? decodeArray(e, el) : el(e)));
}
