/**
 * Public sample databases (../shared/datasets) loaded into the test MariaDB with the `mariadb`
 * command-line client, for test/datasets-mysql.test.ts. Databases are named `ferry_ds_*`.
 *
 * Cache: a database whose base tables already hold exactly the expected row counts is not loaded
 * again (reruns stay fast); anything else (missing, partial, different) is dropped and loaded from
 * the dump files, so the tests also work from nothing on a fresh machine.
 *
 * Independent reads: `compareTables` reads both sides with the drivers (mysql2, pg), never with
 * ferry's readers, and brings every value to one text by the column's PostgreSQL type.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DATASETS, pgUrl } from './env.js';
import { baseOptions, MY_BASE, myUrl, withMy } from './mysql.js';

// The server, URLs and UTC-pinned connections are shared with the conformance suite's helpers.
export { MY_BASE, myUrl, withMy };

function dsName(db: string): string {
  if (!/^ferry_ds_[a-z0-9_]+$/.test(db)) throw new Error(`dataset databases are named ferry_ds_*: ${db}`);
  return db;
}

/** Runs one statement; returns its rows. */
export async function myQuery<R = Record<string, unknown>>(
  db: string | null,
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  return withMy(db, async (c) => (await c.query(sql, values))[0] as R[]);
}

/** (Re)creates an empty MariaDB database. */
export async function freshMyDatabase(db: string): Promise<string> {
  await withMy(null, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS \`${dsName(db)}\``);
    await c.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  });
  return myUrl(db);
}

/** Exact row count of every base table of a database. */
export async function myTableCounts(db: string): Promise<Record<string, number>> {
  const tables = await myQuery<{ n: string }>(
    null,
    `SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1`,
    [db],
  );
  const out: Record<string, number> = {};
  await withMy(db, async (c) => {
    for (const t of tables) {
      const [rows] = await c.query(`SELECT COUNT(*) AS n FROM \`${t.n.replace(/`/g, '``')}\``);
      out[t.n] = Number((rows as { n: string }[])[0].n);
    }
  });
  return out;
}

/**
 * Feeds a script to the `mariadb` client (falls back to `mysql`), in batch mode, so that the
 * client's own commands work (DELIMITER for triggers and procedures). Rejects with its stderr.
 */
export async function mariadbScript(db: string, script: Buffer | string, extraArgs: string[] = []): Promise<void> {
  const s = baseOptions();
  const args = [
    `--host=${s.host}`,
    `--port=${s.port}`,
    `--user=${s.user}`,
    '--batch',
    '--silent',
    '--default-character-set=utf8mb4',
    ...extraArgs,
    db,
  ];
  const attempt = (bin: string) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(bin, args, {
        stdio: ['pipe', 'ignore', 'pipe'],
        env: { ...process.env, ...(s.password ? { MYSQL_PWD: s.password } : {}) },
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`${bin} ${db} exited with ${code}: ${stderr.trim().slice(0, 2000)}`));
      });
      child.stdin.on('error', () => {});
      child.stdin.end(script);
    });
  try {
    await attempt('mariadb');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await attempt('mysql');
  }
}

/** Drops `CREATE/DROP DATABASE|SCHEMA` and `USE` lines: the script then runs in the database we chose. */
export function dropDatabaseLines(sql: string): string {
  return sql
    .split('\n')
    .filter((l) => !/^\s*(?:(?:DROP|CREATE)\s+(?:DATABASE|SCHEMA)\b|USE\s)/i.test(l))
    .join('\n');
}

export interface LoadResult {
  db: string;
  /** False when the cached database already had the expected counts. */
  loaded: boolean;
  seconds: number;
  counts: Record<string, number>;
}

/**
 * Makes sure `db` holds exactly `expected` (base table -> row count); otherwise drops it, creates
 * it and runs `load`. Throws if the counts are still not as expected after loading.
 */
export async function ensureMysqlDataset(
  db: string,
  expected: Record<string, number>,
  load: (db: string) => Promise<void>,
): Promise<LoadResult> {
  const t0 = Date.now();
  const same = (c: Record<string, number>) => JSON.stringify(sortKeys(c)) === JSON.stringify(sortKeys(expected));
  const exists = await myQuery(null, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db]);
  if (exists.length > 0) {
    const counts = await myTableCounts(db);
    if (same(counts)) return { db, loaded: false, seconds: (Date.now() - t0) / 1000, counts };
  }
  await freshMyDatabase(db);
  await load(db);
  const counts = await myTableCounts(db);
  if (!same(counts)) {
    throw new Error(`${db}: after loading, counts ${JSON.stringify(counts)} differ from ${JSON.stringify(expected)}`);
  }
  return { db, loaded: true, seconds: (Date.now() - t0) / 1000, counts };
}

function sortKeys(o: Record<string, number>): [string, number][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// ------------------------------------------------------------------------------------------------
// The datasets
// ------------------------------------------------------------------------------------------------

export const EMPLOYEES_DIR = path.join(DATASETS, 'employees/bytebase/mysql/dataset_large');

/** The published expectations of test_employee_md5.sql (dataset_large), read from the file itself. */
export function employeesExpected(): Record<string, { rows: number; md5: string }> {
  const sql = readFileSync(path.join(EMPLOYEES_DIR, 'test_employee_md5.sql'), 'utf8');
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const m of sql.matchAll(/\('(\w+)',\s*(\d+),\s*'([0-9a-f]{32})'\)/g))
    out[m[1]] = { rows: Number(m[2]), md5: m[3] };
  return out;
}

/** employee.sql with its `source file;` lines replaced by the files (the data), minus the DB lines. */
export async function loadEmployees(db: string): Promise<void> {
  const main = readFileSync(path.join(EMPLOYEES_DIR, 'employee.sql'), 'utf8');
  const script = dropDatabaseLines(main)
    .split('\n')
    .filter((l) => !/^\s*flush\b/i.test(l) && !/^\s*source\s+show_elapsed\.sql/i.test(l))
    .map((l) => {
      const m = /^\s*source\s+(\S+?)\s*;\s*$/i.exec(l);
      return m ? readFileSync(path.join(EMPLOYEES_DIR, m[1]), 'utf8') : l;
    })
    .join('\n');
  await mariadbScript(db, script, [`--init-command=SET SESSION time_zone = '+00:00'`]);
}

export const CHINOOK_DIR = path.join(DATASETS, 'chinook/lerocha');

/** Chinook 1.4.5's published row counts (the same in every dialect's script and in ChinookData.json). */
export function chinookExpected(): Record<string, number> {
  const data = JSON.parse(readFileSync(path.join(CHINOOK_DIR, 'ChinookData.json'), 'utf8')) as Record<
    string,
    unknown[]
  >;
  return Object.fromEntries(Object.entries(data).map(([t, rows]) => [t, rows.length]));
}

/** Chinook_MySql.sql as utf8mb4 with NO_BACKSLASH_ESCAPES (4 track names hold a literal backslash). */
export async function loadChinook(db: string): Promise<void> {
  const sql = readFileSync(path.join(CHINOOK_DIR, 'Chinook_MySql.sql'), 'utf8');
  await mariadbScript(db, dropDatabaseLines(sql), [
    `--init-command=SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES'), time_zone = '+00:00'`,
  ]);
}

export const SAKILA_DIR = path.join(DATASETS, 'sakila/mysql-official-0.8');

/** Exact counts of the loaded Sakila 0.8 base tables (payment 16049 and rental 16044 are the published ones). */
export const SAKILA_COUNTS: Record<string, number> = {
  actor: 200,
  address: 603,
  category: 16,
  city: 600,
  country: 109,
  customer: 599,
  film: 1000,
  film_actor: 5462,
  film_category: 1000,
  film_text: 1000,
  inventory: 4581,
  language: 6,
  payment: 16049,
  rental: 16044,
  staff: 2,
  store: 2,
};

/**
 * Schema (tables, views, triggers, procedures, functions: the client handles DELIMITER) then data.
 * The views name `sakila.` explicitly; those qualifiers are dropped so they point into `db`.
 * film_text has no data of its own: the ins_film trigger fills it while film is loaded. The data
 * file holds a PNG in a string literal, so it is passed on as raw bytes (latin1 round trip).
 */
export async function loadSakila(db: string): Promise<void> {
  const schema = dropDatabaseLines(readFileSync(path.join(SAKILA_DIR, 'sakila-schema.sql'), 'utf8')).replace(
    /\bsakila\./g,
    '',
  );
  const data = dropDatabaseLines(readFileSync(path.join(SAKILA_DIR, 'sakila-data.sql'), 'latin1'));
  await mariadbScript(db, Buffer.concat([Buffer.from(schema, 'utf8'), Buffer.from(`\n${data}`, 'latin1')]), [
    `--init-command=SET SESSION time_zone = '+00:00'`,
  ]);
}

export const PGLOADER_MYSQL_DIR = path.join(DATASETS, 'pgloader-tests/mysql');

/**
 * Rows ferry's tests add to pgloader's fixtures (most of its tables are empty: pgloader tests the
 * DDL), so that each cast also moves values. Loaded with sql_mode '' so that MySQL keeps the zero
 * and partial dates and the invalid enum value ('') it would otherwise refuse. Documented in
 * docs/pgloader-fixtures.md.
 */
export const PGLOADER_EXTRA_ROWS: Record<string, string> = {
  my: `
SET SESSION sql_mode = '';
INSERT INTO races VALUES
  (1, 2009, 1, 1, 'Australian Grand Prix', '2009-03-29', '06:00:00', 'http://en.wikipedia.org/wiki/2009_Australian_Grand_Prix'),
  (2, 0, 0, 0, 'zero date', '0000-00-00', NULL, NULL),
  (3, 2010, 2, 2, 'partial date, time beyond a day', '2010-02-00', '25:30:00', 'http://example.org/3');
INSERT INTO \`utilisateurs__Yvelines2013-06-28\` VALUES
  ('administrateur', 2013, 'F', 'Artisan, commerçant, chef d''entreprise', 'Fonction publique d''Etat', '3 ?? 5'),
  ('membre', NULL, NULL, 'Étudiant', NULL, '10 000 et plus'),
  ('not a label', 1901, 'H', NULL, 'Secteur privé - Services', NULL);
INSERT INTO propertydecimal VALUES (123456789012345678, 123456789012.123456), (0, NULL), (-1, -0.000001);
INSERT INTO onupdate VALUES (1, 'p-1', '2019-01-01 10:00:00', '2038-01-19 03:14:07'), (2, 'p-2', '1970-01-01 00:00:01', '2020-02-29 23:59:59');
INSERT INTO domain_filter VALUES
  (UNHEX(REPLACE('65de699d-b5cc-4e13-b507-c71adea31e53', '-', '')), 'domain', '{"key": ["x y", 2.50, null], "n": 1e3}', 0, 0x00ff10, 'q1', '2020-01-01 00:00:00', NULL, NULL),
  (UNHEX(REPLACE('00000000-0000-0000-0000-000000000001', '-', '')), 'ip', NULL, 1, 0x5c00, 'q2', '2021-06-30 12:34:56', '2021-07-01 00:00:00', X'');
INSERT INTO \`CamelCase\` VALUES ('S,M,L'), (NULL);
INSERT INTO pgloader_test_unsigned VALUES (0, -32768, 255);
INSERT INTO uw_defined_meaning VALUES (4294967295, -1), (0, 0);
`,
  history: `
INSERT INTO history VALUES
  ('h1', 'insert', NULL, '2020-01-01', NULL, '2020-01-01 00:00:00', '10.0.0.1', 'me', 18446744073709551615),
  ('h2', 'update', 'c', NULL, '2020-12-31', '2021-06-01 12:00:00', NULL, NULL, 1);
`,
};

export interface PgloaderFixture {
  /** Name in docs/pgloader-fixtures.md (the file, without .sql). */
  fixture: string;
  db: string;
  file: string;
  expected: Record<string, number>;
}

export const PGLOADER_FIXTURES: PgloaderFixture[] = [
  {
    fixture: 'my',
    db: 'ferry_ds_pgl_my',
    file: 'my.sql',
    expected: {
      base64: 1,
      bits: 2,
      CamelCase: 2,
      countdata_template: 2,
      domain_filter: 2,
      empty: 0,
      encryption_key_canary: 1,
      fcm_batches: 1,
      funny_string: 1,
      geom: 1,
      onupdate: 2,
      pgloader_test_unsigned: 2,
      propertydecimal: 3,
      races: 3,
      'utilisateurs__Yvelines2013-06-28': 3,
      uw_defined_meaning: 2,
    },
  },
  { fixture: 'hex', db: 'ferry_ds_pgl_hex', file: 'hex.sql', expected: { encryption_key_canary: 1 } },
  { fixture: 'history', db: 'ferry_ds_pgl_history', file: 'history.sql', expected: { history: 2 } },
  { fixture: 'f1db.circuits', db: 'ferry_ds_pgl_f1db', file: 'f1db.circuits.my.sql', expected: { circuits: 73 } },
  { fixture: 'db789', db: 'ferry_ds_pgl_db789', file: 'db789.sql', expected: { refrain: 4 } },
];

/** A pgloader MySQL fixture file (its own database lines dropped), then ferry's extra rows. */
export async function loadPgloaderFixture(f: PgloaderFixture, db: string): Promise<void> {
  const sql = dropDatabaseLines(readFileSync(path.join(PGLOADER_MYSQL_DIR, f.file), 'utf8'));
  await mariadbScript(db, `${sql}\n${PGLOADER_EXTRA_ROWS[f.fixture] ?? ''}`, [
    `--init-command=SET SESSION time_zone = '+00:00'`,
  ]);
}

// ------------------------------------------------------------------------------------------------
// Independent comparison (drivers only)
// ------------------------------------------------------------------------------------------------

export interface MySide {
  dialect: 'mysql';
  db: string;
  table: string;
}

export interface PgSide {
  dialect: 'postgres';
  db: string;
  schema: string;
  table: string;
}

type Kind = 'bytes' | 'bool' | 'int' | 'ts' | 'tstz' | 'date' | 'seconds' | 'float4' | 'float8' | 'uuid' | 'text';

/** The comparison kind of a column, by its PostgreSQL type (format_type). */
function kindOfPg(t: string): Kind {
  if (t === 'bytea') return 'bytes';
  if (t === 'boolean') return 'bool';
  if (/^(smallint|integer|bigint|numeric)/.test(t)) return 'int';
  if (t.startsWith('timestamp') && t.endsWith('with time zone')) return 'tstz';
  if (t.startsWith('timestamp')) return 'ts';
  if (t === 'date') return 'date';
  if (t.startsWith('time') || t.startsWith('interval')) return 'seconds';
  if (t === 'real') return 'float4';
  if (t === 'double precision') return 'float8';
  if (t === 'uuid') return 'uuid';
  return 'text';
}

const qm = (n: string) => `\`${n.replace(/`/g, '``')}\``;
const qp = (n: string) => `"${n.replace(/"/g, '""')}"`;

function myExpr(col: string, dataType: string, columnType: string, kind: Kind): string {
  const c = qm(col);
  if (dataType === 'bit') return `CAST(${c} AS UNSIGNED)`;
  switch (kind) {
    case 'bytes':
      return `LOWER(HEX(${c}))`;
    case 'uuid':
      return /binary/.test(dataType) ? `LOWER(HEX(${c}))` : `LOWER(REPLACE(${c}, '-', ''))`;
    case 'ts':
    case 'tstz':
      return `DATE_FORMAT(${c}, '%Y-%m-%d %H:%i:%s.%f')`;
    case 'seconds':
      return /^time/.test(columnType) ? `TIME_TO_SEC(${c})` : `CAST(${c} AS CHAR)`;
    case 'float4':
    case 'float8':
      return `CAST(${c} AS DOUBLE)`;
    default:
      return `CAST(${c} AS CHAR)`;
  }
}

function pgExpr(col: string, kind: Kind): string {
  const c = qp(col);
  switch (kind) {
    case 'bytes':
      return `encode(${c}, 'hex')`;
    case 'bool':
      return `CASE WHEN ${c} THEN '1' ELSE '0' END`;
    case 'ts':
      return `to_char(${c}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'tstz':
      return `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'date':
      return `to_char(${c}, 'YYYY-MM-DD')`;
    case 'seconds':
      return `EXTRACT(EPOCH FROM ${c})::text`;
    case 'uuid':
      return `replace(${c}::text, '-', '')`;
    default:
      return `${c}::text`;
  }
}

/** One text per value: numbers of the float and seconds kinds are compared as numbers. */
function norm(kind: Kind, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  if (kind === 'float4') return String(Math.fround(Number(s)));
  if (kind === 'float8' || kind === 'seconds') return String(Number(s));
  return s;
}

export interface ColumnMeta {
  name: string;
  mysqlDataType: string;
  mysqlColumnType: string;
  pgType: string;
}

/** Column names and types on both sides (same names, MySQL order); throws if the sets differ. */
export async function columnMeta(my: MySide, pgs: PgSide): Promise<ColumnMeta[]> {
  const mc = await myQuery<{ n: string; dt: string; ct: string }>(
    null,
    `SELECT COLUMN_NAME AS n, DATA_TYPE AS dt, COLUMN_TYPE AS ct FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [my.db, my.table],
  );
  const pc = await pgRows<{ n: string; t: string }>(
    pgs.db,
    `SELECT attname AS n, format_type(atttypid, atttypmod) AS t FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [`${qp(pgs.schema)}.${qp(pgs.table)}`],
  );
  if (mc.length !== pc.length || mc.some((c) => !pc.some((p) => p.n === c.n))) {
    throw new Error(
      `${my.table}: columns differ: mysql ${mc.map((c) => c.n).join(',')} / postgres ${pc.map((c) => c.n).join(',')}`,
    );
  }
  return mc.map((c) => ({
    name: c.n,
    mysqlDataType: c.dt.toLowerCase(),
    mysqlColumnType: c.ct.toLowerCase(),
    pgType: pc.find((p) => p.n === c.n)!.t,
  }));
}

export async function pgRows<R = Record<string, unknown>>(
  db: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: pgUrl(db), options: '-c TimeZone=UTC -c DateStyle=ISO,YMD' });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/**
 * Every value of a table on both sides, each brought to one text by the column's kind, matched
 * by `key` (or as a multiset of rows without one). Returns readable differences ([] when equal).
 * `only` restricts the comparison to some columns (the key columns are always read).
 */
export async function compareTables(
  my: MySide,
  pgs: PgSide,
  key: string[],
  options: { only?: string[]; limit?: number } = {},
): Promise<string[]> {
  const meta = await columnMeta(my, pgs);
  const cols = meta.filter((c) => !options.only || options.only.includes(c.name) || key.includes(c.name));
  const kinds = cols.map((c) => kindOfPg(c.pgType));
  const myRows = await withMy(my.db, async (c) => {
    const sql = `SELECT ${cols.map((x, i) => myExpr(x.name, x.mysqlDataType, x.mysqlColumnType, kinds[i])).join(', ')} FROM ${qm(my.table)}`;
    const [rows] = await c.query({ sql, rowsAsArray: true });
    return (rows as unknown[][]).map((r) => r.map((v, i) => norm(kinds[i], v)));
  });
  const pgRowsArr = await (async () => {
    const client = new pg.Client({ connectionString: pgUrl(pgs.db), options: '-c TimeZone=UTC' });
    await client.connect();
    try {
      const sql = `SELECT ${cols.map((x, i) => pgExpr(x.name, kinds[i])).join(', ')} FROM ${qp(pgs.schema)}.${qp(pgs.table)}`;
      const res = await client.query({ text: sql, rowMode: 'array' });
      return (res.rows as unknown[][]).map((r) => r.map((v, i) => norm(kinds[i], v)));
    } finally {
      await client.end();
    }
  })();
  const out: string[] = [];
  const limit = options.limit ?? 20;
  if (myRows.length !== pgRowsArr.length) out.push(`row count: mysql ${myRows.length}, postgres ${pgRowsArr.length}`);
  const ki = key.map((k) => cols.findIndex((c) => c.name === k));
  const keyOf = (r: (string | null)[]) => JSON.stringify(ki.length ? ki.map((i) => r[i]) : r);
  const index = (rows: (string | null)[][]) => {
    const m = new Map<string, (string | null)[][]>();
    for (const r of rows) m.set(keyOf(r), [...(m.get(keyOf(r)) ?? []), r]);
    return m;
  };
  const a = index(myRows);
  const b = index(pgRowsArr);
  for (const [k, rows] of a) {
    const other = b.get(k) ?? [];
    if (rows.length !== other.length) {
      out.push(`key ${k}: ${rows.length} row(s) in mysql, ${other.length} in postgres`);
      continue;
    }
    if (ki.length === 0) continue;
    cols.forEach((c, i) => {
      if (rows[0][i] !== other[0][i]) {
        out.push(
          `key ${k} column ${c.name}: mysql ${JSON.stringify(rows[0][i])} postgres ${JSON.stringify(other[0][i])}`,
        );
      }
    });
    if (out.length > limit) break;
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`key ${k}: only in postgres`);
  return out.slice(0, limit);
}
