/**
 * Column types for the files source (CSV, JSONL), which carries no schema of its own.
 *
 * `TypeGuesser` infers a column's logical type from sampled values. The target database casts the
 * source text itself, so a type is only inferred when its text form is one that both PostgreSQL and
 * MariaDB parse; anything doubtful stays `text`, which never loses a value. In particular:
 * - integers with leading zeros (`007`, zip codes) stay text: a number would drop the zeros;
 * - `1.50` is `decimal` (exact, no precision: later rows may have more digits), `1e3` is `float64`;
 *   a number beyond MySQL's widest decimal(65,30) (more than 35 integer or 30 fraction digits)
 *   stays text, since MySQL would reject or round it;
 * - dates must be real calendar dates (`2023-02-30` is text);
 * - a timestamp with a zone and one without in the same column is text: the zone of the bare ones
 *   is unknown, and guessing would shift them.
 *
 * JSON values (from JSONL) are judged by their JSON type first: numbers, booleans, objects and
 * arrays have one. A JSON string holding a number or boolean (`"42"`, `"true"`) stays text: the
 * producer chose a string, often for ids or codes that must keep their form. A JSON string holding a
 * date, time, timestamp or uuid is typed, as JSON has no type of its own for those. CSV fields are
 * all strings, so there `42` and `true` are typed. Pass `{ source: 'jsonl' }` for JSONL columns.
 *
 * `parseColumnType` reads the explicit column types a job file may give, in ferry's own names or
 * the common SQL spellings.
 */
import { parseLogical } from '../../core/cast-rules.js';
import { ConfigError } from '../../core/errors.js';
import type { LogicalType } from '../../core/logical-types.js';

/** What one value, or a whole column so far, looks like. */
type Guess =
  | 'int32'
  | 'int64'
  | 'decimal'
  | 'float64'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'uuid'
  | 'json'
  | 'text';

export interface TypeGuesserOptions {
  /** `jsonl`: strings holding numbers or booleans stay text (see the header). Default `csv`. */
  source?: 'csv' | 'jsonl';
}

export interface TypeGuess {
  logical: LogicalType;
  /** Values added, nulls included. */
  sampled: number;
  /** Of those, null or undefined. */
  nulls: number;
}

/** Feeds on one column's sampled values; `result()` is the narrowest type that holds them all. */
export class TypeGuesser {
  private guess: Guess | null = null;
  private sampled = 0;
  private nulls = 0;
  private readonly jsonStrings: boolean;

  constructor(o: TypeGuesserOptions = {}) {
    this.jsonStrings = o.source === 'jsonl';
  }

  add(v: unknown): void {
    this.sampled++;
    if (v === null || v === undefined) {
      this.nulls++;
      return;
    }
    if (this.guess === 'text') return; // nothing widens text: skip the work
    const g = classify(v, this.jsonStrings);
    this.guess = this.guess === null ? g : widen(this.guess, g);
  }

  result(): TypeGuess {
    return { logical: { kind: this.guess ?? 'text' }, sampled: this.sampled, nulls: this.nulls };
  }
}

const NUMERIC_RANK: Partial<Record<Guess, number>> = { int32: 0, int64: 1, decimal: 2, float64: 3 };

/** The narrowest type holding values of both: numbers widen, dates widen to timestamps, else text. */
function widen(a: Guess, b: Guess): Guess {
  if (a === b) return a;
  const ra = NUMERIC_RANK[a];
  const rb = NUMERIC_RANK[b];
  if (ra !== undefined && rb !== undefined) return ra > rb ? a : b;
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp';
  return 'text';
}

function classify(v: unknown, jsonStrings: boolean): Guess {
  switch (typeof v) {
    case 'string':
      return jsonStrings ? classifyJsonString(v) : classifyText(v);
    case 'number':
      return classifyNumber(v);
    case 'bigint':
      return integerGuess(v);
    case 'boolean':
      return 'boolean';
    case 'object':
      return 'json'; // only objects and arrays get here (null is counted before)
    default:
      return 'text';
  }
}

/** A JSON string: temporal and uuid forms are typed, numbers and booleans stay text. */
function classifyJsonString(s: string): Guess {
  const g = classifyText(s);
  return NUMERIC_RANK[g] !== undefined || g === 'boolean' ? 'text' : g;
}

const INT_RE = /^-?(?:0|[1-9]\d*)$/;
const DECIMAL_RE = /^-?(?:0|[1-9]\d*)\.(\d+)$/;
const FLOAT_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?[eE][+-]?\d+$/;
const BOOL_RE = /^(?:true|false)$/i;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?$/;
const TIMESTAMP_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** MySQL's widest decimal is decimal(65,30): 35 integer digits, 30 fraction digits. */
const MAX_INT_DIGITS = 35;
const MAX_FRACTION_DIGITS = 30;

function classifyText(s: string): Guess {
  if (INT_RE.test(s)) return integerGuess(BigInt(s));
  const dec = DECIMAL_RE.exec(s);
  if (dec) return decimalFits(s, dec[1].length) ? 'decimal' : 'text';
  if (FLOAT_RE.test(s)) return floatFits(s) ? 'float64' : 'text';
  if (BOOL_RE.test(s)) return 'boolean';
  if (UUID_RE.test(s)) return 'uuid';
  if (DATE_RE.test(s)) return isDate(s) ? 'date' : 'text';
  if (TIME_RE.test(s)) return isTime(s) ? 'time' : 'text';
  return classifyTimestamp(s);
}

function classifyTimestamp(s: string): Guess {
  const m = TIMESTAMP_RE.exec(s);
  if (!m || !isDate(m[1]) || !isTime(m[2])) return 'text';
  if (m[3] === undefined) return 'timestamp';
  return isOffset(m[3]) ? 'timestamptz' : 'text';
}

const INT32_MAX = 2n ** 31n - 1n;
const INT64_MAX = 2n ** 63n - 1n;

function integerGuess(n: bigint): Guess {
  if (n >= -INT32_MAX - 1n && n <= INT32_MAX) return 'int32';
  if (n >= -INT64_MAX - 1n && n <= INT64_MAX) return 'int64';
  const digits = (n < 0n ? -n : n).toString().length;
  return digits <= MAX_INT_DIGITS ? 'decimal' : 'text';
}

/**
 * A JSON number is already a double. Integers up to 2^53 are exact; above, JSON.parse has rounded
 * them, so they are decimal (never an int64 that looks exact), or float64 beyond decimal's range.
 */
function classifyNumber(v: number): Guess {
  if (!Number.isInteger(v)) return 'float64';
  if (Number.isSafeInteger(v)) return integerGuess(BigInt(v));
  return Math.abs(v) < 10 ** MAX_INT_DIGITS ? 'decimal' : 'float64';
}

function decimalFits(s: string, fractionDigits: number): boolean {
  const intDigits = s.replace(/^-/, '').indexOf('.');
  return intDigits <= MAX_INT_DIGITS && fractionDigits <= MAX_FRACTION_DIGITS;
}

/** Out of double range (`1e400`, or `1e-400` rounding to 0) is an error in PostgreSQL: keep text. */
function floatFits(s: string): boolean {
  const n = Number(s);
  if (!Number.isFinite(n)) return false;
  const mantissaIsZero = !/[1-9]/.test(s.replace(/[eE].*$/, ''));
  return n !== 0 || mantissaIsZero;
}

function isDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

function isTime(s: string): boolean {
  const m = TIME_RE.exec(s);
  return m !== null && Number(m[1]) <= 23 && Number(m[2]) <= 59 && Number(m[3]) <= 59;
}

/** `Z`, `±HH`, `±HHMM`, `±HH:MM`, within the ±15:59 both databases accept. */
function isOffset(z: string): boolean {
  if (z === 'Z') return true;
  const digits = z.slice(1).replace(':', '');
  return Number(digits.slice(0, 2)) <= 15 && Number(digits.slice(2) || '0') <= 59;
}

/** SQL spellings of the logical types, beyond the names `parseLogical` reads. */
const SQL_ALIASES: ReadonlyMap<string, LogicalType> = new Map(
  Object.entries({
    integer: { kind: 'int32' },
    int: { kind: 'int32' },
    int4: { kind: 'int32' },
    smallint: { kind: 'int16' },
    int2: { kind: 'int16' },
    bigint: { kind: 'int64' },
    int8: { kind: 'int64' },
    real: { kind: 'float32' },
    float4: { kind: 'float32' },
    double: { kind: 'float64' },
    'double precision': { kind: 'float64' },
    float: { kind: 'float64' },
    float8: { kind: 'float64' },
    bool: { kind: 'boolean' },
    varchar: { kind: 'text' },
    'character varying': { kind: 'text' },
    char: { kind: 'text', length: 1 }, // SQL: CHAR without a length is CHAR(1)
    character: { kind: 'text', length: 1 },
    jsonb: { kind: 'json' },
    'timestamp with time zone': { kind: 'timestamptz' },
    'timestamp without time zone': { kind: 'timestamp' },
    datetime: { kind: 'timestamp' },
    'time without time zone': { kind: 'time' },
    bytea: { kind: 'bytes' },
    blob: { kind: 'bytes' },
  } satisfies Record<string, LogicalType>),
);

const LENGTH_RE = /^(?:varchar|character varying|char|character)\((\d+)\)$/;

const ACCEPTED =
  'boolean, int16, int32, int64, uint64, float32, float64, decimal(p,s), text(n), bytes, date, time, ' +
  'timestamp, timestamptz, uuid, json, interval, array<type>; and SQL spellings: ' +
  `${[...SQL_ALIASES.keys()].join(', ')}, varchar(n), character varying(n), char(n), numeric(p,s)`;

/**
 * A column type given explicitly in a job file (`integer`, `varchar(20)`, `timestamp with time
 * zone`, `decimal(12,2)`, `array<bigint>`). Case and spacing do not matter.
 * @throws ConfigError naming `where` and listing the accepted names.
 */
export function parseColumnType(name: string, where: string): LogicalType {
  const s = name
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/\s*([(),<>])\s*/g, '$1');
  const arr = /^array<(.+)>$/.exec(s);
  if (arr) return { kind: 'array', element: parseColumnType(arr[1], where) };
  const alias = SQL_ALIASES.get(s);
  if (alias) return { ...alias };
  const len = LENGTH_RE.exec(s);
  if (len) return { kind: 'text', length: Number(len[1]) };
  try {
    return parseLogical(s, where);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(`${where}: unknown type ${JSON.stringify(name)}`, { hint: `use one of ${ACCEPTED}` });
  }
}
