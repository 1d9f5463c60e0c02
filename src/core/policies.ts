/**
 * Policies for values that cannot be stored as they are. Each is explicit, shown by `ferry plan`
 * (with the counts found by profiling the source), applied per value while rows move, and counted
 * in the ledger. A rejected row goes to the stream's rejects file with its reason.
 */
export interface Policies {
  /** Zero or partial dates (`0000-00-00`, `2020-00-00`) and other impossible dates. */
  invalid_dates: 'null' | 'reject';
  /** NUL (0x00) in text, for targets that cannot store it (PostgreSQL). */
  nul_bytes: 'strip' | 'replace' | 'reject';
  /** Text that is not valid UTF-8. `replace` puts U+FFFD for each bad sequence; `cp1252` decodes it as Windows-1252. */
  invalid_utf8: 'reject' | 'replace' | 'cp1252';
  /** NaN and ±Infinity, for targets without them (MySQL). */
  non_finite_floats: 'null' | 'reject';
  /** A value outside the target type: too many digits for decimal(p,s), an integer overflow, text longer than text(n). */
  out_of_range: 'reject' | 'null' | 'clamp';
}

export const DEFAULT_POLICIES: Policies = {
  invalid_dates: 'null',
  nul_bytes: 'strip',
  invalid_utf8: 'reject',
  non_finite_floats: 'reject',
  out_of_range: 'reject',
};

/**
 * Values a dialect can hold that others cannot. The engine applies a policy where the source can
 * hold a value that the target cannot, and nowhere else (the hot path stays untouched).
 */
export interface ValueSupport {
  /** NUL characters inside text. */
  nulInText: boolean;
  /** NaN and ±Infinity in float columns. */
  nonFiniteFloats: boolean;
  /** Zero or partial dates (`0000-00-00`, `2020-02-31` in a text-typed store). */
  invalidDates: boolean;
  /** Text columns whose bytes are not valid UTF-8 (the reader returns InvalidText for them). */
  invalidUtf8: boolean;
  /** Dates beyond 0001-9999 AD: ±infinity, BC dates, years above 9999 (PostgreSQL has them, MySQL not). */
  extremeDates: boolean;
}

/** Text whose bytes are not valid UTF-8, as read (the `invalid_utf8` policy decides what it becomes). */
export class InvalidText {
  constructor(readonly bytes: Buffer) {}
  toString(): string {
    return this.bytes.toString('utf8');
  }
}

/**
 * A record a files source could not read as a row (a CSV line with the wrong number of fields, a
 * JSONL line that is not JSON), carried in the row's first column: the row goes to the rejects
 * with this reason instead of failing the load.
 */
export class UnreadableValue {
  constructor(
    readonly reason: string,
    readonly raw: string,
  ) {}
  toString(): string {
    return this.raw;
  }
}

/**
 * Windows-1252 bytes 0x80-0x9F (the rest is Latin-1). Written out because Node 20's TextDecoder
 * decodes the label `windows-1252` as plain Latin-1 (0x80 -> U+0080 instead of the euro sign).
 * Undefined bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 control of the same number, as WHATWG does.
 */
const CP1252_HIGH =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

export function decodeCp1252(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b);
  return out;
}
