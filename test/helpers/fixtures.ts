/**
 * Source fixtures for the conformance suite: a PostgreSQL database and a SQLite file holding the
 * same kinds of awkward values (extremes, NaN/±Infinity/-0, BC and infinite dates, every Unicode
 * plane, control characters, quoting hazards, all 256 byte values, the Big List of Naughty Strings),
 * built with the drivers directly (pg, better-sqlite3), never with ferry.
 *
 * Values that cannot exist on one side are left out of that side, each with a comment:
 * - PostgreSQL text/json cannot hold NUL (U+0000): NUL appears only in the SQLite source
 *   (`nul_text`), where it is copied SQLite -> SQLite and must be refused, column named, -> PostgreSQL.
 * - SQLite has no NaN REAL (it becomes NULL): ferry's representation is the TEXT 'NaN' in a REAL column.
 * - SQLite cannot hold -0 as a REAL (a REAL with no fractional part is stored as an integer, and
 *   text '-0' is turned back into the number 0 by REAL affinity): ferry stores it as the TEXT
 *   NO-BREAK SPACE + '-0' (sqlite-values.ts), and the SQLite source holds it that way.
 * - PostgreSQL arrays must be rectangular; SQLite JSON arrays need not be: only rectangular ones here.
 */
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DATASETS, freshPgDatabase, pgUrl } from './env.js';

/** How a column's values are compared across dialects (see compare.ts). */
export type Kind =
  | 'int'
  | 'bool'
  | 'float8'
  | 'float4'
  | 'decimal'
  | 'text'
  | 'bytes'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'uuid'
  | 'json'
  | 'interval'
  | 'array';

export interface ColSpec {
  name: string;
  kind: Kind;
}

export interface IndexSpec {
  name: string;
  unique: boolean;
  /** null for expression/partial indexes (carried PostgreSQL -> PostgreSQL only). */
  columns: string[] | null;
}

export interface TableSpec {
  /** Table name (schema public on PostgreSQL, none on SQLite). */
  name: string;
  /** Stream selector in a job file. */
  selector: { postgres: string; sqlite: string };
  cols: ColSpec[];
  /** Primary key columns in key order ([] for none). */
  pk: string[];
  indexes: IndexSpec[];
}

// ------------------------------------------------------------------------------------------------
// Naughty strings
// ------------------------------------------------------------------------------------------------

export const BLNS_TSV = path.join(DATASETS, 'naughty', 'blns.copy.tsv');
export const BLNS_JSON = path.join(DATASETS, 'naughty', 'blns', 'blns.json');

/** The 515 strings, from the JSON file (an independent decoding to check the COPY-text load). */
export function blnsStrings(): string[] {
  return JSON.parse(readFileSync(BLNS_JSON, 'utf8')) as string[];
}

// ------------------------------------------------------------------------------------------------
// Shared awkward text
// ------------------------------------------------------------------------------------------------

/** One string touching every Unicode plane that has assigned or private-use code points. */
export const EVERY_PLANE = [
  'BMP: é Ω 中 \u00a0 \u200b \u2028 \u2029 \ufeff \ufffd',
  'plane 1: \u{1F600} \u{1F468}\u200d\u{1F469}\u200d\u{1F467} \u{10348} \u{1D11E}',
  'plane 2 CJK ext B: \u{20000} \u{2A6D6} \u{2F800}',
  'plane 3: \u{30000}',
  'plane 14 tags: \u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} \u{E0001} \u{E0100}',
  'plane 15/16 private use: \u{F0000} \u{FFFFD} \u{100000} \u{10FFFD}',
].join(' | ');

export const CONTROL_TEXT =
  'tab\there\nnewline\r\nCRLF\rCR back\\slash \\N \\. \\\\ \u0001\u0007\u0008\u000b\u000c\u001b\u007f';

/** The two characters backslash and N: COPY's NULL marker as data. */
export const LITERAL_BACKSLASH_N = '\\N';

// ------------------------------------------------------------------------------------------------
// PostgreSQL source
// ------------------------------------------------------------------------------------------------

export const PG_KITCHEN_COLS: ColSpec[] = [
  { name: 'id', kind: 'int' },
  { name: 'n', kind: 'decimal' },
  { name: 'n122', kind: 'decimal' },
  { name: 'f8', kind: 'float8' },
  { name: 'f4', kind: 'float4' },
  { name: 'ts', kind: 'timestamp' },
  { name: 'tstz', kind: 'timestamptz' },
  { name: 'd', kind: 'date' },
  { name: 'tm', kind: 'time' },
  { name: 'i2', kind: 'int' },
  { name: 'i4', kind: 'int' },
  { name: 'i8', kind: 'int' },
  { name: 'b', kind: 'bool' },
  { name: 'ai', kind: 'array' },
  { name: 'at', kind: 'array' },
  { name: 'a2', kind: 'array' },
  { name: 'j', kind: 'json' },
  { name: 'jb', kind: 'json' },
  { name: 'u', kind: 'uuid' },
  { name: 'iv', kind: 'interval' },
  { name: 'by', kind: 'bytes' },
  { name: 't', kind: 'text' },
];

const PG_KITCHEN_DDL = `
CREATE TABLE public.kitchen (
  id integer PRIMARY KEY,
  n numeric,
  n122 numeric(12,2),
  f8 double precision,
  f4 real,
  ts timestamp,
  tstz timestamptz,
  d date,
  tm time,
  i2 smallint,
  i4 integer,
  i8 bigint,
  b boolean,
  ai integer[],
  at text[],
  a2 integer[],
  j json,
  jb jsonb,
  u uuid,
  iv interval,
  by bytea,
  t text
);
CREATE INDEX kitchen_ts_idx ON public.kitchen (ts);
CREATE UNIQUE INDEX kitchen_u_uq ON public.kitchen (u);
CREATE INDEX kitchen_lower_t ON public.kitchen (lower(t));
CREATE INDEX kitchen_pos_i4 ON public.kitchen (i4) WHERE i4 > 0;
`;

/** ferry's spelling of -0 in a SQLite REAL column (NO-BREAK SPACE, '-0'); see sqlite-values.ts. */
export const NEGATIVE_ZERO_TEXT = '\u00a0-0';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const ZERO_BYTES = Buffer.alloc(16);

/** Text array literal with every quoting hazard (PostgreSQL array syntax, passed as a parameter). */
const PG_AWKWARD_TEXT_ARRAY =
  '{"",NULL,"NULL","null","a,b","{}","{","}","\\"quoted\\"","back\\\\slash","\\\\N"," lead/trail ","tab\tnl\ncr\r","é\u{1F600}\u{20000}"}';

const JSON_NESTED =
  '{"a": 1,  "a": 2, "nested": {"arr": [1, 2.50, {"x": null}], "deep": [[[]]]}, "u": "\\u00e9\\ud83d\\ude00 é😀 \u{20000}", "esc": "\\"\\\\\\/\\b\\f\\n\\r\\t", "big": 1.000000000000000000001, "e": 1e400}';

/**
 * Kitchen rows as [column -> PostgreSQL text literal]; a missing column is NULL. Inserted with
 * `$n::type` casts so the server parses every literal itself.
 */
function pgKitchenRows(): Record<string, string | Buffer | null>[] {
  const rows: Record<string, string | Buffer | null>[] = [
    {
      // 1: ordinary values
      n: '1.10',
      n122: '12.30',
      f8: '0.1',
      f4: '0.1',
      ts: '2024-01-02 03:04:05',
      tstz: '2024-01-02 03:04:05+05:30',
      d: '2024-01-02',
      tm: '12:34:56',
      i2: '1',
      i4: '2',
      i8: '3',
      b: 'true',
      ai: '{1,2,3}',
      at: '{a,b,c}',
      a2: '{{1,2},{3,4}}',
      j: '{"k": "v"}',
      jb: '{"k": "v"}',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      iv: '1 year 2 mons 3 days 04:05:06.5',
      by: Buffer.from('hello'),
      t: 'plain',
    },
    {}, // 2: every column NULL
    {
      // 3: maxima
      n: '12345678901234567890.123456789012345',
      n122: '9999999999.99',
      f8: '1.7976931348623157e308',
      f4: '3.4028235e38',
      ts: '294276-12-31 23:59:59.999999',
      tstz: '294276-12-31 23:59:59.999999+00',
      d: '5874897-12-31',
      tm: '24:00:00',
      i2: '32767',
      i4: '2147483647',
      i8: '9223372036854775807',
      b: 'false',
      ai: '{2147483647,-2147483648,NULL,0}',
      at: PG_AWKWARD_TEXT_ARRAY,
      a2: '{{1,NULL,3},{-4,5,-6}}',
      j: JSON_NESTED,
      jb: JSON_NESTED,
      u: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
      iv: '178000000 years',
      by: ALL_BYTES,
      t: EVERY_PLANE,
    },
    {
      // 4: minima, tiny values
      n: '-0.000000000000000000000000000001',
      n122: '-9999999999.99',
      f8: '-1.7976931348623157e308',
      f4: '-3.4028235e38',
      ts: '4713-01-01 00:00:00 BC',
      tstz: '4713-01-01 00:00:00+00 BC',
      d: '4713-01-01 BC',
      tm: '00:00:00',
      i2: '-32768',
      i4: '-2147483648',
      i8: '-9223372036854775808',
      b: 'false',
      ai: '{}',
      at: '{}',
      a2: '{}',
      j: '[]',
      jb: '[]',
      u: '00000000-0000-0000-0000-000000000000',
      iv: '-178000000 years',
      by: ZERO_BYTES,
      t: CONTROL_TEXT,
    },
    {
      // 5: NaN
      n: 'NaN',
      n122: '0.01',
      f8: 'NaN',
      f4: 'NaN',
      ts: 'infinity',
      tstz: 'infinity',
      d: 'infinity',
      tm: '23:59:59.999999',
      iv: '00:00:00.000001',
      t: '',
      at: '{""}',
      j: '""',
      jb: '""',
      by: Buffer.alloc(0),
    },
    {
      // 6: ±Infinity
      n: 'Infinity',
      f8: 'Infinity',
      f4: 'Infinity',
      ts: '-infinity',
      tstz: '-infinity',
      d: '-infinity',
      iv: '1 mon -1 days',
      t: LITERAL_BACKSLASH_N,
      at: '{"\\\\N",NULL}',
      j: 'null',
      jb: 'null',
    },
    {
      // 7: -Infinity, negative zero
      n: '-Infinity',
      n122: '-0.01',
      f8: '-Infinity',
      f4: '-Infinity',
      iv: '-1 days',
      t: 'NULL',
      j: '  {"spaces" :  "kept in json, not in jsonb"}  ',
      jb: '{"spaces" :  "kept in json, not in jsonb"}',
    },
    {
      // 8: negative zero
      n: '0',
      n122: '0.00',
      f8: '-0',
      f4: '-0',
      iv: '0',
      t: ' ',
    },
    {
      // 9: denormals and precision
      n: '0.000000000000000000000000000000000000000000000000000000000000000000000000000001',
      f8: '5e-324',
      f4: '1e-45',
      ts: '2024-02-29 23:59:59.999999',
      tstz: '2024-06-30 12:34:56.000001+00',
      d: '2024-02-29',
      tm: '00:00:00.000001',
      t: CONTROL_TEXT + EVERY_PLANE,
    },
    {
      // 10: BC with microseconds, DST-free UTC offsets
      n: '-12345678901234567890.123456789012345',
      f8: '2.2250738585072014e-308',
      f4: '1.1754944e-38',
      ts: '0001-12-31 23:59:59.999999 BC',
      tstz: '0001-12-31 23:59:59.999999+00 BC',
      d: '0001-01-01 BC',
      t: '"double" \'single\' `back` ; -- /* */ $$ \\\\',
    },
  ];
  // 11..33: ordinary rows so that chunk_rows 7 makes several chunks.
  for (let i = 11; i <= 33; i++) {
    rows.push({
      n: `${i}.${'0'.repeat(i % 5)}${i}`,
      n122: `${i * 1000}.${String(i % 100).padStart(2, '0')}`,
      f8: String(i / 7),
      f4: String(i / 8),
      ts: `2001-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:00:00.${String(i).padStart(6, '0')}`,
      tstz: `2001-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:00:00.${String(i * 3).padStart(6, '0')}+00`,
      d: `19${i}-01-01`,
      tm: `0${i % 10}:3${i % 6}:00`,
      i2: String(-i),
      i4: String(i * 1000),
      i8: String(BigInt(i) * 10n ** 15n),
      b: i % 2 ? 'true' : 'false',
      ai: `{${i},${i + 1}}`,
      at: `{"row ${i}","\\\\${i}"}`,
      a2: `{{${i}},{${-i}}}`,
      j: `{"i": ${i}}`,
      jb: `{"i": ${i}, "s": "x${i}"}`,
      u: `${String(i).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`,
      iv: `${i} days ${i} hours`,
      by: Buffer.from([i, 0, 255 - i]),
      t: `row ${i} ${'\u{1F600}'.repeat(i % 3)}`,
    });
  }
  return rows.map((r, i) => ({ ...r, id: String(i + 1) }));
}

const PG_TYPES: Record<string, string> = {
  id: 'integer',
  n: 'numeric',
  n122: 'numeric(12,2)',
  f8: 'double precision',
  f4: 'real',
  ts: 'timestamp',
  tstz: 'timestamptz',
  d: 'date',
  tm: 'time',
  i2: 'smallint',
  i4: 'integer',
  i8: 'bigint',
  b: 'boolean',
  ai: 'integer[]',
  at: 'text[]',
  a2: 'integer[]',
  j: 'json',
  jb: 'jsonb',
  u: 'uuid',
  iv: 'interval',
  by: 'bytea',
  t: 'text',
};

export const PG_ORDER_ITEMS_COLS: ColSpec[] = [
  { name: 'Order Id', kind: 'int' },
  { name: 'sku', kind: 'text' },
  { name: 'select', kind: 'int' },
  { name: 'from', kind: 'text' },
  { name: 'User', kind: 'text' },
  { name: 'qty', kind: 'decimal' },
];

/** Second key part: orders differ between ICU and byte order ('B' < 'a' in "C" only). */
export const SKUS = ['a', 'B', 'b', 'Z', 'é', 'e', ' space', 'a b', 'Ω', '\u{1F600}', '_x', 'a\tb'];
export const ORDER_IDS = [-9007199254740993n, -1n, 0n, 1n, 2n, 9007199254740993n];

export const PG_NO_PK_COLS: ColSpec[] = [
  { name: 'a', kind: 'int' },
  { name: 'b', kind: 'text' },
  { name: 'c', kind: 'float8' },
];

/** Rows of the table without a key, duplicates included (copied as a multiset). */
export const NO_PK_ROWS: [number | null, string | null, number | null][] = [
  [1, 'x', 1.5],
  [1, 'x', 1.5],
  [1, 'x', 1.5],
  [null, null, null],
  [null, null, null],
  [2, '', 0],
  [3, 'y\nz', -2.5],
  [-2147483648, 'min', 1e300],
];

export const BLNS_COLS: ColSpec[] = [
  { name: 'id', kind: 'int' },
  { name: 's', kind: 'text' },
];

/** The distinct naughty strings as a text primary key: chunk bounds are naughty strings themselves. */
export const NAUGHTY_KEYS: TableSpec = {
  name: 'naughty_keys',
  selector: { postgres: 'public.naughty_keys', sqlite: 'naughty_keys' },
  cols: [
    { name: 's', kind: 'text' },
    { name: 'first_id', kind: 'int' },
  ],
  pk: ['s'],
  indexes: [],
};

export const PG_TABLES: TableSpec[] = [
  {
    name: 'kitchen',
    selector: { postgres: 'public.kitchen', sqlite: 'kitchen' },
    cols: PG_KITCHEN_COLS,
    pk: ['id'],
    indexes: [
      { name: 'kitchen_lower_t', unique: false, columns: null },
      { name: 'kitchen_pos_i4', unique: false, columns: null },
      { name: 'kitchen_ts_idx', unique: false, columns: ['ts'] },
      { name: 'kitchen_u_uq', unique: true, columns: ['u'] },
    ],
  },
  {
    name: 'Order Items',
    selector: { postgres: 'public."Order Items"', sqlite: '"Order Items"' },
    cols: PG_ORDER_ITEMS_COLS,
    pk: ['Order Id', 'sku'],
    indexes: [
      { name: 'Order Items by User', unique: false, columns: ['User'] },
      { name: 'oi_select_uq', unique: true, columns: ['select'] },
    ],
  },
  {
    name: 'no_pk',
    selector: { postgres: 'public.no_pk', sqlite: 'no_pk' },
    cols: PG_NO_PK_COLS,
    pk: [],
    indexes: [{ name: 'no_pk_a', unique: false, columns: ['a'] }],
  },
  {
    name: 'blns',
    selector: { postgres: 'public.blns', sqlite: 'blns' },
    cols: BLNS_COLS,
    pk: ['id'],
    indexes: [{ name: 'blns_s_idx', unique: false, columns: ['s'] }],
  },
  NAUGHTY_KEYS,
];

function pgClient(db: string): pg.Client {
  return new pg.Client({ connectionString: pgUrl(db), options: '-c TimeZone=UTC' });
}

/** Creates the PostgreSQL source database `db` with every fixture table. */
export async function buildPgSource(db: string): Promise<void> {
  await freshPgDatabase(db);
  const c = pgClient(db);
  await c.connect();
  try {
    await c.query(PG_KITCHEN_DDL);
    for (const row of pgKitchenRows()) {
      const names = Object.keys(PG_TYPES);
      const sql = `INSERT INTO public.kitchen (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names
        .map((n, i) => `$${i + 1}::${PG_TYPES[n]}`)
        .join(', ')})`;
      await c.query(
        sql,
        names.map((n) => row[n] ?? null),
      );
    }

    await c.query(`
      CREATE TABLE public."Order Items" (
        "Order Id" bigint NOT NULL,
        sku text COLLATE "en-x-icu" NOT NULL,
        "select" integer NOT NULL,
        "from" text,
        "User" text,
        qty numeric(12,2),
        PRIMARY KEY ("Order Id", sku)
      );
      CREATE INDEX "Order Items by User" ON public."Order Items" ("User");
      CREATE UNIQUE INDEX oi_select_uq ON public."Order Items" ("select");`);
    let sel = 0;
    for (const o of ORDER_IDS) {
      for (const sku of SKUS) {
        sel++;
        await c.query(
          `INSERT INTO public."Order Items" ("Order Id", sku, "select", "from", "User", qty) VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            o.toString(),
            sku,
            sel,
            sel % 4 === 0 ? null : `from ${sku}`,
            sel % 3 === 0 ? null : `U${sel % 5}`,
            `${sel}.${sel % 100}`,
          ],
        );
      }
    }

    await c.query(`CREATE TABLE public.no_pk (a integer, b text, c double precision);
                   CREATE INDEX no_pk_a ON public.no_pk (a);`);
    for (const r of NO_PK_ROWS) await c.query('INSERT INTO public.no_pk VALUES ($1, $2, $3)', r);

    // The naughty strings, loaded from the COPY-text file exactly as published.
    await c.query(
      'CREATE TABLE public.blns (id serial PRIMARY KEY, s text); CREATE INDEX blns_s_idx ON public.blns (s);',
    );
    await pipeline(createReadStream(BLNS_TSV), c.query(copyFrom('COPY public.blns (id, s) FROM STDIN')));
    await c.query(`SELECT setval('public.blns_id_seq', (SELECT max(id) FROM public.blns))`);
    await c.query(`CREATE TABLE public.naughty_keys (s text PRIMARY KEY, first_id integer NOT NULL);
                   INSERT INTO public.naughty_keys SELECT s, min(id) FROM public.blns GROUP BY s;`);
  } finally {
    await c.end();
  }
}

// ------------------------------------------------------------------------------------------------
// SQLite source (values in the representations ferry reads and writes: sqlite-values.ts)
// ------------------------------------------------------------------------------------------------

export const SQLITE_KITCHEN_COLS: ColSpec[] = [
  { name: 'id', kind: 'int' },
  { name: 'i2', kind: 'int' },
  { name: 'i4', kind: 'int' },
  { name: 'i8', kind: 'int' },
  { name: 'b', kind: 'bool' },
  { name: 'r', kind: 'float8' },
  { name: 'f4', kind: 'float4' },
  { name: 'dec', kind: 'decimal' },
  { name: 'dec2', kind: 'decimal' },
  { name: 't', kind: 'text' },
  { name: 'by', kind: 'bytes' },
  { name: 'd', kind: 'date' },
  { name: 'tm', kind: 'time' },
  { name: 'ts', kind: 'timestamp' },
  { name: 'tstz', kind: 'timestamptz' },
  { name: 'u', kind: 'uuid' },
  { name: 'j', kind: 'json' },
  { name: 'iv', kind: 'interval' },
  { name: 'ai', kind: 'array' },
  { name: 'at', kind: 'array' },
  { name: 'a2', kind: 'array' },
];

const SQLITE_KITCHEN_DDL = `
CREATE TABLE kitchen (
  id INTEGER PRIMARY KEY,
  i2 SMALLINT,
  i4 INT4,
  i8 BIGINT,
  b BOOLEAN,
  r REAL,
  f4 FLOAT4,
  dec DECIMAL_TEXT,
  dec2 DECIMAL_TEXT(20,6),
  t TEXT,
  by BLOB,
  d DATE,
  tm TIME,
  ts TIMESTAMP,
  tstz TIMESTAMPTZ,
  u UUID,
  j JSON_TEXT,
  iv INTERVAL,
  ai INT4[],
  at TEXT[],
  a2 INT4[]
);
CREATE INDEX kitchen_ts_idx ON kitchen (ts);
CREATE UNIQUE INDEX kitchen_u_uq ON kitchen (u);
`;

type SqliteRow = Record<string, null | bigint | number | string | Buffer>;

const SQLITE_AWKWARD_TEXT_ARRAY = [
  '',
  null,
  'NULL',
  'null',
  'a,b',
  '{}',
  '{',
  '}',
  '"quoted"',
  'back\\slash',
  '\\N',
  ' lead/trail ',
  'tab\tnl\ncr\r',
  'é\u{1F600}\u{20000}',
];

/**
 * SQLite kitchen rows. Decimals conform to their declared scale (a DECIMAL_TEXT(20,6) value with
 * more decimals would be rounded by PostgreSQL's numeric(20,6), a change the target type asks for).
 * -0 in REAL/FLOAT4 is ferry's TEXT spelling (see the header).
 */
function sqliteKitchenRows(): SqliteRow[] {
  const rows: SqliteRow[] = [
    {
      i2: 1n,
      i4: 2n,
      i8: 3n,
      b: 1n,
      r: 0.1,
      f4: 0.5,
      dec: '1.10',
      dec2: '12.300000',
      t: 'plain',
      by: Buffer.from('hello'),
      d: '2024-01-02',
      tm: '12:34:56',
      ts: '2024-01-02 03:04:05',
      tstz: '2024-01-01 21:34:05+00',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      j: '{"k":"v"}',
      iv: 'P1Y2M3DT4H5M6.5S',
      ai: '[1,2,3]',
      at: '["a","b","c"]',
      a2: '[[1,2],[3,4]]',
    },
    {}, // every column NULL
    {
      i2: 32767n,
      i4: 2147483647n,
      i8: 9223372036854775807n,
      b: 0n,
      r: 1.7976931348623157e308,
      f4: 3.4028234663852886e38,
      dec: '12345678901234567890.123456789012345',
      dec2: '12345678901234.123456',
      t: EVERY_PLANE,
      by: ALL_BYTES,
      d: '5874897-12-31',
      tm: '24:00:00',
      ts: '294276-12-31 23:59:59.999999',
      tstz: '294276-12-31 23:59:59.999999+00',
      // Upper case on purpose: PostgreSQL's uuid prints it lower case (compare.ts lower-cases uuids).
      u: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
      j: '{"a":1,"a":2,"nested":{"arr":[1,2.50,{"x":null}],"deep":[[[]]]},"u":"\\u00e9\\ud83d\\ude00 é😀","esc":"\\"\\\\\\/\\b\\f\\n\\r\\t","big":1.000000000000000000001}',
      iv: 'P178000000Y',
      ai: '[2147483647,-2147483648,null,0]',
      at: JSON.stringify(SQLITE_AWKWARD_TEXT_ARRAY),
      a2: '[[1,null,3],[-4,5,-6]]',
    },
    {
      i2: -32768n,
      i4: -2147483648n,
      i8: -9223372036854775808n,
      b: 0n,
      r: -1.7976931348623157e308,
      f4: -3.4028234663852886e38,
      dec: '-0.000000000000000000000000000001',
      dec2: '-0.000001',
      t: CONTROL_TEXT,
      by: ZERO_BYTES,
      d: '4713-01-01 BC',
      tm: '00:00:00',
      ts: '4713-01-01 00:00:00 BC',
      tstz: '4713-01-01 00:00:00+00 BC',
      u: '00000000-0000-0000-0000-000000000000',
      j: '[]',
      iv: 'P-178000000Y',
      ai: '[]',
      at: '[]',
      a2: '[]',
    },
    {
      r: 'NaN', // ferry's NaN in a REAL column
      f4: 'NaN',
      dec: 'NaN',
      dec2: '0.000000',
      t: '',
      by: Buffer.alloc(0),
      d: 'infinity',
      ts: 'infinity',
      tstz: 'infinity',
      tm: '23:59:59.999999',
      iv: 'PT0.000001S',
      j: '""',
      at: '[""]',
    },
    {
      r: Number.POSITIVE_INFINITY,
      f4: Number.POSITIVE_INFINITY,
      dec: 'Infinity',
      d: '-infinity',
      ts: '-infinity',
      tstz: '-infinity',
      iv: 'P1M-1D',
      t: LITERAL_BACKSLASH_N,
      j: 'null',
      at: '["\\\\N",null]',
    },
    {
      r: Number.NEGATIVE_INFINITY,
      f4: Number.NEGATIVE_INFINITY,
      dec: '-Infinity',
      iv: 'P-1D',
      t: 'NULL',
      j: '{"spaces" :  "kept in SQLite and in PostgreSQL json"}',
    },
    {
      r: NEGATIVE_ZERO_TEXT,
      f4: NEGATIVE_ZERO_TEXT,
      dec: '0',
      iv: 'PT0S',
      t: ' ',
    },
    {
      r: 5e-324,
      f4: 1.401298464324817e-45,
      dec: '0.000000000000000000000000000000000000000000000000000000000000000000000000000001',
      ts: '2024-02-29 23:59:59.999999',
      tstz: '2024-06-30 12:34:56.000001+00',
      d: '2024-02-29',
      tm: '00:00:00.000001',
      t: CONTROL_TEXT + EVERY_PLANE,
    },
    {
      r: 2.2250738585072014e-308,
      f4: 1.1754943508222875e-38,
      dec: '-12345678901234567890.123456789012345',
      ts: '0001-12-31 23:59:59.999999 BC',
      tstz: '0001-12-31 23:59:59.999999+00 BC',
      d: '0001-01-01 BC',
      t: '"double" \'single\' `back` ; -- /* */ $$ \\\\',
    },
  ];
  for (let i = 11; i <= 33; i++) {
    rows.push({
      i2: BigInt(-i),
      i4: BigInt(i * 1000),
      i8: BigInt(i) * 10n ** 15n,
      b: BigInt(i % 2),
      r: i / 7,
      f4: i / 8,
      dec: `${i}.${'0'.repeat(i % 5)}${i}`,
      dec2: `${i * 1000}.${String(i % 100).padStart(6, '0')}`,
      t: `row ${i} ${'\u{1F600}'.repeat(i % 3)}`,
      by: Buffer.from([i, 0, 255 - i]),
      d: `19${i}-01-01`,
      tm: `0${i % 10}:3${i % 6}:00`,
      ts: `2001-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:00:00.${String(i).padStart(6, '0')}`,
      tstz: `2001-0${(i % 9) + 1}-1${i % 10} 0${i % 10}:00:00.${String(i * 3).padStart(6, '0')}+00`,
      u: `${String(i).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`,
      j: `{"i":${i}}`,
      iv: `P${i}DT${i}H`,
      ai: `[${i},${i + 1}]`,
      at: JSON.stringify([`row ${i}`, `\\${i}`]),
      a2: `[[${i}],[${-i}]]`,
    });
  }
  // Sparse, negative and huge integer keys (chunk boundaries are key values, not row numbers).
  const ids = rows.map((_, i) => BigInt(i + 1));
  ids[0] = -9223372036854775808n;
  ids[rows.length - 1] = 9223372036854775807n;
  return rows.map((r, i) => ({ ...r, id: ids[i] }));
}

export const SQLITE_ORDER_ITEMS_COLS = PG_ORDER_ITEMS_COLS;

export const SQLITE_TABLES: TableSpec[] = [
  {
    name: 'kitchen',
    selector: { postgres: 'public.kitchen', sqlite: 'kitchen' },
    cols: SQLITE_KITCHEN_COLS,
    pk: ['id'],
    indexes: [
      { name: 'kitchen_ts_idx', unique: false, columns: ['ts'] },
      { name: 'kitchen_u_uq', unique: true, columns: ['u'] },
    ],
  },
  {
    name: 'Order Items',
    selector: { postgres: 'public."Order Items"', sqlite: '"Order Items"' },
    cols: SQLITE_ORDER_ITEMS_COLS,
    pk: ['Order Id', 'sku'],
    indexes: [
      { name: 'Order Items by User', unique: false, columns: ['User'] },
      { name: 'oi_select_uq', unique: true, columns: ['select'] },
    ],
  },
  {
    name: 'no_pk',
    selector: { postgres: 'public.no_pk', sqlite: 'no_pk' },
    cols: PG_NO_PK_COLS,
    pk: [],
    indexes: [{ name: 'no_pk_a', unique: false, columns: ['a'] }],
  },
  {
    name: 'blns',
    selector: { postgres: 'public.blns', sqlite: 'blns' },
    cols: BLNS_COLS,
    pk: ['id'],
    indexes: [{ name: 'blns_s_idx', unique: false, columns: ['s'] }],
  },
  NAUGHTY_KEYS,
];

/** SQLite-only table: NUL inside TEXT (fine in SQLite, impossible in PostgreSQL text). */
export const NUL_TABLE: TableSpec = {
  name: 'nul_text',
  selector: { postgres: 'public.nul_text', sqlite: 'nul_text' },
  cols: [
    { name: 'id', kind: 'int' },
    { name: 'note', kind: 'text' },
    { name: 'payload', kind: 'text' },
  ],
  pk: ['id'],
  indexes: [],
};

/** Creates the SQLite source file with every fixture table (and `nul_text`). */
export function buildSqliteSource(file: string): void {
  const db = new Database(file);
  try {
    db.defaultSafeIntegers(true);
    db.exec(SQLITE_KITCHEN_DDL);
    const cols = SQLITE_KITCHEN_COLS.map((c) => c.name);
    const ins = db.prepare(
      `INSERT INTO kitchen (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
    );
    db.transaction(() => {
      for (const row of sqliteKitchenRows()) ins.run(cols.map((c) => row[c] ?? null));
    })();

    db.exec(`
      CREATE TABLE "Order Items" (
        "Order Id" BIGINT NOT NULL,
        sku TEXT NOT NULL,
        "select" INT4 NOT NULL,
        "from" TEXT,
        "User" TEXT,
        qty DECIMAL_TEXT(12,2),
        PRIMARY KEY ("Order Id", sku)
      );
      CREATE INDEX "Order Items by User" ON "Order Items" ("User");
      CREATE UNIQUE INDEX oi_select_uq ON "Order Items" ("select");`);
    const insOi = db.prepare(
      `INSERT INTO "Order Items" ("Order Id", sku, "select", "from", "User", qty) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    let sel = 0;
    db.transaction(() => {
      for (const o of ORDER_IDS) {
        for (const sku of SKUS) {
          sel++;
          insOi.run(
            o,
            sku,
            sel,
            sel % 4 === 0 ? null : `from ${sku}`,
            sel % 3 === 0 ? null : `U${sel % 5}`,
            `${sel}.${String(sel % 100).padStart(2, '0')}`,
          );
        }
      }
    })();

    db.exec('CREATE TABLE no_pk (a INT4, b TEXT, c REAL); CREATE INDEX no_pk_a ON no_pk (a);');
    const insNp = db.prepare('INSERT INTO no_pk VALUES (?, ?, ?)');
    for (const r of NO_PK_ROWS) insNp.run(r[0] === null ? null : BigInt(r[0]), r[1], r[2]);

    db.exec('CREATE TABLE blns (id INTEGER PRIMARY KEY, s TEXT); CREATE INDEX blns_s_idx ON blns (s);');
    const insB = db.prepare('INSERT INTO blns (id, s) VALUES (?, ?)');
    db.transaction(() => {
      blnsStrings().forEach((s, i) => {
        insB.run(BigInt(i + 1), s);
      });
    })();

    db.exec(`CREATE TABLE naughty_keys (s TEXT PRIMARY KEY NOT NULL, first_id INT4 NOT NULL);
             INSERT INTO naughty_keys SELECT s, min(id) FROM blns GROUP BY s;`);

    db.exec('CREATE TABLE nul_text (id INTEGER PRIMARY KEY, note TEXT, payload TEXT);');
    const insN = db.prepare('INSERT INTO nul_text VALUES (?, ?, ?)');
    insN.run(1n, 'clean', 'no nul here');
    insN.run(2n, 'nul inside', 'a\u0000b');
    insN.run(3n, 'only nul', '\u0000');
  } finally {
    db.close();
  }
}
