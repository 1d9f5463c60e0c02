/**
 * Reads tables with the drivers directly (pg, better-sqlite3), never through ferry's readers, and
 * compares them value by value.
 *
 * Same dialect: no normalisation at all. PostgreSQL values are compared as the server's own text
 * (`col::text`); SQLite values as (storage class, exact value), so even an INTEGER that became a
 * REAL, or a TEXT that became a BLOB, is a difference.
 *
 * Across dialects each value is brought to one text form by the column's kind. Every rule below
 * maps two spellings of the SAME value to one text and can never merge two different values:
 * - float8: both sides parsed to a JS double (PostgreSQL prints the shortest exact text; SQLite
 *   holds a REAL, or ferry's TEXT 'NaN'); compared as the double's text with -0 and NaN kept apart.
 * - float4: the same, at float4 precision (Math.fround on both sides): PostgreSQL's real is a float4,
 *   SQLite holds the float4's value as a double (or the shortest decimal text PostgreSQL printed).
 *   SQLite TEXT is accepted in a float column only in ferry's own spellings ('NaN', 'Infinity',
 *   '-Infinity', and NO-BREAK SPACE + '-0' for -0, which SQLite's REAL affinity cannot hold as a
 *   number); any other text stays tagged and is a difference.
 * - time, timestamp, timestamptz: trailing zeros of the fractional seconds are dropped on both sides
 *   ('.000020' and '.00002' are the same instant; PostgreSQL prints the short form, a SQLite file
 *   may hold the padded one). Nothing else of the text is touched (no zone or format conversion).
 * - bool: PostgreSQL `true`/`false` vs SQLite integer 1/0 (any other SQLite value is kept as is
 *   and shows up as a difference).
 * - bytes: both sides as lower-case hex (`encode(col, 'hex')` on PostgreSQL, the BLOB's bytes on SQLite).
 * - uuid: lower-cased (a uuid is case-insensitive hex; PostgreSQL always prints lower case).
 * - array: PostgreSQL's own `to_json(col)` vs the JSON text ferry stores in SQLite; both parsed,
 *   leaves turned into strings (an int[] cannot hold the string "1", so "1" vs 1 cannot hide a
 *   change), nesting and NULL elements kept.
 * - everything else (decimal, text, date, time, timestamp, timestamptz, interval, json): the exact
 *   text, as PostgreSQL prints it with TimeZone=UTC, DateStyle=ISO, IntervalStyle=iso_8601 (the
 *   text forms of logical-types.ts) and as SQLite stores it. A SQLite value that is not TEXT is
 *   tagged with its storage class so that, e.g., a decimal turned into a REAL is a difference.
 * JSON is compared as exact text everywhere (SQLite JSON_TEXT lands in PostgreSQL json, which keeps
 * the text; PostgreSQL jsonb is copied as the text jsonb prints).
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { pgUrl } from './env.js';
import type { ColSpec, Kind } from './fixtures.js';

export type Cell = string | null;
export type Row = Cell[];

/** Session settings that select PostgreSQL's exact, zone-free text forms. */
const PG_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c extra_float_digits=1';

export function qi(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function withPg<T>(db: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: pgUrl(db), options: PG_OPTIONS });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function canonDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

function parseFloatText(s: string): number | undefined {
  if (s === 'NaN') return Number.NaN;
  if (s === 'Infinity') return Number.POSITIVE_INFINITY;
  if (s === '-Infinity') return Number.NEGATIVE_INFINITY;
  const n = Number(s);
  return s.trim() === '' || Number.isNaN(n) ? undefined : n;
}

/** Text forms of a float that ferry writes into a SQLite REAL column (sqlite-values.ts). */
const SQLITE_FLOAT_TEXTS: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '\u00a0-0': -0,
};

/** '12:00:00.500000' -> '12:00:00.5', '12:00:00.000000+00' -> '12:00:00+00'. */
function trimFraction(s: string): string {
  return s.replace(/(\d{2}:\d{2}:\d{2})\.(\d*?)0*(?!\d)/, (_m, hms: string, frac: string) =>
    frac === '' ? hms : `${hms}.${frac}`,
  );
}

function leavesToStrings(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(leavesToStrings);
  return x === null ? null : String(x);
}

function normArrayJson(text: string): string {
  return JSON.stringify(leavesToStrings(JSON.parse(text)));
}

/** Reads a PostgreSQL table, all columns, ordered by `orderBy` (key columns, byte order). */
export async function readPg(
  db: string,
  table: string,
  cols: readonly ColSpec[],
  orderBy: readonly string[],
  cross: boolean,
  schema = 'public',
): Promise<Row[]> {
  const exprs = cols.map((c) => {
    const q = qi(c.name);
    if (!cross) return `${q}::text`;
    if (c.kind === 'array') return `to_json(${q})::text`;
    if (c.kind === 'bytes') return `encode(${q}, 'hex')`;
    return `${q}::text`;
  });
  const order = orderBy.length ? ` ORDER BY ${orderBy.map((k) => `${qi(k)}`).join(', ')}` : '';
  const sql = `SELECT ${exprs.map((e, i) => `${e} AS c${i}`).join(', ')} FROM ${qi(schema)}.${qi(table)}${order}`;
  const rows = await withPg(db, async (c) => (await c.query({ text: sql, rowMode: 'array' })).rows as Cell[][]);
  if (!cross) return rows;
  return rows.map((r) => r.map((v, i) => (v === null ? null : normPgCross(cols[i].kind, v))));
}

function normPgCross(kind: Kind, v: string): string {
  switch (kind) {
    case 'float8': {
      const n = parseFloatText(v);
      return n === undefined ? `unparsable:${v}` : canonDouble(n);
    }
    case 'float4': {
      const n = parseFloatText(v);
      return n === undefined ? `unparsable:${v}` : canonDouble(Math.fround(n));
    }
    case 'uuid':
      return v.toLowerCase();
    case 'array':
      return normArrayJson(v);
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return trimFraction(v);
    default:
      return v;
  }
}

type SqliteValue = null | bigint | number | string | Buffer;

function tagSqlite(v: SqliteValue): Cell {
  if (v === null) return null;
  if (typeof v === 'bigint') return `integer:${v}`;
  if (typeof v === 'number') return `real:${canonDouble(v)}`;
  if (Buffer.isBuffer(v)) return `blob:${v.toString('hex')}`;
  return `text:${v}`;
}

function normSqliteCross(kind: Kind, v: SqliteValue): Cell {
  if (v === null) return null;
  switch (kind) {
    case 'int':
      return typeof v === 'bigint' ? v.toString() : tagSqlite(v);
    case 'bool':
      return v === 1n ? 'true' : v === 0n ? 'false' : tagSqlite(v);
    case 'float8':
    case 'float4': {
      let n: number | undefined;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'string') n = SQLITE_FLOAT_TEXTS[v];
      if (n === undefined) return tagSqlite(v);
      return canonDouble(kind === 'float4' ? Math.fround(n) : n);
    }
    case 'bytes':
      return Buffer.isBuffer(v) ? v.toString('hex') : tagSqlite(v);
    case 'uuid':
      return typeof v === 'string' ? v.toLowerCase() : tagSqlite(v);
    case 'array':
      return typeof v === 'string' ? normArrayJson(v) : tagSqlite(v);
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return typeof v === 'string' ? trimFraction(v) : tagSqlite(v);
    default:
      return typeof v === 'string' ? v : tagSqlite(v);
  }
}

/** Reads a SQLite table, all columns, ordered by `orderBy` (BINARY collation = byte order). */
export function readSqlite(
  file: string,
  table: string,
  cols: readonly ColSpec[],
  orderBy: readonly string[],
  cross: boolean,
): Row[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const order = orderBy.length ? ` ORDER BY ${orderBy.map(qi).join(', ')}` : '';
    const raw = db
      .prepare(`SELECT ${cols.map((c) => qi(c.name)).join(', ')} FROM ${qi(table)}${order}`)
      .raw(true)
      .all() as SqliteValue[][];
    return raw.map((r) => r.map((v, i) => (cross ? normSqliteCross(cols[i].kind, v) : tagSqlite(v))));
  } finally {
    db.close();
  }
}

function show(v: Cell): string {
  if (v === null) return 'NULL';
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * Every difference between two tables, as readable lines ([] when equal). With a key, rows are
 * matched by key (missing, extra, duplicate keys, changed cells by column); without one, the tables
 * are compared as multisets of rows (every duplicate counts).
 */
export function diffTables(cols: readonly ColSpec[], key: readonly string[], source: Row[], target: Row[]): string[] {
  const out: string[] = [];
  if (source.length !== target.length) out.push(`row count: source ${source.length}, target ${target.length}`);
  if (key.length === 0) {
    const counts = new Map<string, number>();
    for (const r of source) counts.set(JSON.stringify(r), (counts.get(JSON.stringify(r)) ?? 0) + 1);
    for (const r of target) counts.set(JSON.stringify(r), (counts.get(JSON.stringify(r)) ?? 0) - 1);
    for (const [r, n] of counts) {
      if (n > 0) out.push(`missing in target (${n}x): ${r}`);
      if (n < 0) out.push(`extra in target (${-n}x): ${r}`);
    }
    return out;
  }
  const ki = key.map((k) => {
    const i = cols.findIndex((c) => c.name === k);
    if (i < 0) throw new Error(`key column ${k} is not among the columns`);
    return i;
  });
  const keyOf = (r: Row) => JSON.stringify(ki.map((i) => r[i]));
  const index = (rows: Row[], side: string) => {
    const m = new Map<string, Row>();
    for (const r of rows) {
      const k = keyOf(r);
      if (m.has(k)) out.push(`duplicate key in ${side}: ${k}`);
      m.set(k, r);
    }
    return m;
  };
  const s = index(source, 'source');
  const t = index(target, 'target');
  for (const [k, sr] of s) {
    const tr = t.get(k);
    if (!tr) {
      out.push(`missing in target: key ${k}`);
      continue;
    }
    cols.forEach((c, i) => {
      if (sr[i] !== tr[i]) out.push(`key ${k} column ${c.name}: source ${show(sr[i])} target ${show(tr[i])}`);
    });
  }
  for (const k of t.keys()) if (!s.has(k)) out.push(`extra in target: key ${k}`);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Keys, indexes, leftovers
// ------------------------------------------------------------------------------------------------

export interface KeysInfo {
  pk: string[];
  /** Secondary indexes, by name. */
  indexes: { name: string; unique: boolean; columns: string[] | null; def: string | null }[];
}

export async function pgKeys(db: string, table: string, schema = 'public'): Promise<KeysInfo> {
  return withPg(db, async (c) => {
    const ref = `${qi(schema)}.${qi(table)}`;
    const pk = await c.query<{ name: string }>(
      `SELECT a.attname AS name
         FROM pg_constraint k CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
        WHERE k.conrelid = to_regclass($1) AND k.contype = 'p' ORDER BY u.ord`,
      [ref],
    );
    const ix = await c.query<{
      name: string;
      def: string;
      unique: boolean;
      primary: boolean;
      plain: boolean;
      columns: string[];
    }>(
      `SELECT pi.indexname AS name, pi.indexdef AS def, i.indisunique AS unique, i.indisprimary AS primary,
              (i.indexprs IS NULL AND i.indpred IS NULL) AS plain,
              ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS u(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum ORDER BY u.ord)::text[] AS columns
         FROM pg_indexes pi
         JOIN pg_namespace n ON n.nspname = pi.schemaname
         JOIN pg_class ic ON ic.relname = pi.indexname AND ic.relnamespace = n.oid
         JOIN pg_index i ON i.indexrelid = ic.oid
        WHERE pi.schemaname = $1 AND pi.tablename = $2
        ORDER BY pi.indexname`,
      [schema, table],
    );
    return {
      pk: pk.rows.map((r) => r.name),
      indexes: ix.rows
        .filter((r) => !r.primary)
        .map((r) => ({ name: r.name, unique: r.unique, columns: r.plain ? r.columns : null, def: r.def })),
    };
  });
}

export function sqliteKeys(file: string, table: string): KeysInfo {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const cols = db.prepare(`PRAGMA table_info(${qi(table)})`).all() as { name: string; pk: number }[];
    const pk = cols
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    const list = db.prepare(`PRAGMA index_list(${qi(table)})`).all() as {
      name: string;
      unique: number;
      origin: string;
      partial: number;
    }[];
    const indexes = list
      .filter((ix) => ix.origin === 'c')
      .map((ix) => {
        const info = db.prepare(`PRAGMA index_info(${qi(ix.name)})`).all() as { name: string | null }[];
        const plain = ix.partial === 0 && info.every((i) => i.name !== null);
        const def = db.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`).get(ix.name) as
          | { sql: string }
          | undefined;
        return {
          name: ix.name,
          unique: ix.unique === 1,
          columns: plain ? info.map((i) => i.name as string) : null,
          def: def?.sql ?? null,
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // A primary key that is not the rowid has its own index (origin 'pk').
    if (pk.length > 0) {
      const rowidAlias =
        pk.length === 1 &&
        (db.prepare(`PRAGMA table_info(${qi(table)})`).all() as { name: string; type: string }[]).find(
          (c) => c.name === pk[0],
        )?.type === 'INTEGER';
      if (!rowidAlias && !list.some((ix) => ix.origin === 'pk')) throw new Error(`${table}: primary key has no index`);
    }
    return { pk, indexes };
  } finally {
    db.close();
  }
}

export async function pgStageTables(db: string): Promise<string[]> {
  return withPg(db, async (c) => {
    const r = await c.query<{ t: string }>(
      `SELECT schemaname || '.' || tablename AS t FROM pg_tables WHERE tablename LIKE '\\_ferry\\_stage\\_%'`,
    );
    return r.rows.map((x) => x.t);
  });
}

export function sqliteStageTables(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (
      db.prepare(`SELECT name FROM sqlite_schema WHERE name LIKE '\\_ferry\\_stage\\_%' ESCAPE '\\'`).all() as {
        name: string;
      }[]
    ).map((r) => r.name);
  } finally {
    db.close();
  }
}
