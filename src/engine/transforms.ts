/**
 * The value stage between reader and writer: cast-rule transforms (`int-to-boolean`, ...) and
 * the policies for values the target cannot store. Dialect-free: it works on logical values and
 * on the target's declared ValueSupport. A value that must be rejected takes its whole row to the
 * rejects file, with the column, the raw value and the reason.
 */
import { canonicalValue } from '../core/canonical.js';
import type { TransformName } from '../core/cast-rules.js';
import type { LogicalType } from '../core/logical-types.js';
import {
  DEFAULT_POLICIES,
  decodeCp1252,
  InvalidText,
  type Policies,
  UnreadableValue,
  type ValueSupport,
} from '../core/policies.js';
import { asciiDigits, decimalFits, isRealDate } from '../core/text-values.js';
import type { ColumnPlan } from './plan-types.js';
import { textCast } from './text-cast.js';

/** Returned by a column step when the row must be rejected. */
export class Rejection {
  constructor(
    readonly reason: string,
    readonly policy: string,
  ) {}
}

/** Counts of values changed by a policy (shown in the ledger), by policy name. */
export type PolicyCounts = Record<string, number>;

type Step = (v: unknown, counts: PolicyCounts) => unknown;

const bump = (c: PolicyCounts, k: string) => {
  c[k] = (c[k] ?? 0) + 1;
};

function bitsToBigInt(b: Buffer): bigint {
  let n = 0n;
  for (const byte of b) n = (n << 8n) | BigInt(byte);
  return n;
}

/**
 * MySQL time (`-838:59:59.5`) -> ISO 8601 duration in PostgreSQL's own output form (each part
 * signed, zero parts left out: `PT-838H-59M-59.5S`, `PT0S`), so that verify compares like with like.
 */
export function timeToInterval(s: string): string {
  const m = /^(-)?(\d+):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(s);
  if (!m) return s;
  const sign = m[1] ? '-' : '';
  const frac = (m[5] ?? '').replace(/0+$/, '');
  const h = Number(m[2]);
  const mi = Number(m[3]);
  const sec = Number(m[4]);
  let out = 'PT';
  if (h) out += `${sign}${h}H`;
  if (mi) out += `${sign}${mi}M`;
  if (sec || frac) out += `${sign}${sec}${frac ? `.${frac}` : ''}S`;
  return out === 'PT' ? 'PT0S' : out;
}

export function transformStep(name: TransformName, from: LogicalType): Step {
  switch (name) {
    case 'int-to-boolean':
      return (v) => (v === null ? null : Number(v) !== 0);
    case 'bits-to-boolean':
      return (v) => (v === null ? null : Buffer.isBuffer(v) ? bitsToBigInt(v) !== 0n : Boolean(v));
    case 'bits-to-integer':
      return (v) => (v === null ? null : Buffer.isBuffer(v) ? bitsToBigInt(v) : BigInt(v as number));
    case 'time-to-interval':
      return (v) => (v === null ? null : timeToInterval(String(v)));
    case 'binary16-to-uuid':
      return (v) => {
        if (v === null) return null;
        const b = v as Buffer;
        if (!Buffer.isBuffer(b) || b.length !== 16)
          return new Rejection(`not 16 bytes, cannot be a uuid`, 'binary16-to-uuid');
        const h = b.toString('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      };
    case 'keep-as-text':
      return (v) => (v === null ? null : v instanceof InvalidText ? v : canonicalValue(from, v));
    case 'zero-dates-to-null':
      return (v, c) => {
        if (v === null || isValidTemporal(String(v))) return v;
        bump(c, 'invalid_dates');
        return null;
      };
    case 'strip-nul':
      return (v, c) => {
        if (typeof v !== 'string' || !v.includes('\u0000')) return v;
        bump(c, 'nul_bytes');
        return v.replace(/\u0000/g, '');
      };
  }
}

/** Is the date part of a date/timestamp text a real calendar date (or ±infinity)? */
export function isValidTemporal(s: string): boolean {
  let y: number;
  let mo: number;
  let d: number;
  // Every timestamp of a MySQL source comes here: `YYYY-MM-DD...` is read by character codes, without
  // a regex match and three Number() calls (1.4 s of a 5.2M-row copy's profile).
  const y4 = asciiDigits(s, 0, 4);
  if (
    y4 >= 0 &&
    s.charCodeAt(4) === 45 &&
    s.charCodeAt(7) === 45 &&
    asciiDigits(s, 5, 7) >= 0 &&
    asciiDigits(s, 8, 10) >= 0
  ) {
    y = y4;
    mo = asciiDigits(s, 5, 7);
    d = asciiDigits(s, 8, 10);
  } else {
    if (s === 'infinity' || s === '-infinity') return true;
    const m = /^(\d{4,})-(\d{2})-(\d{2})/.exec(s);
    if (!m) return true; // not a date form we judge (e.g. BC dates pass through)
    y = Number(m[1]);
    mo = Number(m[2]);
    d = Number(m[3]);
  }
  return isRealDate(y, mo, d);
}

/** ±infinity, BC, or a year above 9999: what MySQL's date types cannot hold. */
export function isExtremeTemporal(s: string): boolean {
  return s === 'infinity' || s === '-infinity' || s.endsWith(' BC') || /^\d{5,}-/.test(s);
}

const INT_RANGE: Record<string, [bigint, bigint]> = {
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const INT_ORDER = ['int16', 'int32', 'int64', 'uint64'];

/** Can a source value of type `from` fall outside target type `t`? */
function mayOverflow(from: LogicalType, t: LogicalType): boolean {
  if (t.kind === 'text')
    return t.length !== undefined && (from.kind !== 'text' || from.length === undefined || from.length > t.length);
  if (t.kind === 'decimal') {
    if (t.precision === undefined) return false;
    if (from.kind !== 'decimal' || from.precision === undefined) return true;
    const sc = t.scale ?? 0;
    return from.precision - (from.scale ?? 0) > t.precision - sc || (from.scale ?? 0) > sc;
  }
  if (INT_ORDER.includes(t.kind)) {
    if (!INT_ORDER.includes(from.kind)) return true;
    if (from.kind === 'uint64' || t.kind === 'uint64') return from.kind !== t.kind;
    return INT_ORDER.indexOf(from.kind) > INT_ORDER.indexOf(t.kind);
  }
  return false;
}

/**
 * Policy guards for a value of logical type `t` (coming from `from`) going from a source that can
 * hold `src` into a target that can hold `tgt`: only where the source can produce what the target
 * cannot take.
 */
function guardSteps(
  from: LogicalType,
  t: LogicalType,
  src: ValueSupport,
  tgt: ValueSupport,
  policies: Policies,
): Step[] {
  const steps: Step[] = [];
  const outOfRange = (_v: unknown, c: PolicyCounts, reason: string, clamp?: () => unknown): unknown => {
    if (policies.out_of_range === 'reject') return new Rejection(reason, 'out_of_range');
    bump(c, 'out_of_range');
    return policies.out_of_range === 'clamp' && clamp ? clamp() : null;
  };
  switch (t.kind) {
    case 'text':
    case 'json':
      // A target that stores bytes as they are (MySQL, loading CHARACTER SET binary) keeps them.
      if (src.invalidUtf8 && !tgt.invalidUtf8)
        steps.push((v, c) => {
          if (!(v instanceof InvalidText)) return v;
          if (policies.invalid_utf8 === 'reject') return new Rejection('invalid UTF-8', 'invalid_utf8');
          bump(c, 'invalid_utf8');
          return policies.invalid_utf8 === 'replace' ? v.bytes.toString('utf8') : decodeCp1252(v.bytes);
        });
      if (src.nulInText && !tgt.nulInText) {
        steps.push((v, c) => {
          if (typeof v !== 'string' || !v.includes('\u0000')) return v;
          if (policies.nul_bytes === 'reject') return new Rejection('text contains NUL (0x00)', 'nul_bytes');
          bump(c, 'nul_bytes');
          return v.replace(/\u0000/g, policies.nul_bytes === 'replace' ? '\uFFFD' : '');
        });
      }
      if (t.kind === 'text' && t.length !== undefined && mayOverflow(from, t)) {
        const n = t.length;
        steps.push((v, c) => {
          if (typeof v !== 'string' || v.length <= n || [...v].length <= n) return v;
          return outOfRange(v, c, `longer than ${n} characters`, () => [...v].slice(0, n).join(''));
        });
      }
      break;
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      if (src.extremeDates && !tgt.extremeDates) {
        steps.push((v, c) => {
          if (v === null || !isExtremeTemporal(String(v))) return v;
          return outOfRange(v, c, `${String(v)} is outside the target's date range (0001-9999)`);
        });
      }
      if (src.invalidDates && !tgt.invalidDates)
        steps.push((v, c) => {
          if (v === null || isValidTemporal(String(v))) return v;
          if (policies.invalid_dates === 'reject') return new Rejection(`invalid date ${String(v)}`, 'invalid_dates');
          bump(c, 'invalid_dates');
          return null;
        });
      break;
    case 'float32':
    case 'float64':
      if (src.nonFiniteFloats && !tgt.nonFiniteFloats) {
        steps.push((v, c) => {
          if (typeof v !== 'number' || Number.isFinite(v)) return v;
          if (policies.non_finite_floats === 'reject')
            return new Rejection(`${v} cannot be stored`, 'non_finite_floats');
          bump(c, 'non_finite_floats');
          return null;
        });
      }
      break;
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint64': {
      if (!mayOverflow(from, t)) break;
      const [lo, hi] = INT_RANGE[t.kind];
      steps.push((v, c) => {
        if (v === null) return v;
        const n = typeof v === 'bigint' ? v : BigInt(v as number);
        if (n >= lo && n <= hi) return v;
        return outOfRange(v, c, `${n} is outside ${t.kind}`, () => {
          const x = n < lo ? lo : hi;
          return t.kind === 'int16' || t.kind === 'int32' ? Number(x) : x;
        });
      });
      break;
    }
    case 'decimal':
      if (t.precision !== undefined && mayOverflow(from, t)) {
        const p = t.precision;
        const sc = t.scale ?? 0;
        steps.push((v, c) => {
          if (v === null || decimalFits(String(v), p, sc)) return v;
          return outOfRange(v, c, `${String(v)} does not fit decimal(${p},${sc})`);
        });
      }
      break;
    default:
      break;
  }
  return steps;
}

/**
 * Runs the column stages over rows in place; a row with a rejected value is left out and handed to
 * `onReject` (column index, rejection). Used by the executor and by verify (which compares the
 * target with the source as the policies made it).
 */
export function stageRows(
  stages: readonly (ColumnStage | null)[],
  rows: unknown[][],
  counts: PolicyCounts,
  onReject: (row: unknown[], column: number, r: Rejection) => void,
): unknown[][] {
  const out: unknown[][] = [];
  next: for (const row of rows) {
    for (let i = 0; i < stages.length; i++) {
      const st = stages[i];
      if (!st) continue;
      const v = st.apply(row[i], counts);
      if (v instanceof Rejection) {
        onReject(row, i, v);
        continue next;
      }
      row[i] = v;
    }
    out.push(row);
  }
  return out;
}

export interface ColumnStage {
  /** Applies transform and policies; returns the value to write, or a Rejection. */
  apply(v: unknown, counts: PolicyCounts): unknown;
}

/**
 * The steps of one column: the cast rule's transform (from the source logical type), then the
 * policies of the target logical type. Null when nothing applies (the hot path stays untouched).
 */
export function columnStage(
  source: LogicalType,
  target: LogicalType,
  transform: TransformName | undefined,
  sourceSupport: ValueSupport,
  targetSupport: ValueSupport,
  policies: Policies,
): ColumnStage | null {
  const steps: Step[] = [];
  if (transform) steps.push(transformStep(transform, source));
  // After a transform the value has the target's logical type; the guards judge that. bit(n) bits
  // are an unsigned value up to 2^64-1, which a signed 64-bit target may not hold.
  const from: LogicalType = transform === 'bits-to-integer' ? { kind: 'uint64' } : transform ? target : source;
  steps.push(...guardSteps(from, target, sourceSupport, targetSupport, policies));
  if (steps.length === 0) return null;
  return {
    apply(v, counts) {
      let x = v;
      for (const s of steps) {
        if (x === null) return null;
        x = s(x, counts);
        if (x instanceof Rejection) return x;
      }
      return x;
    },
  };
}

/** The stages of a stream's columns, as a run (and verify) applies them. */
export function streamStages(
  columns: readonly Pick<ColumnPlan, 'source' | 'target' | 'transform'>[],
  policies: Policies | undefined,
  source: { capabilities: { values: ValueSupport } },
  target: { capabilities: { values: ValueSupport } },
  /** Cast a files source's text here (verify; a target that does not cast text), not in the database. */
  castTextHere = false,
): (ColumnStage | null)[] {
  // A column that arrives as text for the database to cast is judged as text here (NUL bytes,
  // invalid UTF-8); the database judges the rest and refuses what does not cast.
  const TEXT: LogicalType = { kind: 'text' };
  // Invalid UTF-8 in a text file follows the policy whatever the target: a MySQL target keeps the
  // bytes of a MySQL source as they were, but a file's bytes go into a utf8mb4 column.
  const textTarget = { ...target.capabilities.values, invalidUtf8: false };
  return columns.map((c) => {
    const stage = columnStage(
      c.source.text ? TEXT : c.source.logical,
      c.source.text ? TEXT : c.target.logical,
      c.transform,
      source.capabilities.values,
      c.source.text ? textTarget : target.capabilities.values,
      policies ?? DEFAULT_POLICIES,
    );
    if (!c.source.text) return stage;
    return castTextHere || !c.target.fromText
      ? castAfter(unreadableFirst(stage), textCast(c.target.logical), c.target.nullable)
      : unreadableFirst(stage);
  });
}

/** A column stage followed by the cast of the text (a NULL in a NOT NULL column is refused too). */
function castAfter(stage: ColumnStage, cast: (v: unknown) => unknown, nullable: boolean): ColumnStage {
  return {
    apply(v, counts) {
      const x = stage.apply(v, counts);
      if (x instanceof Rejection) return x;
      if (x === null || x === undefined) return nullable ? null : new Rejection('NULL in a NOT NULL column', 'cast');
      return cast(x);
    },
  };
}

/** A text column of a files source: a record that could not be read is rejected with its reason. */
function unreadableFirst(stage: ColumnStage | null): ColumnStage {
  return {
    apply(v, counts) {
      if (v instanceof UnreadableValue) return new Rejection(v.reason, 'malformed');
      return stage ? stage.apply(v, counts) : v;
    },
  };
}
