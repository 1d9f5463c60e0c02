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
}

/** Text whose bytes are not valid UTF-8, as read (the `invalid_utf8` policy decides what it becomes). */
export class InvalidText {
  constructor(readonly bytes: Buffer) {}
  toString(): string {
    return this.bytes.toString('utf8');
  }
}
