/**
 * Values written as text, read as databases read them (a files source's CSV and JSONL): exact
 * decimals (an exponent moved into the digits, rounding to a scale half away from zero, as
 * PostgreSQL's numeric and MySQL's decimal both round) and zoned timestamps turned to UTC. Used
 * where ferry must agree with the database: verify's cast, and text MySQL would refuse.
 */

/** Digits of an exact decimal text with the point moved by an exponent: `1.5e3` -> `1500`. */
export function plainDecimal(s: string): string | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const sign = m[1] === '-' ? '-' : '';
  let int = m[2];
  let frac = m[3] ?? '';
  const exp = Number(m[4] ?? 0);
  if (exp > 0) {
    const take = frac.slice(0, exp).padEnd(exp, '0');
    int += take;
    frac = frac.slice(exp);
  } else if (exp < 0) {
    const n = -exp;
    frac = int.slice(-n).padStart(n, '0') + frac;
    int = int.slice(0, Math.max(0, int.length - n));
  }
  int = int.replace(/^0+/, '') || '0';
  return `${sign}${int}${frac ? `.${frac}` : ''}`;
}

/** Rounds a plain decimal to `scale` digits, half away from zero (as PostgreSQL and MySQL do). */
export function roundScale(s: string, scale: number): string {
  const neg = s.startsWith('-');
  const [int, frac = ''] = (neg ? s.slice(1) : s).split('.');
  if (frac.length <= scale) return (neg ? '-' : '') + (scale ? `${int}.${frac.padEnd(scale, '0')}` : int);
  const digits = BigInt(int + frac.slice(0, scale)) + (Number(frac[scale]) >= 5 ? 1n : 0n);
  const text = digits.toString().padStart(scale + 1, '0');
  const out = scale ? `${text.slice(0, -scale)}.${text.slice(-scale)}` : text;
  return (neg && /[1-9]/.test(out) ? '-' : '') + out;
}

/**
 * A timestamp with a zone offset as UTC text, `YYYY-MM-DD HH:MM:SS[.f]` (no zone): `date` is
 * `YYYY-MM-DD`, `time` `HH:MM:SS[.f]`, `zone` `Z`, `±HH`, `±HHMM` or `±HH:MM` (none: already UTC).
 * Null when the date is not one `Date` can hold.
 */
export function zonedToUtc(date: string, time: string, zone: string | undefined): string | null {
  if (!zone || /^z$/i.test(zone) || /^[+-]00(:?00)?$/.test(zone)) return `${date} ${time}`;
  const z = zone.replace(':', '');
  const minutes = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5) || 0)) * (z[0] === '-' ? -1 : 1);
  const [hms, frac] = time.split('.');
  const ms = Date.parse(`${date}T${hms}Z`);
  if (Number.isNaN(ms)) return null;
  const utc = new Date(ms - minutes * 60_000).toISOString();
  return `${utc.slice(0, 10)} ${utc.slice(11, 19)}${frac ? `.${frac}` : ''}`;
}

/** Does plain decimal text fit decimal(p, s) without rounding (the out_of_range guard's test)? */
export function decimalFits(s: string, p: number, sc: number): boolean {
  const m = /^[+-]?(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m) return false;
  const int = m[1].replace(/^0+/, '');
  const frac = (m[2] ?? '').replace(/0+$/, '');
  return int.length <= p - sc && frac.length <= sc;
}

/** The number the ASCII digits s[from, to) spell, or -1 when one is not a digit (or s is shorter). */
export function asciiDigits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    n = n * 10 + c;
  }
  return n;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Is year-month-day a real date of the proleptic Gregorian calendar (year 0 is not)? */
export function isRealDate(y: number, m: number, d: number): boolean {
  if (y === 0 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]);
}
