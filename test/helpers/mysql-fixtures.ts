/**
 * Source fixtures for the MySQL/MariaDB conformance suite: a MariaDB database and a PostgreSQL
 * database holding awkward values, built with the drivers (mysql2, pg), never with ferry.
 *
 * Values that one side cannot hold are left out of it, each with a comment:
 * - MariaDB cannot hold NaN/±Infinity: the random doubles skip non-finite bit patterns, and
 *   NaN/±Infinity exist only in the PostgreSQL source (the non_finite_floats policy).
 * - PostgreSQL text cannot hold NUL: NUL exists only in the MariaDB source (the nul_bytes policy).
 * - MariaDB refuses to store most bytes that are not UTF-8 in a utf8mb4 (or utf8mb3) column, whatever
 *   the sql_mode: X'C328', CAST(X'C328' AS CHAR CHARACTER SET utf8mb4), SET NAMES binary, LOAD DATA
 *   ... CHARACTER SET binary and ALTER of a varbinary column all store '?' (warning 1366). It does
 *   store UTF-16 surrogates encoded in 3 bytes (CESU-8, lone surrogates), which UTF-8 forbids: the
 *   invalid text of the bad_utf8 table is made of those.
 * - MariaDB stores -0 as 0: PostgreSQL -> MySQL turns -0 into 0 (verify reports it); the random
 *   doubles leave -0 out on both sides.
 * - A PostgreSQL identifier is at most 63 bytes (longer ones are truncated by the server), so no
 *   PostgreSQL column name can exceed MySQL's 64: PostgreSQL -> MySQL renames for collisions (MySQL
 *   column names ignore case); MySQL -> PostgreSQL renames 64-character names.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { freshPgDatabase, pgUrl } from './env.js';
import { blnsStrings, CONTROL_TEXT, EVERY_PLANE, LITERAL_BACKSLASH_N, ORDER_IDS, SKUS } from './fixtures.js';
import { freshMyDatabase, type MyCol, withMy } from './mysql.js';

export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
export const ZERO_BYTES = Buffer.alloc(16);
/** Windows-1252's 0x80-0x9F (euro sign, curly quotes, dashes, ...; 5 of them unassigned). */
export const CP1252_HIGH = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + i));
export const LATIN1_UPPER = Buffer.from(Array.from({ length: 96 }, (_, i) => 0xa0 + i));

const raw = (sql: string) => mysql.raw(sql);

// ------------------------------------------------------------------------------------------------
// Random doubles and floats (crypto random bits)
// ------------------------------------------------------------------------------------------------

/** Extremes that random bits rarely hit: subnormals, the normal/subnormal boundary, max. */
export const DOUBLE_EXTREMES = [
  5e-324,
  -5e-324,
  2.225073858507201e-308, // largest subnormal
  2.2250738585072014e-308, // smallest normal
  -2.2250738585072014e-308,
  1.7976931348623157e308,
  -1.7976931348623157e308,
  0.1,
  0.1 + 0.2,
  1 / 3,
  Math.PI,
  2 ** 53 + 2,
  123456789012345680000,
  1e-300,
  0,
];

export const FLOAT_EXTREMES = [
  1.401298464324817e-45, // smallest subnormal float32
  -1.401298464324817e-45,
  1.1754942106924411e-38, // largest subnormal
  1.1754943508222875e-38, // smallest normal
  3.4028234663852886e38,
  -3.4028234663852886e38,
  Math.fround(1 / 3),
  Math.fround(0.1),
  16777216,
  0,
];

/** `n` finite doubles from random bits (no -0: MariaDB cannot hold it), then the extremes. */
export function randomDoubles(n: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const b = randomBytes(8 * 64);
    for (let i = 0; i < 64 && out.length < n; i++) {
      const x = b.readDoubleBE(i * 8);
      if (Number.isFinite(x) && !Object.is(x, -0)) out.push(x);
    }
  }
  // A share of subnormals and tiny/huge exponents beyond what uniform bits give.
  for (let i = 0; i < n / 20; i++) {
    const b = randomBytes(8);
    b[0] &= 0x80; // exponent 0: subnormal (or zero)
    b[1] &= 0x0f;
    const x = b.readDoubleBE(0);
    if (!Object.is(x, -0)) out[i * 7] = x;
  }
  return [...out, ...DOUBLE_EXTREMES];
}

/** `n` finite float32 values (as doubles) from random bits, then the extremes. */
export function randomFloats(n: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const b = randomBytes(4 * 64);
    for (let i = 0; i < 64 && out.length < n; i++) {
      const x = b.readFloatBE(i * 4);
      if (Number.isFinite(x) && !Object.is(x, -0)) out.push(x);
    }
  }
  return [...out, ...FLOAT_EXTREMES];
}

export const DOUBLES_COLS: MyCol[] = [
  { name: 'id', kind: 'int' },
  { name: 'd', kind: 'float8' },
  { name: 'f', kind: 'float4' },
];

// ------------------------------------------------------------------------------------------------
// MySQL source
// ------------------------------------------------------------------------------------------------

export const MY_TYPES_COLS: MyCol[] = [
  { name: 'id', kind: 'int' },
  { name: 'b01', kind: 'bool' },
  { name: 'b2', kind: 'int' },
  { name: 'ti', kind: 'int' },
  { name: 'tu', kind: 'int' },
  { name: 'su', kind: 'int' },
  { name: 'mi', kind: 'int' },
  { name: 'mu', kind: 'int' },
  { name: 'i4', kind: 'int' },
  { name: 'iu', kind: 'int' },
  { name: 'i8', kind: 'int' },
  { name: 'bu', kind: 'int' },
  { name: 'dec', kind: 'decimal' },
  { name: 'dec2', kind: 'decimal' },
  { name: 'f', kind: 'float4' },
  { name: 'dbl', kind: 'float8' },
  { name: 'd', kind: 'date' },
  { name: 'dt', kind: 'timestamp' },
  { name: 'ts', kind: 'timestamptz' },
  { name: 'tm', kind: 'time' },
  { name: 'tmx', kind: 'interval' },
  { name: 'y', kind: 'int' },
  { name: 'e', kind: 'text' },
  { name: 'st', kind: 'text' },
  { name: 'bit1', kind: 'bitbool' },
  { name: 'bit5', kind: 'bits' },
  { name: 'bit64', kind: 'bits' },
  { name: 'j', kind: 'json' },
  { name: 'bin16', kind: 'bytes' },
  { name: 'bl', kind: 'bytes' },
  { name: 't', kind: 'text' },
  { name: 'vc', kind: 'text' },
  { name: 'l1', kind: 'cp1252' },
];

/** The PostgreSQL type each MySQL column must arrive as (format_type), by the default cast rules. */
export const MY_TYPES_PG_TYPES: Record<string, string> = {
  id: 'integer',
  b01: 'boolean',
  b2: 'smallint',
  ti: 'smallint',
  tu: 'smallint',
  su: 'integer',
  mi: 'integer',
  mu: 'integer',
  i4: 'integer',
  iu: 'bigint',
  i8: 'bigint',
  bu: 'numeric(20,0)',
  dec: 'numeric(65,30)',
  dec2: 'numeric(10,2)',
  f: 'real',
  dbl: 'double precision',
  d: 'date',
  dt: 'timestamp without time zone',
  ts: 'timestamp with time zone',
  tm: 'time without time zone',
  tmx: 'interval',
  y: 'smallint',
  e: 'text',
  st: 'text',
  bit1: 'boolean',
  bit5: 'bigint',
  bit64: 'numeric(20,0)', // bit(64) reaches 2^64-1: the default rule keeps it exact
  j: 'json',
  bin16: 'bytea',
  bl: 'bytea',
  t: 'text',
  vc: 'character varying(20)',
  l1: 'character varying(100)',
};

const MY_TYPES_DDL = `
CREATE TABLE types (
  id int NOT NULL PRIMARY KEY,
  b01 tinyint(1),
  b2 tinyint(1),
  ti tinyint,
  tu tinyint unsigned,
  su smallint unsigned,
  mi mediumint,
  mu mediumint unsigned,
  i4 int,
  iu int unsigned,
  i8 bigint,
  bu bigint unsigned,
  \`dec\` decimal(65,30),
  dec2 decimal(10,2),
  f float,
  dbl double,
  d date,
  dt datetime(6),
  ts timestamp(6) NULL DEFAULT NULL,
  tm time(6),
  tmx time(1),
  y year,
  e enum('small','medium','large','ünï','with space'),
  st set('a','b','c','d'),
  bit1 bit(1),
  bit5 bit(5),
  bit64 bit(64),
  j json,
  bin16 binary(16),
  bl longblob,
  t text CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  vc varchar(20) CHARACTER SET utf8mb4,
  l1 varchar(100) CHARACTER SET latin1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const NINES_35 = '9'.repeat(35);
const NINES_30 = '9'.repeat(30);

export const JSON_AWKWARD =
  '{"a":1,"a":2,"nested":{"arr":[1,2.50,{"x":null}],"deep":[[[]]]},"u":"\\u00e9\\ud83d\\ude00 é😀\u{10FFFD}","esc":"\\"\\\\\\/\\b\\f\\n\\r\\t","big":1.000000000000000000001,"e":-0.0e-7}';

type MyValue = unknown;

/** Rows of `types`, column name -> value (mysql2 escapes them; mysql.raw for literals). */
function myTypesRows(): Record<string, MyValue>[] {
  const rows: Record<string, MyValue>[] = [
    {
      b01: 1,
      b2: 1,
      ti: 1,
      tu: 1,
      su: 1,
      mi: 1,
      mu: 1,
      i4: 1,
      iu: 1,
      i8: raw('1'),
      bu: raw('1'),
      dec: '1.5',
      dec2: '12.30',
      f: 1 / 3,
      dbl: 0.1 + 0.2,
      d: '2024-02-29',
      dt: '2024-02-29 12:34:56.000001',
      ts: '2024-03-31 01:30:00.5',
      tm: '12:34:56.5',
      tmx: '838:59:59',
      y: 2024,
      e: 'ünï',
      st: 'a,c',
      bit1: raw("b'1'"),
      bit5: raw("b'10101'"),
      bit64: raw('1'),
      j: JSON_AWKWARD,
      bin16: Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
      bl: ALL_BYTES,
      t: EVERY_PLANE,
      vc: 'short',
      l1: raw(`_latin1 X'${CP1252_HIGH.toString('hex')}'`),
    },
    {}, // every column NULL
    {
      b01: 0,
      b2: 0,
      ti: 127,
      tu: 255,
      su: 65535,
      mi: 8388607,
      mu: 16777215,
      i4: 2147483647,
      iu: 4294967295,
      i8: raw('9223372036854775807'),
      bu: raw('18446744073709551615'),
      dec: `${NINES_35}.${NINES_30}`,
      dec2: '99999999.99',
      f: 3.4028234663852886e38,
      dbl: 1.7976931348623157e308,
      d: '9999-12-31',
      dt: '9999-12-31 23:59:59.999999',
      ts: '2038-01-19 03:14:07.999999',
      tm: '23:59:59.999999',
      tmx: '-12:30:00.5',
      y: 2155,
      e: 'with space',
      st: 'a,b,c,d',
      bit1: raw("b'0'"),
      bit5: raw("b'11111'"),
      bit64: raw('9223372036854775807'),
      j: '[]',
      bin16: Buffer.from('ffffffffffffffffffffffffffffffff', 'hex'),
      bl: ZERO_BYTES,
      t: CONTROL_TEXT,
      vc: '\u{1F600}'.repeat(20),
      l1: raw(`_latin1 X'${LATIN1_UPPER.toString('hex')}'`),
    },
    {
      b01: 1,
      b2: 2, // one value besides 0/1: the column stays an integer
      ti: -128,
      tu: 0,
      su: 0,
      mi: -8388608,
      mu: 0,
      i4: -2147483648,
      iu: 0,
      i8: raw('-9223372036854775808'),
      bu: raw('9223372036854775808'),
      dec: `-${NINES_35}.${NINES_30}`,
      dec2: '-99999999.99',
      f: -3.4028234663852886e38,
      dbl: -1.7976931348623157e308,
      d: '1000-01-01',
      dt: '1000-01-01 00:00:00',
      ts: '1970-01-01 00:00:01',
      tm: '00:00:00',
      tmx: '-838:59:59',
      y: 1901,
      e: 'small',
      st: '',
      bit5: raw("b'0'"),
      bit64: raw('0'),
      j: '{}',
      bin16: ZERO_BYTES,
      bl: Buffer.alloc(0),
      t: '',
      vc: '',
      l1: '',
    },
    {
      b01: 0,
      b2: 1,
      ti: 0,
      tu: 128,
      su: 32768,
      mi: 0,
      mu: 8388608,
      i4: 0,
      iu: 2147483648,
      i8: raw('0'),
      bu: raw('9223372036854775807'),
      dec: '0.000000000000000000000000000001',
      dec2: '0.00',
      f: 1.401298464324817e-45,
      dbl: 5e-324,
      d: '0001-01-01',
      dt: '0001-01-01 00:00:00.000001',
      ts: '2000-02-29 23:59:59.000001',
      tm: '24:00:00',
      tmx: '-00:00:00.1',
      y: 0,
      e: 'large',
      st: 'd',
      bit1: raw("b'1'"),
      bit5: raw("b'1'"),
      bit64: raw("b'0100000000000000000000000000000000000000000000000000000000000001'"),
      j: '"\\u0000 escaped NUL is valid JSON text"',
      bin16: Buffer.from('80000000000000000000000000000001', 'hex'),
      bl: Buffer.from([0, 0, 0x5c, 0x4e, 0x0a, 0x09, 0x0d, 0x1a, 0, 0xff]),
      t: LITERAL_BACKSLASH_N,
      vc: 'NULL',
      l1: 'plain',
    },
    {
      e: 'medium',
      t: '\\',
      tmx: '25:00:00.1',
      dbl: 2.225073858507201e-308,
      f: 1.1754942106924411e-38,
      j: 'null',
      l1: raw(`_latin1 X'5c4e09'`),
    },
    { t: ' ', j: '"unicode \\u2028\\u2029 é"', dbl: -5e-324, f: -1.401298464324817e-45 },
  ];
  for (let i = 8; i <= 30; i++) {
    rows.push({
      b01: i % 2,
      b2: i % 2,
      ti: -i,
      tu: i * 3,
      su: i * 1000,
      mi: -i * 1000,
      mu: i * 100000,
      i4: i * -1000000,
      iu: 4294967295 - i,
      i8: raw(String(BigInt(i) * 10n ** 17n)),
      bu: raw(String(18446744073709551615n - BigInt(i))),
      dec: `${i}.${'0'.repeat(i % 29)}${i}`,
      dec2: `${i}.${String(i % 100).padStart(2, '0')}`,
      f: i / 7,
      dbl: i / 7,
      d: `20${String(i).padStart(2, '0')}-0${(i % 9) + 1}-1${i % 10}`,
      dt: `2001-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:00:00.${String(i).padStart(6, '0')}`,
      ts: `2001-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:00:00.${String(i * 3).padStart(6, '0')}`,
      tm: `0${i % 10}:3${i % 6}:00`,
      tmx: `${i * 10}:0${i % 10}:00`,
      y: 1990 + i,
      e: ['small', 'medium', 'large'][i % 3],
      st: ['a', 'b,c', 'a,d'][i % 3],
      bit1: raw(`b'${i % 2}'`),
      bit5: raw(String(i)),
      bit64: raw(String(BigInt(i) << 40n)),
      j: `{"i":${i},"s":"row ${i}"}`,
      bin16: Buffer.from(`${String(i).padStart(2, '0')}`.repeat(16), 'hex'),
      bl: Buffer.from([i, 0, 255 - i]),
      t: `row ${i}\t${'\u{1F600}'.repeat(i % 3)}\n`,
      vc: `v${i}`,
      l1: raw(`_latin1 X'${Buffer.from([0x80 + (i % 32), 0x41]).toString('hex')}'`),
    });
  }
  return rows.map((r, i) => ({ ...r, id: i + 1 }));
}

/** Composite key (text with a binary collation, bigint): the key ranges of chunks are tuples. */
export const KEYED_COLS: MyCol[] = [
  { name: 'region', kind: 'text' },
  { name: 'n', kind: 'int' },
  { name: 'qty', kind: 'decimal' },
  { name: 'note', kind: 'text' },
];

function keyedRows(): [string, string, string, string | null][] {
  const out: [string, string, string, string | null][] = [];
  let k = 0;
  for (const n of ORDER_IDS) {
    for (const s of SKUS) {
      k++;
      out.push([s, n.toString(), `${k}.${String(k % 100).padStart(2, '0')}`, k % 4 === 0 ? null : `note ${s}`]);
    }
  }
  return out;
}

export const BLNS_MY_COLS: MyCol[] = [
  { name: 'id', kind: 'int' },
  { name: 's', kind: 'text' },
];

/** Zero and partial dates (the server holds them with sql_mode=''). */
export const ZERO_DATES_COLS: MyCol[] = [
  { name: 'id', kind: 'int' },
  { name: 'd', kind: 'date' },
  { name: 'dt', kind: 'timestamp' },
  { name: 'ts', kind: 'timestamptz' },
];

/**
 * id, d, dt, ts. Invalid values: d 4 ('0000-00-00', '2020-00-00', '0000-01-01' (no year 0 in
 * PostgreSQL), '2020-01-00'), dt 2, ts 2.
 */
export const ZERO_DATES_ROWS: [number, string | null, string | null, string | null][] = [
  [1, '2024-01-02', '2024-01-02 03:04:05', '2024-01-02 03:04:05'],
  [2, '0000-00-00', '2024-01-02 00:00:00', '2024-01-02 00:00:00'],
  [3, '2020-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'],
  [4, '2020-01-31', '2020-00-00 00:00:00', null],
  [5, null, null, null],
  [6, '0000-01-01', '2020-02-29 00:00:00', '2020-02-29 00:00:00'],
  [7, '2020-02-29', '2020-02-29 23:59:59', '2020-02-29 23:59:59'],
  [8, '1999-12-31', '1999-12-31 23:59:59', '1999-12-31 23:59:59'],
  [9, '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00'],
  [10, '2001-01-01', '2001-01-01 00:00:00', '2001-01-01 00:00:00'],
  [11, '2020-01-00', '2021-01-01 00:00:00', '2021-01-01 00:00:00'],
  [12, '2022-01-01', '2022-01-01 00:00:00', '0000-00-00 00:00:00'],
];
/** The invalid values, and by row the column of its first invalid value (what a reject names). */
export const ZERO_DATES_INVALID = new Set([
  '0000-00-00',
  '2020-00-00',
  '0000-01-01',
  '2020-01-00',
  '0000-00-00 00:00:00',
  '2020-00-00 00:00:00',
]);
export const ZERO_DATES_BAD = { d: 4, dt: 2, ts: 2 };
export const ZERO_DATES_REJECTS: Record<number, string> = { 2: 'd', 3: 'd', 4: 'dt', 6: 'd', 11: 'd', 12: 'ts' };

/** bit(64) values above 2^63-1 do not fit a bigint (the default bit rule's type). */
export const BITS_ROWS: [number, string | null][] = [
  [1, '0'],
  [2, '9223372036854775807'],
  [3, '9223372036854775808'],
  [4, '18446744073709551615'],
  [5, null],
  [6, '1'],
];

export const NUL_ROWS: [number, string | null][] = [
  [1, 'clean'],
  [2, 'a\u0000b'],
  [3, '\u0000'],
  [4, '\u0000\u0000x\u0000'],
  [5, null],
  [6, ''],
  [7, 'tab\tand \\0 text, no NUL'],
];

/**
 * Text that is not UTF-8 in utf8mb4 and utf8mb3 columns: MariaDB stores UTF-16 surrogates encoded
 * as three bytes (CESU-8, as Java's modified UTF-8 writes them: ED A0 BD ED B8 80 for U+1F600) and
 * lone surrogates, with no warning; UTF-8 forbids them (RFC 3629), so ferry reads them as invalid.
 * id, u (utf8mb4), m (utf8mb3), as bytes.
 */
export const BAD_UTF8_ROWS: [number, Buffer | null, Buffer | null][] = [
  [1, Buffer.from('ok'), Buffer.from('ok')],
  [2, Buffer.from('41eda0bdedb88042', 'hex'), Buffer.from('fine')], // A, CESU-8 U+1F600, B
  [3, Buffer.from('eda080', 'hex'), Buffer.from('e282ac', 'hex')], // lone high surrogate; valid €
  [4, Buffer.from('78edbfbf', 'hex'), null], // x, lone low surrogate
  [5, Buffer.from('e282ac', 'hex'), Buffer.from('')],
  [6, null, null],
  [7, Buffer.from(''), Buffer.from('20edb08020', 'hex')], // invalid only in the utf8mb3 column
  [8, Buffer.from('plain'), Buffer.from('c3a9', 'hex')],
];
/** Rows with a value that is not UTF-8, and the column of the first such value. */
export const BAD_UTF8_BAD: Record<number, string> = { 2: 'u', 3: 'u', 4: 'u', 7: 'm' };

/** Column names of 64 characters (MySQL's limit): too long for PostgreSQL (63 bytes). */
export const LONG_64 = `k${'x'.repeat(62)}1`;
export const LONG_64_B = `k${'x'.repeat(62)}2`; // same first 63 bytes as LONG_64
export const LONG_64_MB = 'é'.repeat(64); // 64 characters, 128 bytes

export async function buildMySource(db: string, doubles: number[], floats: number[]): Promise<void> {
  await freshMyDatabase(db);
  await withMy(db, async (c) => {
    await c.query(MY_TYPES_DDL);
    const names = MY_TYPES_COLS.map((x) => x.name);
    const rows = myTypesRows().map((r) => names.map((n) => r[n] ?? null));
    await c.query(`INSERT INTO types (${names.map((n) => `\`${n}\``).join(', ')}) VALUES ?`, [rows]);

    await c.query('CREATE TABLE doubles (id int NOT NULL PRIMARY KEY, d double, f float)');
    const drows = doubles.map((d, i) => [i + 1, d, i < floats.length ? floats[i] : null]);
    await c.query('INSERT INTO doubles VALUES ?', [drows]);

    await c.query(`CREATE TABLE keyed (
      region varchar(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, n bigint NOT NULL,
      qty decimal(12,2), note text, PRIMARY KEY (region, n), KEY keyed_note (qty)) DEFAULT CHARSET=utf8mb4`);
    await c.query('INSERT INTO keyed VALUES ?', [keyedRows().map((r) => [r[0], raw(r[1]), r[2], r[3]])]);

    await c.query('CREATE TABLE blns (id int NOT NULL PRIMARY KEY, s text) DEFAULT CHARSET=utf8mb4');
    await c.query('INSERT INTO blns VALUES ?', [blnsStrings().map((s, i) => [i + 1, s])]);

    // Zero and partial dates: only a permissive sql_mode lets them in (ferry's own sessions refuse them).
    await c.query(`SET SESSION sql_mode = ''`);
    await c.query(
      `CREATE TABLE zero_dates (id int NOT NULL PRIMARY KEY, d date, dt datetime, ts timestamp NULL DEFAULT NULL)`,
    );
    await c.query('INSERT INTO zero_dates VALUES ?', [ZERO_DATES_ROWS]);
    const [warn] = await c.query('SHOW WARNINGS');
    if ((warn as unknown[]).length > 0) throw new Error(`zero dates not stored as given: ${JSON.stringify(warn)}`);

    await c.query('CREATE TABLE bits (id int NOT NULL PRIMARY KEY, b bit(64))');
    await c.query('INSERT INTO bits VALUES ?', [BITS_ROWS.map(([id, v]) => [id, v === null ? null : raw(v)])]);

    await c.query('CREATE TABLE nul_text (id int NOT NULL PRIMARY KEY, s text) DEFAULT CHARSET=utf8mb4');
    await c.query('INSERT INTO nul_text VALUES ?', [NUL_ROWS]);

    await c.query(
      'CREATE TABLE bad_utf8 (id int NOT NULL PRIMARY KEY, u text CHARACTER SET utf8mb4, m varchar(32) CHARACTER SET utf8mb3)',
    );
    await c.query('INSERT INTO bad_utf8 VALUES ?', [
      BAD_UTF8_ROWS.map(([id, u, m]) => [
        id,
        u === null ? null : raw(`X'${u.toString('hex')}'`),
        m === null ? null : raw(`X'${m.toString('hex')}'`),
      ]),
    ]);
    const [warn2] = await c.query('SHOW WARNINGS');
    if ((warn2 as unknown[]).length > 0) throw new Error(`bad UTF-8 not stored as given: ${JSON.stringify(warn2)}`);
    await c.query(`SET SESSION sql_mode = DEFAULT`);

    await c.query(
      `CREATE TABLE long_names (\`${LONG_64}\` int NOT NULL PRIMARY KEY, \`${LONG_64_B}\` text, \`${LONG_64_MB}\` text, short text) DEFAULT CHARSET=utf8mb4`,
    );
    await c.query('INSERT INTO long_names VALUES ?', [
      Array.from({ length: 20 }, (_, i) => [i + 1, `b${i}`, `é${i}`, i % 3 ? `s${i}` : null]),
    ]);

    await c.query('CREATE TABLE uuids (id int NOT NULL PRIMARY KEY, u binary(16), other binary(16))');
    await c.query('INSERT INTO uuids VALUES ?', [
      Array.from({ length: 12 }, (_, i) => [
        i + 1,
        i === 5 ? null : i === 0 ? ZERO_BYTES : i === 1 ? Buffer.alloc(16, 0xff) : randomBytes(16),
        randomBytes(16),
      ]),
    ]);
  });
}

// ------------------------------------------------------------------------------------------------
// PostgreSQL source (for PostgreSQL -> MySQL)
// ------------------------------------------------------------------------------------------------

export const PG_TYPES_COLS: MyCol[] = [
  { name: 'id', kind: 'int' },
  { name: 'b', kind: 'bool' },
  { name: 'i2', kind: 'int' },
  { name: 'i4', kind: 'int' },
  { name: 'i8', kind: 'int' },
  { name: 'n', kind: 'decimal' },
  { name: 'n2', kind: 'decimal' },
  { name: 'r', kind: 'float4' },
  { name: 'f8', kind: 'float8' },
  { name: 'd', kind: 'date' },
  { name: 'ts', kind: 'timestamp' },
  { name: 'tstz', kind: 'timestamptz' },
  { name: 'tm', kind: 'time' },
  { name: 'iv', kind: 'isointerval' },
  { name: 'u', kind: 'uuid' },
  { name: 'j', kind: 'json' },
  { name: 'jb', kind: 'json' },
  { name: 'by', kind: 'bytes' },
  { name: 't', kind: 'text' },
  { name: 'vc', kind: 'text' },
];

/** The MySQL type each PostgreSQL column must arrive as (COLUMN_TYPE). */
export const PG_TYPES_MY_TYPES: Record<string, string> = {
  id: 'int(11)',
  b: 'tinyint(1)',
  i2: 'smallint(6)',
  i4: 'int(11)',
  i8: 'bigint(20)',
  n: 'decimal(65,30)',
  n2: 'decimal(10,2)',
  r: 'float',
  f8: 'double',
  d: 'date',
  ts: 'datetime(6)',
  tstz: 'datetime(6)',
  tm: 'time(6)',
  iv: 'varchar(64)',
  u: 'char(36)',
  j: 'longtext',
  jb: 'longtext',
  by: 'longblob',
  t: 'longtext',
  vc: 'varchar(20)',
};

const PG_TYPES_DDL = `
CREATE TABLE public.types (
  id integer PRIMARY KEY,
  b boolean,
  i2 smallint,
  i4 integer,
  i8 bigint,
  n numeric(65,30),
  n2 numeric(10,2),
  r real,
  f8 double precision,
  d date,
  ts timestamp(6),
  tstz timestamptz,
  tm time,
  iv interval,
  u uuid,
  j json,
  jb jsonb,
  by bytea,
  t text,
  vc varchar(20)
)`;

function pgTypesRows(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [
    {
      b: true,
      i2: 1,
      i4: 1,
      i8: '1',
      n: '1.5',
      n2: '12.30',
      r: Math.fround(1 / 3),
      f8: 0.1 + 0.2,
      d: '2024-02-29',
      ts: '2024-02-29 12:34:56.000001',
      tstz: '2024-03-31 01:30:00.5+00',
      tm: '12:34:56.5',
      iv: 'P1Y2M3DT4H5M6.5S',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      j: JSON_AWKWARD,
      jb: '{"b": [1, 2, {"c": "é😀"}], "a": null}',
      by: ALL_BYTES,
      t: EVERY_PLANE,
      vc: 'short',
    },
    {},
    {
      b: false,
      i2: 32767,
      i4: 2147483647,
      i8: '9223372036854775807',
      n: `${NINES_35}.${NINES_30}`,
      n2: '99999999.99',
      r: 3.4028234663852886e38,
      f8: 1.7976931348623157e308,
      d: '9999-12-31',
      ts: '9999-12-31 23:59:59.999999',
      tstz: '9999-12-31 23:59:59.999999+00',
      tm: '24:00:00',
      iv: 'PT-838H-59M-59S',
      u: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      j: '[]',
      jb: '[]',
      by: ZERO_BYTES,
      t: CONTROL_TEXT,
      vc: '\u{1F600}'.repeat(20),
    },
    {
      b: false,
      i2: -32768,
      i4: -2147483648,
      i8: '-9223372036854775808',
      n: `-${NINES_35}.${NINES_30}`,
      n2: '-99999999.99',
      r: -1.401298464324817e-45,
      f8: 5e-324,
      d: '1000-01-01',
      ts: '1000-01-01 00:00:00',
      tstz: '1970-01-01 00:00:00+00',
      tm: '00:00:00',
      iv: 'PT0S',
      u: '00000000-0000-0000-0000-000000000000',
      j: '{}',
      jb: '{}',
      by: Buffer.alloc(0),
      t: '',
      vc: '',
    },
    {
      n: '0.000000000000000000000000000001',
      r: 1.1754942106924411e-38,
      f8: -2.225073858507201e-308,
      ts: '0001-01-01 00:00:00.000001',
      tstz: '2000-02-29 23:59:59.000001+00',
      d: '0001-01-01',
      t: LITERAL_BACKSLASH_N,
      j: 'null',
      by: Buffer.from([0, 0, 0x5c, 0x4e, 0x0a, 0x09, 0x0d, 0x1a, 0, 0xff]),
    },
    { t: '\\', vc: 'NULL', j: '"\\u2028 é"' },
    { t: ' ' },
  ];
  for (let i = 8; i <= 30; i++) {
    rows.push({
      b: i % 2 === 0,
      i2: -i,
      i4: i * 1000,
      i8: (BigInt(i) * 10n ** 16n).toString(),
      n: `${i}.${'0'.repeat(i % 29)}${i}`,
      n2: `${i}.${String(i % 100).padStart(2, '0')}`,
      r: Math.fround(i / 7),
      f8: i / 7,
      d: `20${String(i).padStart(2, '0')}-0${(i % 9) + 1}-1${i % 10}`,
      ts: `2001-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:00:00.${String(i).padStart(6, '0')}`,
      tstz: `2001-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:00:00.${String(i * 3).padStart(6, '0')}+00`,
      tm: `0${i % 10}:3${i % 6}:00`,
      iv: `P${i}DT${i}H`,
      u: `${String(i).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`,
      j: `{"i":${i}}`,
      jb: `{"i": ${i}}`,
      by: Buffer.from([i, 0, 255 - i]),
      t: `row ${i}\t${'\u{1F600}'.repeat(i % 3)}\n`,
      vc: `v${i}`,
    });
  }
  return rows.map((r, i) => ({ ...r, id: i + 1 }));
}

/** Columns that collide in MySQL (case-insensitive names), and a 63-byte name (PostgreSQL's max). */
export const PG_NAME_63 = `${'é'.repeat(31)}x`; // 31 x 2 + 1 = 63 bytes, 32 characters
export const PG_NAMES_COLS: MyCol[] = [
  { name: 'id', kind: 'int' },
  { name: 'name', kind: 'text' },
  { name: 'Name', kind: 'text' },
  { name: 'NAME', kind: 'text' },
  { name: PG_NAME_63, kind: 'text' },
];

export async function buildPgSource(db: string, doubles: number[], floats: number[]): Promise<void> {
  await freshPgDatabase(db);
  const c = new pg.Client({ connectionString: pgUrl(db), options: '-c TimeZone=UTC -c extra_float_digits=1' });
  await c.connect();
  try {
    await c.query(PG_TYPES_DDL);
    const names = PG_TYPES_COLS.map((x) => x.name);
    for (const r of pgTypesRows()) {
      await c.query(
        `INSERT INTO public.types (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
        names.map((n) => {
          const v = r[n] ?? null;
          // Floats as their exact shortest text (pg would send String(v) anyway).
          return typeof v === 'number' ? String(v) : v;
        }),
      );
    }
    await c.query('CREATE TABLE public.doubles (id integer PRIMARY KEY, d double precision, f real)');
    const ids = doubles.map((_, i) => i + 1);
    await c.query('INSERT INTO public.doubles SELECT * FROM unnest($1::int[], $2::float8[], $3::float4[])', [
      ids,
      doubles.map(String),
      ids.map((_, i) => (i < floats.length ? String(floats[i]) : null)),
    ]);
    await c.query(`CREATE TABLE public.keyed (region text NOT NULL, n bigint NOT NULL, qty numeric(12,2), note text,
                   PRIMARY KEY (region, n))`);
    for (const r of keyedRows()) await c.query('INSERT INTO public.keyed VALUES ($1, $2, $3, $4)', r);
    await c.query('CREATE TABLE public.blns (id integer PRIMARY KEY, s text)');
    await c.query('INSERT INTO public.blns SELECT * FROM unnest($1::int[], $2::text[])', [
      blnsStrings().map((_, i) => i + 1),
      blnsStrings(),
    ]);
    // NaN and ±Infinity: PostgreSQL holds them, MySQL cannot.
    await c.query(`CREATE TABLE public.nonfinite (id integer PRIMARY KEY, r real, d double precision);
      INSERT INTO public.nonfinite VALUES (1, 1.5, 2.5), (2, 'NaN', 1), (3, 2, 'Infinity'), (4, '-Infinity', '-Infinity'),
        (5, NULL, NULL), (6, 3.25, 'NaN'), (7, 0, 0);`);
    // numeric without precision: 40 digits that fit decimal(65,30); 40 integer digits (id 3) and 31
    // decimals (id 7) do not.
    await c.query(`CREATE TABLE public.numerics (id integer PRIMARY KEY, n numeric);
      INSERT INTO public.numerics VALUES
        (1, '12345678901234567890123456789012345.12345'),
        (2, '-0.123456789012345678901234567890'),
        (3, '1234567890123456789012345678901234567890'),
        (4, NULL),
        (5, '0.000000000000000000000000000001'),
        (6, '-99999999999999999999999999999999999.999999999999999999999999999999'),
        (7, '0.1234567890123456789012345678901');`);
    await c.query(
      `CREATE TABLE public.names (id integer PRIMARY KEY, "name" text, "Name" text, "NAME" text, "${PG_NAME_63}" text)`,
    );
    for (let i = 1; i <= 15; i++) {
      await c.query('INSERT INTO public.names VALUES ($1, $2, $3, $4, $5)', [
        i,
        `lower ${i}`,
        i % 4 ? `Capital ${i}` : null,
        `UPPER ${i}`,
        `long ${i}`,
      ]);
    }
  } finally {
    await c.end();
  }
}
