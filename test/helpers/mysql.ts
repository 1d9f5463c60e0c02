/**
 * MySQL/MariaDB test helpers: the server at 127.0.0.1:3306 (FERRY_TEST_MYSQL_URL overrides it),
 * databases named `ferry_my_*`, and independent reads with the `mysql2` driver (never ferry's
 * reader) for the conformance suite.
 *
 * Every helper connection pins `time_zone = '+00:00'`, so TIMESTAMP values are written and read as
 * UTC text whatever the server's zone is (the server's own zone is SYSTEM).
 */
import mysql from 'mysql2/promise';
import { withPg } from './compare.js';

/** Base URL of the test MySQL/MariaDB server (no database part). */
export const MY_BASE = (process.env.FERRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');

export function myUrl(db: string): string {
  return `${MY_BASE}/${db}`;
}

/** Connection options of the test server (host, port, user, password, utf8mb4, exact numbers). */
export function baseOptions(): mysql.ConnectionOptions {
  const u = new URL(MY_BASE);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
  };
}

/** A connection (to `db`, or to no database), session in UTC; closed after `fn`. */
export async function withMy<T>(db: string | null, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ ...baseOptions(), ...(db ? { database: db } : {}) });
  try {
    await c.query(`SET time_zone = '+00:00'`);
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Runs one statement; returns its rows (or result header). */
export async function myQuery<R = Record<string, unknown>>(
  db: string | null,
  sql: string,
  values: unknown[] = [],
): Promise<R> {
  return withMy(db, async (c) => (await c.query({ sql, values }))[0] as R);
}

/** (Re)creates an empty database and returns its URL. */
export async function freshMyDatabase(name: string): Promise<string> {
  if (!/^ferry_my_[a-z0-9_]+$/.test(name)) throw new Error(`test databases are named ferry_my_*: ${name}`);
  await withMy(null, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  });
  return myUrl(name);
}

// ------------------------------------------------------------------------------------------------
// Comparison across MySQL and PostgreSQL
// ------------------------------------------------------------------------------------------------

/**
 * How a column is compared. Every kind brings the two spellings of ONE value to one text and can
 * never merge two different values:
 * - int: both sides as a decimal integer (MySQL YEAR prints '0000' for year 0: parsed as an integer).
 * - bool: MySQL tinyint(1) 0/1 (the int-to-boolean rule) vs PostgreSQL true/false.
 * - bitbool / bits: MySQL bit(n) raw bytes as an unsigned big-endian integer; bitbool maps 0/1 to
 *   false/true (anything else stays a number and shows up as a difference).
 * - float8: MySQL read with the BINARY protocol (prepared statement: the 8 IEEE bytes, no text on
 *   the way), PostgreSQL's shortest exact text parsed; compared as the 64 bits of the double.
 * - float4: the same; MySQL's binary protocol sends the 4 bytes of the float, PostgreSQL's real text
 *   is read back at float32 precision (Math.fround), compared as bits.
 * - decimal, text, json, date, enum/set text: the exact text.
 * - time, timestamp: trailing zeros of the fraction dropped on both sides ('.500000' = '.5').
 * - timestamptz: MySQL TIMESTAMP read in a '+00:00' session is UTC text; '+00' is appended so it
 *   equals PostgreSQL's timestamptz text in TimeZone=UTC (any other offset stays and differs).
 * - interval: both sides as a signed count of microseconds (MySQL TIME text parsed; PostgreSQL
 *   extract(epoch)), so '-12:30:00.5' and 'PT-12H-30M-0.5S' meet without copying ferry's formatter.
 * - isointerval: PostgreSQL interval text (IntervalStyle iso_8601) vs the text MySQL holds.
 * - bytes: lower-case hex. uuid: lower-case text (from binary(16): the 16 bytes in order as 8-4-4-4-12).
 * - cp1252: MySQL latin1 bytes (read as HEX(), no server conversion) decoded as Windows-1252
 *   (`cp1252()` below), vs the PostgreSQL text.
 */
export type MyKind =
  | 'int'
  | 'bool'
  | 'bitbool'
  | 'bits'
  | 'float8'
  | 'float4'
  | 'decimal'
  | 'text'
  | 'json'
  | 'bytes'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'isointerval'
  | 'uuid'
  | 'cp1252';

export interface MyCol {
  name: string;
  kind: MyKind;
  /** The name in the target when ferry renames it (too long, colliding). */
  targetName?: string;
}

export type Cell = string | null;

function bq(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

function trimFraction(s: string): string {
  return s.replace(/(\d{2}:\d{2}:\d{2})\.(\d*?)0*(?!\d)/, (_m, hms: string, frac: string) =>
    frac === '' ? hms : `${hms}.${frac}`,
  );
}

const f8 = Buffer.alloc(8);
/** The 64 bits of a double, as hex (so -0, 0 and every ulp are told apart). */
export function doubleBits(n: number): string {
  f8.writeDoubleBE(n);
  return f8.toString('hex');
}

function parseFloatText(s: string): number {
  if (s === 'NaN') return Number.NaN;
  if (s === 'Infinity') return Number.POSITIVE_INFINITY;
  if (s === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (s.trim() === '' || Number.isNaN(Number(s))) throw new Error(`not a float: ${s}`);
  return Number(s);
}

/** MySQL TIME text ('-838:59:59.500000') -> microseconds. */
function timeMicros(s: string): string {
  const m = /^(-)?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) return `unparsable:${s}`;
  const us =
    ((BigInt(m[2]) * 60n + BigInt(m[3])) * 60n + BigInt(m[4])) * 1_000_000n + BigInt((m[5] ?? '').padEnd(6, '0'));
  return (m[1] ? -us : us).toString();
}

// ignoreBOM: a leading U+FEFF is data (one of the naughty strings), not a byte order mark to drop.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Windows-1252 0x80-0x9F from the Unicode mapping table (CP1252.TXT); the five unassigned bytes
 * (0x81, 0x8D, 0x8F, 0x90, 0x9D) as the C1 control of the same number, as MySQL's latin1 and WHATWG
 * do. Written out because Node 20's TextDecoder('windows-1252') decodes plain Latin-1.
 */
const CP1252_80_9F = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

export function cp1252(bytes: Buffer): string {
  return [...bytes].map((b) => String.fromCodePoint(b >= 0x80 && b <= 0x9f ? CP1252_80_9F[b - 0x80] : b)).join('');
}

function mySelectExpr(c: MyCol, name: string): string {
  return c.kind === 'cp1252' ? `HEX(${bq(name)})` : bq(name);
}

function normMy(kind: MyKind, raw: Buffer, bin: unknown): Cell {
  const s = () => raw.toString('latin1');
  switch (kind) {
    case 'int':
      return BigInt(s()).toString();
    case 'bool':
      return s() === '0' ? 'false' : s() === '1' ? 'true' : `int:${s()}`;
    case 'bits':
    case 'bitbool': {
      const n = BigInt(`0x${raw.toString('hex') || '0'}`);
      if (kind === 'bits') return n.toString();
      return n === 0n ? 'false' : n === 1n ? 'true' : `bits:${n}`;
    }
    case 'float8':
    case 'float4':
      if (typeof bin !== 'number') return `not-a-number:${String(bin)}`;
      return doubleBits(bin);
    case 'decimal':
    case 'date':
      return s();
    case 'text':
    case 'json':
    case 'isointerval':
      return UTF8.decode(raw);
    case 'bytes':
      return raw.toString('hex');
    case 'time':
    case 'timestamp':
      return trimFraction(s());
    case 'timestamptz':
      return `${trimFraction(s())}+00`;
    case 'interval':
      return timeMicros(s());
    case 'uuid': {
      const h = raw.toString('hex');
      return raw.length === 16
        ? `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
        : UTF8.decode(raw).toLowerCase();
    }
    case 'cp1252':
      return cp1252(Buffer.from(s(), 'hex'));
  }
}

/**
 * Reads a MySQL table with mysql2: the text protocol with type casting off (every value as the
 * server's raw bytes) for all columns, and the binary protocol (prepared statement) for floats.
 */
export async function readMy(
  db: string,
  table: string,
  cols: readonly MyCol[],
  orderBy: readonly string[],
  side: 'source' | 'target' = 'source',
): Promise<Cell[][]> {
  const name = (c: MyCol) => (side === 'target' ? (c.targetName ?? c.name) : c.name);
  const order = orderBy.length ? ` ORDER BY ${orderBy.map(bq).join(', ')}` : '';
  return withMy(db, async (c) => {
    const [raw] = await c.query({
      sql: `SELECT ${cols.map((x) => mySelectExpr(x, name(x))).join(', ')} FROM ${bq(table)}${order}`,
      rowsAsArray: true,
      typeCast: false,
    });
    const floats = cols.some((x) => x.kind === 'float4' || x.kind === 'float8');
    const bin = floats
      ? ((
          await c.execute({
            sql: `SELECT ${cols.map((x) => bq(name(x))).join(', ')} FROM ${bq(table)}${order}`,
            rowsAsArray: true,
          })
        )[0] as unknown[][])
      : [];
    return (raw as (Buffer | null)[][]).map((r, i) =>
      r.map((v, j): Cell => (v === null ? null : normMy(cols[j].kind, v, floats ? bin[i][j] : undefined))),
    );
  });
}

/**
 * Every value of a MySQL table exactly as the server sends it (raw bytes, hex) plus floats' bits
 * from the binary protocol: for MySQL -> MySQL, where nothing may change at all.
 */
export async function readMyRaw(db: string, table: string, orderBy: readonly string[]): Promise<Cell[][]> {
  return withMy(db, async (c) => {
    const order = orderBy.length ? ` ORDER BY ${orderBy.map(bq).join(', ')}` : '';
    const [raw, fields] = await c.query({
      sql: `SELECT * FROM ${bq(table)}${order}`,
      rowsAsArray: true,
      typeCast: false,
    });
    const [bin] = await c.execute({ sql: `SELECT * FROM ${bq(table)}${order}`, rowsAsArray: true });
    return (raw as (Buffer | null)[][]).map((r, i) =>
      r.map((v, j) => {
        if (v === null) return null;
        const b = (bin as unknown[][])[i][j];
        // FLOAT/DOUBLE (column types 4 and 5): the binary protocol's IEEE bytes.
        const t = (fields as { columnType?: number; type?: number }[])[j];
        const type = t.columnType ?? t.type;
        return type === 4 || type === 5 ? `bits:${doubleBits(b as number)}` : `hex:${v.toString('hex')}`;
      }),
    );
  });
}

/** Column types of a MySQL table (COLUMN_TYPE, nullability), in order. */
export async function myColumnTypes(db: string, table: string): Promise<string[]> {
  const rows = await myQuery<{ n: string; t: string; nl: string }[]>(
    db,
    `SELECT COLUMN_NAME AS n, COLUMN_TYPE AS t, IS_NULLABLE AS nl FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [db, table],
  );
  return rows.map((r) => `${r.n} ${r.t}${r.nl === 'YES' ? '' : ' NOT NULL'}`);
}

/** Primary key columns of a MySQL table, in key order. */
export async function myPrimaryKey(db: string, table: string): Promise<string[]> {
  const rows = await myQuery<{ c: string }[]>(
    db,
    `SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`,
    [db, table],
  );
  return rows.map((r) => r.c);
}

/** Tables of a MySQL database whose name starts with `_ferry_stage_` (leftovers). */
export async function myStageTables(db: string): Promise<string[]> {
  const rows = await myQuery<{ n: string }[]>(
    db,
    `SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE '\\_ferry\\_stage\\_%'`,
    [db],
  );
  return rows.map((r) => r.n);
}

function pgExpr(c: MyCol, name: string): string {
  const q = `"${name.replace(/"/g, '""')}"`;
  switch (c.kind) {
    case 'bytes':
      return `encode(${q}, 'hex')`;
    case 'interval':
      return `(extract(epoch from ${q}) * 1000000)::bigint::text`;
    default:
      return `${q}::text`;
  }
}

function normPg(kind: MyKind, v: string): Cell {
  switch (kind) {
    case 'int':
      return BigInt(v).toString();
    case 'float8':
      return doubleBits(parseFloatText(v));
    case 'float4':
      return doubleBits(Math.fround(parseFloatText(v)));
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return trimFraction(v);
    case 'uuid':
      return v.toLowerCase();
    default:
      return v;
  }
}

/**
 * Reads a PostgreSQL table with pg (TimeZone=UTC, DateStyle ISO, IntervalStyle iso_8601,
 * extra_float_digits=1: the shortest exact text), columns by their name in PostgreSQL.
 */
export async function readPgAs(
  db: string,
  table: string,
  cols: readonly MyCol[],
  orderBy: readonly string[],
  side: 'source' | 'target',
): Promise<Cell[][]> {
  const name = (c: MyCol) => (side === 'target' ? (c.targetName ?? c.name) : c.name);
  const order = orderBy.length ? ` ORDER BY ${orderBy.map((k) => `"${k.replace(/"/g, '""')}"`).join(', ')}` : '';
  const sql = `SELECT ${cols.map((c, i) => `${pgExpr(c, name(c))} AS c${i}`).join(', ')} FROM public."${table}"${order}`;
  const rows = await withPg(db, async (c) => (await c.query({ text: sql, rowMode: 'array' })).rows as Cell[][]);
  return rows.map((r) => r.map((v, i) => (v === null ? null : normPg(cols[i].kind, v))));
}
