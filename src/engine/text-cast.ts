/**
 * Text -> logical value, as a database casts the text of a files source (CSV fields, JSONL
 * leaves), for `ferry verify`: the run lets the database cast (its own semantics, its own
 * reasons for a reject); verify re-reads the files and needs the value the database stored, to
 * compare. This covers the forms ferry's type inference produces and the ISO forms both
 * PostgreSQL and MariaDB accept. A value outside them is judged a reject; if the database took it
 * after all, verify reports the chunk as a mismatch (never a false "equal").
 */

import type { LogicalType } from '../core/logical-types.js';
import { InvalidText, UnreadableValue } from '../core/policies.js';
import { plainDecimal, roundScale, zonedToUtc } from '../core/text-values.js';
import { isValidTemporal, Rejection } from './transforms.js';

const INT_RANGE: Record<string, [bigint, bigint]> = {
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const reject = (s: string, t: string) => new Rejection(`${JSON.stringify(s)} is not a valid ${t}`, 'cast');

function pad(n: string, w: number): string {
  return n.padStart(w, '0');
}

const DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const STAMP =
  /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** `2024-1-5 3:04` -> `2024-01-05 03:04:00[.ffffff]`, fractions rounded to microseconds. */
function stamp(m: RegExpExecArray): { date: string; time: string; zone: string | undefined } | null {
  const date = `${m[1]}-${pad(m[2], 2)}-${pad(m[3], 2)}`;
  if (!isValidTemporal(date) || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) return null;
  let frac = m[7] ?? '';
  if (frac.length > 6)
    frac = String(Math.round(Number(`0.${frac}`) * 1e6))
      .padStart(6, '0')
      .slice(0, 6);
  return { date, time: `${pad(m[4], 2)}:${m[5]}:${m[6] ?? '00'}${frac ? `.${frac}` : ''}`, zone: m[8] };
}

/** The UTC text of a zoned timestamp (`+00` form of the logical type). */
function toUtc(date: string, time: string, zone: string | undefined): string | null {
  const utc = zonedToUtc(date, time, zone);
  return utc === null ? null : `${utc}+00`;
}

/** The cast of one column's text into its logical type's value, or a Rejection. */
export function textCast(t: LogicalType): (v: unknown) => unknown {
  const name = t.kind;
  const str = (v: unknown): string | Rejection =>
    v instanceof UnreadableValue
      ? new Rejection(v.reason, 'malformed')
      : v instanceof InvalidText
        ? new Rejection('invalid UTF-8', 'invalid_utf8')
        : String(v);
  const wrap = (f: (s: string) => unknown) => (v: unknown) => {
    if (v === null || v === undefined) return null;
    const s = str(v);
    return s instanceof Rejection ? s : f(s);
  };
  switch (t.kind) {
    case 'boolean':
      return wrap((s) => {
        const x = s.trim().toLowerCase();
        if (['t', 'true', 'y', 'yes', 'on', '1'].includes(x)) return true;
        if (['f', 'false', 'n', 'no', 'off', '0'].includes(x)) return false;
        return reject(s, name);
      });
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint64': {
      const [lo, hi] = INT_RANGE[t.kind];
      return wrap((s) => {
        const x = s.trim();
        if (!/^[+-]?\d+$/.test(x)) return reject(s, name);
        const n = BigInt(x);
        if (n < lo || n > hi) return reject(s, name);
        return t.kind === 'int16' || t.kind === 'int32' ? Number(n) : n;
      });
    }
    case 'float32':
    case 'float64':
      return wrap((s) => {
        const x = s.trim();
        if (/^[+-]?(inf|infinity)$/i.test(x)) return x.startsWith('-') ? -Infinity : Infinity;
        if (/^nan$/i.test(x)) return Number.NaN;
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(x)) return reject(s, name);
        return Number(x);
      });
    case 'decimal':
      return wrap((s) => {
        const x = s.trim();
        if (/^nan$/i.test(x)) return 'NaN';
        const plain = plainDecimal(x);
        if (plain === null) return reject(s, name);
        if (t.scale === undefined || t.precision === undefined) return plain.replace(/^-(0(\.0*)?)$/, '$1');
        const r = roundScale(plain, t.scale);
        const intDigits = r.replace(/^-/, '').split('.')[0].replace(/^0+/, '').length;
        if (intDigits > t.precision - t.scale) return reject(s, `decimal(${t.precision},${t.scale})`);
        return r;
      });
    case 'date':
      return wrap((s) => {
        const m = DATE.exec(s.trim());
        const d = m ? `${m[1]}-${pad(m[2], 2)}-${pad(m[3], 2)}` : null;
        return d && isValidTemporal(d) ? d : reject(s, name);
      });
    case 'timestamp':
      return wrap((s) => {
        const m = STAMP.exec(s.trim());
        const p = m && stamp(m);
        return p && !p.zone ? `${p.date} ${p.time}` : reject(s, name);
      });
    case 'timestamptz':
      return wrap((s) => {
        const m = STAMP.exec(s.trim());
        const p = m && stamp(m);
        return (p && toUtc(p.date, p.time, p.zone)) ?? reject(s, name);
      });
    case 'time':
      return wrap((s) => {
        const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?$/.exec(s.trim());
        return m && Number(m[1]) < 24 ? `${pad(m[1], 2)}:${m[2]}:${m[3] ?? '00'}${m[4] ?? ''}` : reject(s, name);
      });
    case 'uuid':
      return wrap((s) => {
        const h = s
          .trim()
          .replace(/^\{|\}$/g, '')
          .replace(/-/g, '')
          .toLowerCase();
        if (!/^[0-9a-f]{32}$/.test(h)) return reject(s, name);
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      });
    case 'json':
      return wrap((s) => {
        try {
          JSON.parse(s);
          return s;
        } catch {
          return reject(s, name);
        }
      });
    case 'text':
      return wrap((s) => (t.length !== undefined && [...s].length > t.length ? reject(s, `text(${t.length})`) : s));
    case 'bytes':
      return wrap((s) => (s.startsWith('\\x') ? Buffer.from(s.slice(2), 'hex') : Buffer.from(s, 'utf8')));
    default:
      return wrap((s) => s);
  }
}
