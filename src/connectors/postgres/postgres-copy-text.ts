/**
 * PostgreSQL COPY text format: decoding rows that `COPY ... TO STDOUT` sends and encoding rows for
 * `COPY ... FROM STDIN`. Hand-written because no maintained library does the value-level mapping to
 * our logical types, and the format is small: tab between fields, newline between rows, `\N` for
 * null, and backslash escapes for backslash, tab, newline, carriage return (plus octal/hex on input).
 */
import { parse as parseArray } from 'postgres-array';
import { canonicalFloat } from '../../core/canonical.js';
import type { LogicalType } from '../../core/logical-types.js';

export type FieldDecoder = (text: string) => unknown;
export type FieldEncoder = (value: unknown) => string;

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Undoes COPY text escaping of one field (the caller has already split on tabs and handled `\N`). */
export function unescapeCopy(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === undefined) break;
    if (ESCAPES[n] !== undefined) out += ESCAPES[n];
    else if (n >= '0' && n <= '7') {
      let j = i;
      while (j < i + 3 && s[j] >= '0' && s[j] <= '7') j++;
      out += String.fromCharCode(Number.parseInt(s.slice(i, j), 8));
      i = j - 1;
    } else if (n === 'x' && /[0-9a-fA-F]/.test(s[i + 1] ?? '')) {
      let j = i + 1;
      while (j < i + 3 && /[0-9a-fA-F]/.test(s[j] ?? '')) j++;
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, j), 16));
      i = j - 1;
    } else out += n;
  }
  return out;
}

const NEEDS_ESCAPE = /[\\\n\r\t]/;

export function escapeCopy(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

function parseFloatText(s: string): number {
  if (s === 'NaN') return Number.NaN;
  if (s === 'Infinity') return Number.POSITIVE_INFINITY;
  if (s === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/** Decoder of an (unescaped) text-format value into its logical value. */
export function decoderFor(t: LogicalType): FieldDecoder {
  switch (t.kind) {
    case 'boolean':
      return (s) => s === 't' || s === 'true';
    case 'int16':
    case 'int32':
      return (s) => Number(s);
    case 'int64':
    case 'uint64':
      return (s) => BigInt(s);
    case 'float32':
      // real prints its shortest float4 text ('3.4028235e+38'), which read as a double is not the
      // float4's value (and is above FLT_MAX: MySQL's FLOAT refuses it); Math.fround gives it back.
      return (s) => Math.fround(parseFloatText(s));
    case 'float64':
      return parseFloatText;
    case 'bytes':
      return (s) => Buffer.from(s.slice(2), 'hex');
    case 'array': {
      const el = decoderFor(t.element);
      return (s) => parseArray(s.replace(/^\[[^\]]*\]=/, ''), (v: string) => el(v));
    }
    default:
      return (s) => s;
  }
}

function arrayElementLiteral(v: string): string {
  // Quote every element: safe for empty strings, NULL-looking text, braces, commas and spaces.
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Encoder of a logical value into PostgreSQL's text input syntax (before COPY escaping). */
export function literalEncoderFor(t: LogicalType): FieldEncoder {
  switch (t.kind) {
    case 'boolean':
      return (v) => (v ? 't' : 'f');
    case 'float32':
    case 'float64':
      return (v) => canonicalFloat(v as number);
    case 'bytes':
      return (v) => `\\x${(v as Buffer).toString('hex')}`;
    case 'array': {
      const el = literalEncoderFor(t.element);
      const enc = (arr: unknown[]): string =>
        `{${arr.map((e) => (e === null ? 'NULL' : Array.isArray(e) ? enc(e) : arrayElementLiteral(el(e)))).join(',')}}`;
      return (v) => enc(v as unknown[]);
    }
    default:
      return (v) => String(v);
  }
}

/**
 * Splits COPY text output into rows of decoded values, across arbitrary chunk boundaries of the
 * byte stream. Literal tab and newline bytes only ever separate fields and rows (data has them
 * escaped), so splitting is exact.
 */
export class CopyTextParser {
  private rest = '';
  private readonly decoders: FieldDecoder[];
  constructor(types: readonly LogicalType[]) {
    this.decoders = types.map(decoderFor);
  }

  /** Feeds decoded text; returns the complete rows it held. */
  push(text: string, out: unknown[][]): void {
    const data = this.rest + text;
    let start = 0;
    for (;;) {
      const nl = data.indexOf('\n', start);
      if (nl < 0) break;
      out.push(this.parseLine(data.slice(start, nl)));
      start = nl + 1;
    }
    this.rest = data.slice(start);
  }

  end(): void {
    if (this.rest.length > 0) throw new Error('COPY output ended in the middle of a row');
  }

  private parseLine(line: string): unknown[] {
    const fields = line.split('\t');
    const decoders = this.decoders;
    if (fields.length !== decoders.length) {
      throw new Error(`COPY row has ${fields.length} fields, expected ${decoders.length}`);
    }
    const row = new Array(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      row[i] = f === '\\N' ? null : decoders[i](unescapeCopy(f));
    }
    return row;
  }
}
