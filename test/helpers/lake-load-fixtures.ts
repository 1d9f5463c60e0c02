/**
 * Fixtures for test/lake-load.test.ts (the files source: lake -> warehouse).
 *
 * - Nested MongoDB-style documents, and what the test expects of them when flattened with
 *   `flatten: {arrays: child-table}` and `sample_rows: 6`: the expected columns and child tables are
 *   written out here by hand from the rules documented in src/connectors/files/files-flatten.ts (not
 *   computed by ferry's code), and every value is taken from the documents by path lookup here.
 * - A DuckDB script writing Parquet files with many types, and canonical text for each column read
 *   back by DuckDB and by PostgreSQL.
 * - MariaDB databases named ferry_lj_*, and the rejects file of a run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { withMy } from './mysql.js';

// ------------------------------------------------------------------------------------------------
// Documents
// ------------------------------------------------------------------------------------------------

export type Doc = Record<string, unknown>;

/** A key path longer than 63 bytes once joined (cut and given a hash suffix). */
export const LONG1 = 'a_rather_long_key_name_for_testing_limits';
export const LONG2 = 'and_another_quite_long_nested_key';

/** The first six documents: the sample (sample_rows: 6) the plan is made from. */
const SAMPLE_DOCS: Doc[] = [
  {
    _id: 'd01',
    name: 'Ann',
    Name: 'ann-upper',
    a: { b: 1 },
    a__b: 2,
    created: { $date: '2023-01-01T10:00:00Z' },
    score: 1.5,
    ok: true,
    meta: { author: { name: 'x', geo: { lat: 1.5, lng: -3 } }, lvl: 1 },
    tags: ['t1', 't2'],
    items: [
      { sku: 'A', qty: 2, tags: ['x', 'y'] },
      { sku: 'B', qty: 3, opt: { color: 'red' } },
    ],
    v: 1,
    conflict: { k: 1 },
    n: 7,
  },
  {
    _id: 'd02',
    name: 'Bob',
    a: { b: 5 },
    created: { $date: '2023-06-01T10:00:00.123+02:00' },
    score: 2,
    ok: false,
    meta: { author: { name: 'y' }, lvl: 2 },
    tags: [],
    items: [{ sku: 'C', qty: 1 }],
    v: 'str',
    conflict: 'scalar',
    n: 12345678901,
  },
  {
    _id: 'd03',
    name: 'Çé 😀 "q" \\ \t tab',
    mixed: [1, { a: 1 }, 'x', null],
    matrix: [[1, 2], [3]],
    meta: { list: [{ k: 'p' }, { k: 'q' }] },
    nums: [1.5, 2, null],
  },
  { _id: 'd04', none: null, arrconf: [1, 2], uni: '日本 \u{20000}' },
  { _id: 'd05', arrconf: 'nope', tags: ['t3'], a: { b: null }, [LONG1]: { [LONG2]: 'deep' } },
  { _id: 'd06', items: [], score: -0.25, created: null },
];

/** Documents after the sample that fit the plan (their `_extra` is null). */
function regularDoc(i: number): Doc {
  const id = `d${String(i).padStart(2, '0')}`;
  const d: Doc = {
    _id: id,
    name: i % 5 === 0 ? null : `user ${i} ✓`,
    a: { b: i },
    a__b: i * 10,
    created: { $date: new Date(Date.UTC(2023, 0, 1) + i * 86_400_000 + i * 1234).toISOString() },
    score: i / 4,
    ok: i % 2 === 0,
    meta: { author: { name: `au${i}`, geo: { lat: i, lng: -i } }, lvl: i },
    tags: Array.from({ length: i % 3 }, (_v, k) => `tag${i}-${k}`),
    items: Array.from({ length: i % 4 }, (_v, k) => ({
      sku: `S${i}-${k}`,
      qty: k * i,
      tags: k % 2 ? ['p', k] : [],
      ...(k === 2 ? { opt: { color: `c${i}` } } : {}),
    })),
    v: i % 3 === 0 ? i : i % 3 === 1 ? `v${i}` : true,
    conflict: i % 3 === 0 ? [i, 'x'] : { k: i },
    n: i * 1_000_000_007,
  };
  if (i % 4 === 0) d.mixed = [i, { i }, `s${i}`];
  if (i % 5 === 0) d.matrix = [[i], []];
  if (i % 6 === 0) d.meta = { ...(d.meta as Doc), list: [{ k: `k${i}` }] };
  if (i % 7 === 0) d.nums = [i / 8, -i];
  if (i % 8 === 0) d.arrconf = { z: [i] };
  if (i % 9 === 0) d.uni = `ü${i} 👩‍👩‍👧`;
  if (i === 11) d.none = 'now a value';
  if (i % 10 === 3) d[LONG1] = { [LONG2]: `long ${i}` };
  return d;
}

/**
 * Documents after the sample with parts the plan has no place for, each with the `_extra` the
 * rules give (written by hand): keys and arrays the sample never showed, an object where the plan
 * has a scalar, a scalar where it has an object or an array, array elements of the wrong shape.
 */
const SPECIAL: { doc: Doc; extra: unknown }[] = [
  {
    doc: {
      _id: 'd41',
      late: 'L',
      v: { o: 1 },
      items: [{ sku: 'D', qty: 4, newfield: 'nf', opt: { color: 'blue', shade: 'dark' } }],
      a: { b: 3, c: 'unseen' },
      tags: 'notarray',
      newarr: [1],
      meta: { author: 'flat', lvl: 9 },
    },
    extra: {
      late: 'L',
      v: { o: 1 },
      items: { '0': { newfield: 'nf', opt: { shade: 'dark' } } },
      a: { c: 'unseen' },
      tags: 'notarray',
      newarr: [1],
      meta: { author: 'flat' },
    },
  },
  { doc: { _id: 'd42', name: 'Ω', mixed: [{ deep: { x: [1] } }], matrix: 'x', nums: [] }, extra: { matrix: 'x' } },
  {
    doc: {
      _id: 'd43',
      created: { $date: '1969-12-31T23:59:59.999Z' },
      ok: null,
      conflict: null,
      arrconf: { z: [1] },
      uni: null,
      items: [{ sku: null, qty: null, tags: null, opt: null }],
    },
    extra: null,
  },
  { doc: { _id: 'd44', items: [7, { sku: 'E', qty: 5 }] }, extra: { items: { '0': 7 } } },
  { doc: { _id: 'd45', tags: [{ x: 1 }, 'ok', 5] }, extra: { tags: { '0': { x: 1 } } } },
  { doc: { _id: 'd46', a: { b: { deep: 1 } } }, extra: { a: { b: { deep: 1 } } } },
  {
    doc: { _id: 'd47', meta: { author: { name: 'z', geo: 'not an object', more: 1 } } },
    extra: { meta: { author: { more: 1 } } },
  },
];

export const DOCS: Doc[] = [
  ...SAMPLE_DOCS,
  ...Array.from({ length: 34 }, (_v, k) => regularDoc(k + 7)),
  ...SPECIAL.map((s) => s.doc),
  ...Array.from({ length: 13 }, (_v, k) => regularDoc(k + 48)),
];

/** `_extra` of each document, by `_id` (null for all but the special ones). */
export const EXTRA_BY_ID = new Map<string, unknown>(DOCS.map((d) => [d._id as string, null]));
for (const s of SPECIAL) EXTRA_BY_ID.set(s.doc._id as string, s.extra);

// ------------------------------------------------------------------------------------------------
// The expected plan
// ------------------------------------------------------------------------------------------------

/** How a column's values are compared: text, integer, double, boolean, timestamptz, JSON text. */
export type Kind = 'text' | 'int' | 'float' | 'bool' | 'tstz' | 'json';

export interface ExpCol {
  name: string;
  /** Key path in the document (or the array element); [] for a scalar element's `value`. */
  path: string[];
  kind: Kind;
  /** ferry's logical type name as `ferry plan` prints it. */
  logical: string;
}

export interface ExpChild {
  /** Flattened array name (`items`, `meta__list`); the table is `<stream>__<name>`. */
  name: string;
  path: string[];
  columns: ExpCol[];
}

const LOGICAL: Record<Kind, string> = {
  text: 'text',
  int: 'int32',
  float: 'float64',
  bool: 'boolean',
  tstz: 'timestamptz',
  json: 'json',
};

function col(name: string, path: string[], kind: Kind, logical = LOGICAL[kind]): ExpCol {
  return { name, path, kind, logical };
}

/** The documented suffix: `_` + 8 hex digits of sha1(path joined by NUL), after the name cut to fit 63 bytes. */
export function hashedName(path: string[], plain = path.join('__')): string {
  const suffix = `_${createHash('sha1').update(path.join('\u0000')).digest('hex').slice(0, 8)}`;
  return plain.slice(0, 63 - suffix.length) + suffix;
}

/**
 * The parent columns, in order of first appearance in the sample (without `_id` for the CSV
 * document column, whose documents have none).
 */
export function expectedColumns(withId: boolean): ExpCol[] {
  const cols = [
    col('_id', ['_id'], 'text'),
    col('name', ['name'], 'text'),
    // `Name` meets `name` ignoring case (MySQL): the later one gets the hash suffix.
    col(hashedName(['Name']), ['Name'], 'text'),
    col('a__b', ['a', 'b'], 'int'),
    // The literal key `a__b` comes after the path a.b, which took the plain name.
    col(hashedName(['a__b']), ['a__b'], 'int'),
    col('created__$date', ['created', '$date'], 'tstz'),
    col('score', ['score'], 'float'),
    col('ok', ['ok'], 'bool'),
    col('meta__author__name', ['meta', 'author', 'name'], 'text'),
    // Three levels deep (max_depth 3): the object at meta.author.geo is one JSON column.
    col('meta__author__geo', ['meta', 'author', 'geo'], 'json'),
    col('meta__lvl', ['meta', 'lvl'], 'int'),
    // 1 and "str": text.
    col('v', ['v'], 'text'),
    // An object in one document, a scalar in another: JSON.
    col('conflict', ['conflict'], 'json'),
    col('n', ['n'], 'int', 'int64'),
    // Only null in the sample: text.
    col('none', ['none'], 'text'),
    // An array in one document, a scalar in another: JSON, not a child table.
    col('arrconf', ['arrconf'], 'json'),
    col('uni', ['uni'], 'text'),
    col(hashedName([LONG1, LONG2]), [LONG1, LONG2], 'text'),
  ];
  return withId ? cols : cols.slice(1);
}

export const EXPECTED_CHILDREN: ExpChild[] = [
  { name: 'tags', path: ['tags'], columns: [col('value', [], 'text')] },
  {
    name: 'items',
    path: ['items'],
    columns: [
      col('sku', ['sku'], 'text'),
      col('qty', ['qty'], 'int'),
      // Arrays inside elements are JSON: one level of child tables only.
      col('tags', ['tags'], 'json'),
      col('opt__color', ['opt', 'color'], 'text'),
    ],
  },
  // Objects and scalars mixed: one JSON column.
  { name: 'mixed', path: ['mixed'], columns: [col('value', [], 'json')] },
  // Arrays of arrays: one JSON column.
  { name: 'matrix', path: ['matrix'], columns: [col('value', [], 'json')] },
  { name: 'meta__list', path: ['meta', 'list'], columns: [col('k', ['k'], 'text')] },
  { name: 'nums', path: ['nums'], columns: [col('value', [], 'float')] },
];

// ------------------------------------------------------------------------------------------------
// Expected values
// ------------------------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a key path, through objects only (undefined when the path is not there). */
export function at(doc: unknown, p: readonly string[]): unknown {
  let v = doc;
  for (const k of p) {
    if (!isPlainObject(v) || !Object.hasOwn(v, k)) return undefined;
    v = v[k];
  }
  return v;
}

/** What a column holds for a JSON value found at its path, as canonical text (null for NULL). */
export function expectedCanon(kind: Kind, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (kind === 'json') return JSON.stringify(v);
  // A scalar column holding an object or array: that part goes to `_extra`, the column is NULL.
  if (typeof v === 'object') return null;
  switch (kind) {
    case 'bool':
      return v ? 't' : 'f';
    case 'tstz':
      return new Date(String(v)).toISOString();
    case 'float':
      return String(Number(v));
    default:
      return String(v);
  }
}

/** A database value read back (PostgreSQL `::text`, or mysql2's value) as canonical text. */
export function dbCanon(kind: Kind, v: unknown, dialect: 'postgres' | 'mysql'): string | null {
  if (v === null || v === undefined) return null;
  const s = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  switch (kind) {
    case 'bool':
      return s === 'true' || s === '1' ? 't' : s === 'false' || s === '0' ? 'f' : `?${s}`;
    case 'tstz':
      // PostgreSQL (TimeZone UTC): `2023-06-01 08:00:00.123+00`; MariaDB datetime(6) in UTC.
      return new Date(
        dialect === 'postgres' ? s.replace(' ', 'T').replace(/\+00$/, 'Z') : `${s.replace(' ', 'T')}Z`,
      ).toISOString();
    case 'float':
      return String(Number(s));
    default:
      return s;
  }
}

export interface ExpectedTable {
  columns: ExpCol[];
  /** Rows as column name -> canonical text, in key order. */
  rows: Record<string, string | null>[];
}

/**
 * The parent table of the documents: every plan column by path lookup, plus the raw `_extra`
 * (compared as parsed JSON). `prefix` is `doc__` for a document column.
 */
export function expectedParent(
  docs: readonly { key: Record<string, string>; doc: Doc | null }[],
  cols: ExpCol[],
  prefix = '',
): { rows: Record<string, string | null>[]; extras: unknown[] } {
  const rows: Record<string, string | null>[] = [];
  const extras: unknown[] = [];
  for (const { key, doc } of docs) {
    const row: Record<string, string | null> = { ...key };
    for (const c of cols) row[prefix + c.name] = expectedCanon(c.kind, at(doc, c.path));
    rows.push(row);
    extras.push(doc === null ? null : (EXTRA_BY_ID.get(String(key._id)) ?? null));
  }
  return { rows, extras };
}

/** A child table's rows: one per element of the array at the child's path, keyed by the parent key and `_index`. */
export function expectedChild(
  docs: readonly { key: Record<string, string>; doc: Doc | null }[],
  child: ExpChild,
): Record<string, string | null>[] {
  const rows: Record<string, string | null>[] = [];
  for (const { key, doc } of docs) {
    const arr = at(doc, child.path);
    if (!Array.isArray(arr)) continue;
    arr.forEach((el, i) => {
      const row: Record<string, string | null> = { ...key, _index: String(i) };
      for (const c of child.columns) {
        const v = c.path.length === 0 ? el : isPlainObject(el) ? at(el, c.path) : undefined;
        row[c.name] = expectedCanon(c.kind, v);
      }
      rows.push(row);
    });
  }
  return rows;
}

// ------------------------------------------------------------------------------------------------
// Parquet written by DuckDB
// ------------------------------------------------------------------------------------------------

/** Rows of the DuckDB table `lj_types`; the first ones hold the extremes, then a pattern with NULLs. */
export const PARQUET_ROWS = 4000;

/** Strings with Unicode and quoting hazards (single quotes doubled for SQL below). */
export const PARQUET_TEXT = [
  '',
  'plain',
  'héllo wörld',
  '日本語テキスト',
  '😀 \u{1F468}\u200d\u{1F469}\u200d\u{1F467} \u{20000} \u{10FFFD}',
  'quote \' and " double',
  'tab\there\nnewline\r\nCRLF',
  'back\\slash \\N',
  '\ufeffleading BOM',
  'a,b;c|d',
  'NULL',
  ' lead and trail ',
  'nul\u0000inside',
];

/** A DuckDB string literal; a NUL becomes `chr(0)` (a NUL cannot sit in the SQL text itself). */
const sqlString = (s: string) =>
  `(${s
    .split('\u0000')
    .map((part) => `'${part.replace(/'/g, "''")}'`)
    .join(' || chr(0) || ')})`;

/**
 * DuckDB SQL creating `lj_types`. `pick(list)` chooses by id, with NULL every 13th row (shifted
 * per column), so every column has NULLs and every listed extreme appears.
 */
export function duckTypesSql(): string {
  const pick = (values: string[], shift: number) =>
    `CASE WHEN (i + ${shift}) % 13 = 0 THEN NULL ELSE ([${values.join(', ')}])[1 + (i % ${values.length})] END`;
  const cols: [string, string][] = [
    ['b', `CASE WHEN (i + 1) % 13 = 0 THEN NULL ELSE i % 2 = 0 END`],
    [
      'ti',
      `CASE WHEN (i + 2) % 13 = 0 THEN NULL WHEN i % 5 = 0 THEN -128 WHEN i % 5 = 1 THEN 127 ELSE (i % 200) - 100 END::TINYINT`,
    ],
    [
      'si',
      `CASE WHEN (i + 3) % 13 = 0 THEN NULL WHEN i % 5 = 0 THEN -32768 WHEN i % 5 = 1 THEN 32767 ELSE i * 3 - 7000 END::SMALLINT`,
    ],
    [
      'ii',
      `CASE WHEN (i + 4) % 13 = 0 THEN NULL WHEN i % 5 = 0 THEN -2147483648 WHEN i % 5 = 1 THEN 2147483647 ELSE i * 99991 - 123456789 END::INTEGER`,
    ],
    [
      'bi',
      `CASE WHEN (i + 5) % 13 = 0 THEN NULL WHEN i % 5 = 0 THEN -9223372036854775808 WHEN i % 5 = 1 THEN 9223372036854775807 ELSE i::BIGINT * 1000000007 * 99991 - 9007199254740993 END::BIGINT`,
    ],
    [
      'ub',
      `CASE WHEN (i + 6) % 13 = 0 THEN NULL WHEN i % 5 = 0 THEN 18446744073709551615::UBIGINT WHEN i % 5 = 1 THEN 9223372036854775808::UBIGINT WHEN i % 5 = 2 THEN 0::UBIGINT ELSE (i::UBIGINT * 3000000000000000) END`,
    ],
    [
      'd18',
      pick(
        ['999999999999999.999', '-999999999999999.999', '0.001', '-0.001', '0', '12345.678'].map(
          (v) => `${sqlString(v)}::DECIMAL(18,3)`,
        ),
        7,
      ),
    ],
    [
      'd38',
      pick(
        [
          '9999999999999999999999999999.9999999999',
          '-9999999999999999999999999999.9999999999',
          '0.0000000001',
          '1234567890123456789012345678.0123456789',
          '-1',
          '0',
        ].map((v) => `${sqlString(v)}::DECIMAL(38,10)`),
        8,
      ),
    ],
    [
      'dbl',
      `CASE WHEN (i + 9) % 13 = 0 THEN NULL WHEN i % 9 >= 6 THEN (i % 9) * 1.1e-3 + i / 7 ELSE ([${[
        "'NaN'",
        "'inf'",
        "'-inf'",
        "'-0.0'",
        "'5e-324'",
        "'1.7976931348623157e308'",
      ]
        .map((v) => `${v}::DOUBLE`)
        .join(', ')}])[1 + (i % 9)] END`,
    ],
    [
      'fl',
      pick(
        ["'3.4028235e38'", "'1.1'", "'-0.5'", "'1e-45'", "'NaN'"].map((v) => `${v}::FLOAT`),
        10,
      ),
    ],
    ['s', pick(PARQUET_TEXT.map(sqlString), 11)],
    [
      'dt',
      pick(
        ["'2024-02-29'", "'1970-01-01'", "'1969-12-31'", "'0001-01-01'", "'9999-12-31'", "'0044-03-15 (BC)'"].map(
          (v) => `${v}::DATE`,
        ),
        12,
      ) + ` + CASE WHEN i % 6 IN (0, 1) THEN (i % 400)::INTEGER ELSE 0 END`,
    ],
    [
      'ts',
      pick(
        [
          "'2024-01-02 03:04:05.123456'",
          "'1969-12-31 23:59:59.999999'",
          "'1900-01-01 00:00:00'",
          "'0001-01-01 00:00:00'",
          "'9999-12-31 23:59:59.999999'",
        ].map((v) => `${v}::TIMESTAMP`),
        0,
      ) + ` + to_microseconds(CASE WHEN i % 5 = 0 THEN i * 1000003 ELSE 0 END)`,
    ],
    [
      'tstz',
      pick(
        [
          "'2024-01-02 03:04:05.123456+02'",
          "'1969-12-31 23:59:59.5+00'",
          "'2000-06-30 23:59:59.999999-07:30'",
          "'1970-01-01 00:00:00+00'",
        ].map((v) => `${v}::TIMESTAMPTZ`),
        1,
      ) + ` + to_microseconds(CASE WHEN i % 4 = 0 THEN i * 7777777 ELSE 0 END)`,
    ],
    [
      'tsms',
      pick(
        ["'2024-01-02 03:04:05.123'", "'1969-12-31 23:59:59.999'", "'1970-01-01 00:00:00.001'"].map(
          (v) => `${v}::TIMESTAMP_MS`,
        ),
        2,
      ),
    ],
    [
      'tsns',
      pick(
        [
          "'2024-01-02 03:04:05.123456789'",
          "'1969-12-31 23:59:59.999999999'",
          "'1970-01-01 00:00:00.000000001'",
          "'2262-04-11 23:47:16.854775'",
        ].map((v) => `${v}::TIMESTAMP_NS`),
        3,
      ),
    ],
    [
      'tm',
      pick(
        ["'00:00:00'", "'23:59:59.999999'", "'12:34:56.5'", "'01:02:03.000001'"].map((v) => `${v}::TIME`),
        4,
      ) + ` + to_microseconds(CASE WHEN i % 4 = 2 THEN i * 1000 ELSE 0 END)`,
    ],
    [
      'u',
      `CASE WHEN (i + 5) % 13 = 0 THEN NULL WHEN i % 7 = 0 THEN '00000000-0000-0000-0000-000000000000'::UUID WHEN i % 7 = 1 THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID ELSE md5(i::VARCHAR)::UUID END`,
    ],
    [
      'bl',
      `CASE WHEN (i + 6) % 13 = 0 THEN NULL WHEN i % 3 = 0 THEN ''::BLOB WHEN i % 3 = 1 THEN '\\x00\\xFF\\x80abc'::BLOB ELSE unhex(md5(i::VARCHAR)) END`,
    ],
  ];
  return `CREATE OR REPLACE TABLE lj_types AS SELECT i::INTEGER AS id, ${cols
    .map(([n, e]) => `${e} AS ${n}`)
    .join(',\n ')} FROM range(1, ${PARQUET_ROWS + 1}) t(i)`;
}

/** Canonical text of every column as DuckDB reads the files (compared with `pgTypesCanonSql`). */
export function duckCanonSql(glob: string): string {
  return `SELECT id::VARCHAR id, b::VARCHAR b, ti::VARCHAR ti, si::VARCHAR si, ii::VARCHAR ii, bi::VARCHAR bi,
      ub::VARCHAR ub, d18::VARCHAR d18, d38::VARCHAR d38, dbl, fl, encode(s) s, dt::VARCHAR dt,
      strftime(ts, '%Y-%m-%d %H:%M:%S.%f') ts,
      strftime(make_timestamp(epoch_us(tstz)), '%Y-%m-%d %H:%M:%S.%f') tstz,
      strftime(tsms, '%Y-%m-%d %H:%M:%S.%f') tsms,
      strftime(tsns, '%Y-%m-%d %H:%M:%S.%n') tsns,
      tm::VARCHAR tm, u::VARCHAR u, lower(hex(bl)) bl
    FROM read_parquet('${glob}') ORDER BY CAST(id AS INTEGER)`;
}

/** The same canonical text from PostgreSQL (session TimeZone UTC). */
export const PG_TYPES_CANON_SQL = `SELECT id::text id, b::text b, ti::text ti, si::text si, ii::text ii, bi::text bi,
    ub::text ub, d18::text d18, d38::text d38, dbl::text dbl, fl::text fl, s, dt::text dt,
    to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US') ts,
    to_char(tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') tstz,
    to_char(tsms, 'YYYY-MM-DD HH24:MI:SS.US') tsms,
    to_char(tsns, 'YYYY-MM-DD HH24:MI:SS.US') tsns,
    tm::text tm, u::text u, encode(bl, 'hex') bl
  FROM dd ORDER BY dd.id::integer`;

/** PostgreSQL float text -> number (NaN, ±Infinity, -0 kept). */
export function pgFloat(s: string): number {
  if (s === 'Infinity') return Number.POSITIVE_INFINITY;
  if (s === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/** `HH:MM:SS[.f]` with the fraction padded to 6 digits. */
function time6(s: string): string {
  const [whole, frac = ''] = s.split('.');
  return `${whole}.${frac.padEnd(6, '0')}`;
}

/**
 * One DuckDB row as the PostgreSQL row must read, by the documented rules: NUL bytes stripped from
 * text (nul_bytes: strip, the default), TIMESTAMP_NS cut to microseconds (the wall-clock fraction
 * truncated, which is the floor also before 1970), BC dates spelled PostgreSQL's way.
 */
export function duckRowCanon(r: Record<string, unknown>): Record<string, unknown> {
  const dt = r.dt === null ? null : String(r.dt).replace(/ \(BC\)$/, ' BC');
  return {
    ...r,
    s:
      r.s === null
        ? null
        : Buffer.from(r.s as Uint8Array)
            .toString('utf8')
            .replaceAll('\u0000', ''),
    dt,
    tsns: r.tsns === null ? null : String(r.tsns).slice(0, -3),
    tm: r.tm === null ? null : time6(String(r.tm)),
    dbl: r.dbl === null ? null : r.dbl,
    fl: r.fl === null ? null : r.fl,
  };
}

export function pgRowCanon(r: Record<string, unknown>): Record<string, unknown> {
  return {
    ...r,
    tm: r.tm === null ? null : time6(String(r.tm)),
    dbl: r.dbl === null ? null : pgFloat(String(r.dbl)),
    fl: r.fl === null ? null : Math.fround(pgFloat(String(r.fl))),
  };
}

// ------------------------------------------------------------------------------------------------
// MariaDB and rejects
// ------------------------------------------------------------------------------------------------

/** (Re)creates an empty MariaDB database named ferry_lj_*; returns its URL. */
export async function freshLjMyDatabase(name: string, base: string): Promise<string> {
  if (!/^ferry_lj_[a-z0-9_]+$/.test(name)) throw new Error(`test databases here are named ferry_lj_*: ${name}`);
  await withMy(null, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  });
  return `${base}/${name}`;
}

export interface RejectLine {
  stream: string;
  chunk: string;
  key: (string | null)[];
  column: string;
  value: string | null;
  reason: string;
  policy?: string;
  file?: string;
}

/** The run id a `ferry run` printed (`run <id>: ok ...` / `run <id> (resumed): ...`). */
export function runIdOf(stdout: string): string {
  const m = /^run (\S+?)(?: \(resumed\))?: /m.exec(stdout);
  if (!m) throw new Error(`no run id in:\n${stdout}`);
  return m[1];
}

/** `.ferry/<job>/rejects/<run>/<stream>.rejects.jsonl`, parsed ([] when there is no such file). */
export function readRejects(dir: string, job: string, runId: string, stream: string): RejectLine[] {
  const file = path.join(dir, '.ferry', job, 'rejects', runId, `${stream}.rejects.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RejectLine);
}
