/**
 * Logical values <-> what the file formats store: days and microseconds since the epoch (Parquet),
 * scaled integers (Parquet decimals), and the text forms of CSV and JSONL. Every conversion has its
 * inverse here, so a file read back gives the value that was written (verify proves it).
 *
 * Dates are proleptic Gregorian, as in PostgreSQL: `0044-03-15 BC` is astronomical year -43.
 * ±infinity are stored as DuckDB stores them: INT32 ±(2^31-1) days, INT64 ±(2^63-1) microseconds.
 */
import { TerminalError } from '../../core/errors.js';

export const DATE_INFINITY = 2147483647;
export const TS_INFINITY = 9223372036854775807n;
const MICROS_PER_DAY = 86_400_000_000n;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const TEMPORAL =
  /^(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?( BC)?$/;

function bad(kind: string, s: string): TerminalError {
  return new TerminalError(`${JSON.stringify(s)} is not a ${kind} ferry can store in a file`, {
    hint: 'report it with the source type: the value reader and the file writer disagree',
  });
}

/** `2024-01-02`, `0044-03-15 BC`, `infinity` -> days since the epoch. */
export function dateToDays(s: string): number {
  if (s === 'infinity') return DATE_INFINITY;
  if (s === '-infinity') return -DATE_INFINITY;
  const m = TEMPORAL.exec(s);
  if (!m) throw bad('date', s);
  const y = m[9] ? 1 - Number(m[1]) : Number(m[1]);
  return daysFromCivil(y, Number(m[2]), Number(m[3]));
}

function ymd(days: number): string {
  const [y, m, d] = civilFromDays(days);
  const bc = y <= 0;
  const year = String(bc ? 1 - y : y).padStart(4, '0');
  return `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}${bc ? ' BC' : ''}`;
}

export function daysToDate(days: number): string {
  if (days === DATE_INFINITY) return 'infinity';
  if (days === -DATE_INFINITY) return '-infinity';
  return ymd(days);
}

function zoneSeconds(z: string | undefined): number {
  if (!z || z === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?:?(\d{2})?$/.exec(z)!;
  const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -secs : secs;
}

const digits = (s: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
};

/**
 * The common form, `YYYY-MM-DD HH:MM:SS[.f{1,6}][+00]`, without a regex (the Parquet writer's hot
 * path: profiled at 2.2 s of 31 for 5M rows through the regex). Null for any other form.
 */
function fastMicros(s: string): bigint | null {
  let n = s.length;
  if (s.endsWith('+00')) n -= 3;
  if (n < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32) return null;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 7);
  const d = digits(s, 8, 10);
  const h = digits(s, 11, 13);
  const mi = digits(s, 14, 16);
  const se = digits(s, 17, 19);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0) return null;
  let frac = 0;
  if (n > 19) {
    if (s.charCodeAt(19) !== 46 || n - 20 > 6 || n === 20) return null;
    frac = digits(s, 20, n);
    if (frac < 0) return null;
    frac *= 10 ** (6 - (n - 20));
  }
  const secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  return BigInt(secs) * 1_000_000n + BigInt(frac);
}

/** A timestamp (with or without zone) -> microseconds since the epoch (UTC for a zoned one). */
export function timestampToMicros(s: string): bigint {
  const fast = fastMicros(s);
  if (fast !== null) return fast;
  if (s === 'infinity') return TS_INFINITY;
  if (s === '-infinity') return -TS_INFINITY;
  const m = TEMPORAL.exec(s);
  if (!m) throw bad('timestamp', s);
  const y = m[9] ? 1 - Number(m[1]) : Number(m[1]);
  const days = daysFromCivil(y, Number(m[2]), Number(m[3]));
  const secs = Number(m[4] ?? 0) * 3600 + Number(m[5] ?? 0) * 60 + Number(m[6] ?? 0) - zoneSeconds(m[8]);
  const frac = BigInt((m[7] ?? '').padEnd(6, '0') || '0');
  return BigInt(days) * MICROS_PER_DAY + BigInt(secs) * 1_000_000n + frac;
}

function hms(micros: bigint): string {
  // Under a day of microseconds fits a double exactly: plain number arithmetic (a BigInt per field
  // was a tenth of a Parquet load's time).
  const m = Number(micros);
  const secs = Math.floor(m / 1_000_000);
  const frac = m - secs * 1_000_000;
  const h = Math.floor(secs / 3600);
  const mi = Math.floor(secs / 60) % 60;
  const se = secs % 60;
  const f = frac === 0 ? '' : `.${String(frac).padStart(6, '0').replace(/0+$/, '')}`;
  return `${h < 10 ? '0' : ''}${h}:${mi < 10 ? '0' : ''}${mi}:${se < 10 ? '0' : ''}${se}${f}`;
}

/** Microseconds since the epoch -> the logical text (`+00` appended for a zoned timestamp). */
export function microsToTimestamp(micros: bigint, zoned: boolean): string {
  if (micros === TS_INFINITY) return 'infinity';
  if (micros === -TS_INFINITY) return '-infinity';
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const date = ymd(Number(days));
  const bc = date.endsWith(' BC');
  const core = `${bc ? date.slice(0, -3) : date} ${hms(rest)}${zoned ? '+00' : ''}`;
  return bc ? `${core} BC` : core;
}

/** `HH:MM:SS[.ffffff]` -> microseconds since midnight (`24:00:00` is 86,400,000,000). */
export function timeToMicros(s: string): bigint {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) throw bad('time', s);
  const secs = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return BigInt(secs) * 1_000_000n + BigInt((m[4] ?? '').padEnd(6, '0') || '0');
}

export function microsToTime(micros: bigint): string {
  return hms(micros);
}

/** `-12.30` at scale 2 -> -1230n. A value with more decimals than the scale is an error, not rounded. */
export function decimalToScaled(s: string, scale: number): bigint | null {
  const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > scale) return null;
  const n = BigInt((m[2] || '0') + frac.padEnd(scale, '0'));
  return m[1] === '-' ? -n : n;
}

export function scaledToDecimal(n: bigint, scale: number): string {
  const neg = n < 0n;
  const digits = (neg ? -n : n).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${neg ? '-' : ''}${int}${frac}`;
}

/** Shortest text that reads back as the same double (`-0`, `NaN`, `Infinity` included). */
export function floatText(n: number): string {
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

export function parseFloatText(s: string): number {
  if (s === 'NaN') return Number.NaN;
  if (s === 'Infinity' || s === 'inf' || s === '+Infinity') return Number.POSITIVE_INFINITY;
  if (s === '-Infinity' || s === '-inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}
