/**
 * The files source (lake -> warehouse), end to end through the CLI into the real PostgreSQL and
 * MariaDB servers, with files on local disk and on a real S3 API (s3rver):
 *
 * 1. Nested MongoDB-style JSONL documents flattened into columns and child tables, and a CSV with a
 *    JSON document column: `ferry plan` shows the columns and child streams; every value of every
 *    table equals what this test takes from the documents itself (test/helpers/lake-load-fixtures.ts,
 *    never ferry's flatten code).
 * 2. Parquet written by DuckDB (many types, several files by a glob, local and S3) compared value by
 *    value with DuckDB's own read of the same files; Parquet written by ferry (PG -> lake -> PG,
 *    manifest mode) compared with the source, and `ferry verify`.
 * 3. Bad values refused by the database: rejected rows with their column and the database's reason
 *    within max_rejects, and past it a failed run that leaves the target as it was.
 * 4. 1,200 files on S3, more than one ListObjectsV2 page.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDuck, duckQuery } from './helpers/duckdb.js';
import {
  type CliResult,
  freshPgDatabase,
  tempDir as newTempDir,
  pgQuery,
  pgUrl,
  runCli,
  writeJob,
} from './helpers/env.js';
import {
  DOCS,
  type Doc,
  dbCanon,
  duckCanonSql,
  duckRowCanon,
  duckTypesSql,
  EXPECTED_CHILDREN,
  type ExpCol,
  expectedChild,
  expectedColumns,
  expectedParent,
  freshLjMyDatabase,
  type Kind,
  PARQUET_ROWS,
  PG_TYPES_CANON_SQL,
  pgRowCanon,
  readRejects,
  runIdOf,
} from './helpers/lake-load-fixtures.js';
import { MY_BASE, myQuery } from './helpers/mysql.js';
import { type S3Server, startS3 } from './helpers/s3.js';

const BUCKET = 'ljsrc';
let s3: S3Server;

/** Temporary folders of this file, removed at the end. */
const dirs: string[] = [];
function tempDir(prefix: string): string {
  const d = newTempDir(prefix);
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  s3 = await startS3({ buckets: [BUCKET] });
}, 60_000);

afterAll(async () => {
  await s3?.stop();
  await closeDuck();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Dialect = 'postgres' | 'mysql';
const DIALECTS: Dialect[] = ['postgres', 'mysql'];

/** A fresh database of the dialect named ferry_lj_<name>; its URL. */
async function freshDb(dialect: Dialect, name: string): Promise<string> {
  const db = `ferry_lj_${name}`;
  return dialect === 'postgres' ? freshPgDatabase(db) : freshLjMyDatabase(db, MY_BASE);
}

const qPg = (n: string) => `"${n.replace(/"/g, '""')}"`;
const qMy = (n: string) => `\`${n.replace(/`/g, '``')}\``;

/** A table's column names in order, or null when it does not exist. */
async function tableColumns(dialect: Dialect, db: string, table: string): Promise<string[] | null> {
  const rows =
    dialect === 'postgres'
      ? await pgQuery<{ c: string }>(
          db,
          `SELECT column_name c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
          [table],
        )
      : await myQuery<{ c: string }[]>(
          db,
          'SELECT column_name c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position',
          [db, table],
        );
  return rows.length ? rows.map((r) => r.c) : null;
}

/** Every row of a table, each column as text (PostgreSQL `::text`, MariaDB `CAST(... AS CHAR)`). */
async function readTable(
  dialect: Dialect,
  db: string,
  table: string,
  order: string[],
): Promise<Record<string, unknown>[]> {
  const cols = await tableColumns(dialect, db, table);
  if (!cols) throw new Error(`${dialect} ${db}.${table} does not exist`);
  if (dialect === 'postgres') {
    return pgQuery(
      db,
      `SELECT ${cols.map((c) => `${qPg(c)}::text AS ${qPg(c)}`).join(', ')} FROM ${qPg(table)} t ORDER BY ${order.map((o) => `t.${qPg(o)}`).join(', ')}`,
    );
  }
  // As text: mysql2 would parse MariaDB's JSON columns, and the test compares their exact text.
  // The order is by the table's own columns (t.x), not by the text of the output columns.
  return myQuery<Record<string, unknown>[]>(
    db,
    `SELECT ${cols.map((c) => `CAST(${qMy(c)} AS CHAR CHARACTER SET utf8mb4) AS ${qMy(c)}`).join(', ')} FROM ${qMy(table)} t ORDER BY ${order.map((o) => `t.${qMy(o)}`).join(', ')}`,
  );
}

function ok(r: CliResult): string {
  return `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
}

function writeGz(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, file.endsWith('.gz') ? gzipSync(text) : text);
}

// ------------------------------------------------------------------------------------------------
// `ferry plan` output
// ------------------------------------------------------------------------------------------------

interface PlanColumn {
  name: string;
  pk: boolean;
  sourceType: string;
  logical: string;
}

/** The column table of one stream in `ferry plan` text: name, key flag, source type, logical type. */
function planColumns(plan: string, stream: string): PlanColumn[] | null {
  const sections = plan.split(/^stream /m).slice(1);
  const section = sections.find((s) => s.startsWith(`${stream} -> `));
  if (!section) return null;
  const lines = section.split('\n');
  const start = lines.findIndex((l) => /^\s+column\s+source type\s+logical/.test(l));
  const out: PlanColumn[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^\s{2}\S/.test(line) || /^\s+(source|files|policies|loads|warning|lossy|notes?):/.test(line)) break;
    const parts = line.trim().split(/\s{2,}/);
    const pk = parts[0].endsWith(' (pk)');
    out.push({ name: pk ? parts[0].slice(0, -5) : parts[0], pk, sourceType: parts[1], logical: parts[2] });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// 1. Nested documents
// ------------------------------------------------------------------------------------------------

/** The name a target gives a column longer than it allows (docs/job-file.md, Identifiers). */
function fitName(name: string, dialect: Dialect): string {
  const limit = dialect === 'postgres' ? 63 : 64;
  if (Buffer.byteLength(name) <= limit) return name;
  return `${name.slice(0, limit - 9)}_${createHashHex(name)}`;
}

function createHashHex(s: string): string {
  return createHash('sha1').update(s).digest('hex').slice(0, 8);
}

/** Compares a table with the expected rows, column by column as canonical text. */
function canonRows(
  rows: Record<string, unknown>[],
  kinds: Map<string, Kind>,
  dialect: Dialect,
  skip: string[] = [],
): Record<string, string | null>[] {
  return rows.map((r) => {
    const out: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(r)) {
      if (skip.includes(k)) continue;
      out[k] = dbCanon(kinds.get(k) ?? 'text', v, dialect);
    }
    return out;
  });
}

interface DocCase {
  stream: string;
  /** Flattened columns' prefix (`doc__` for a document column). */
  prefix: string;
  /** Columns of the record itself before the flattened ones (the key first). */
  own: ExpCol[];
  docs: { key: Record<string, string>; doc: Doc | null }[];
}

/**
 * Checks the plan's parent and child streams, then every row and value of the parent table and of
 * each child table against the documents.
 */
async function checkFlattened(dialect: Dialect, db: string, planText: string, c: DocCase): Promise<void> {
  const flat = expectedColumns(c.prefix === '');
  const parentCols = [
    ...c.own,
    ...flat.filter((x) => !c.own.some((o) => o.name === x.name)).map((x) => ({ ...x, name: c.prefix + x.name })),
  ];
  const extraName = `${c.prefix}_extra`;
  const targetName = (n: string) => fitName(n, dialect);

  // The plan: parent columns in order of first appearance, `_extra` last, and one stream per array
  // (names as the target gets them: a name too long for it is renamed by the documented rule).
  const plan = planColumns(planText, c.stream);
  expect(plan, planText).not.toBeNull();
  expect(plan!.map((p) => [p.name, p.logical])).toEqual([
    ...parentCols.map((x) => [targetName(x.name), x.logical]),
    [extraName, 'json'],
  ]);
  expect(plan!.filter((p) => p.pk).map((p) => p.name)).toEqual(['_id']);
  for (const ch of EXPECTED_CHILDREN) {
    const childStream = `${c.stream}__${c.prefix}${ch.name}`;
    const cp = planColumns(planText, childStream);
    expect(cp, `${childStream} in\n${planText}`).not.toBeNull();
    expect(cp!.map((p) => [p.name, p.logical, p.pk])).toEqual([
      ['_id', 'text', true],
      ['_index', 'int32', true],
      ...ch.columns.map((x) => [x.name, x.logical, false]),
    ]);
  }
  // No other child streams.
  const streams = [...planText.matchAll(/^stream (\S+) -> /gm)].map((m) => m[1]).sort();
  expect(streams).toEqual([c.stream, ...EXPECTED_CHILDREN.map((ch) => `${c.stream}__${c.prefix}${ch.name}`)].sort());

  // The parent table: its columns, then every value.
  const dbName = `ferry_lj_${db}`;
  expect(await tableColumns(dialect, dbName, c.stream)).toEqual([
    ...parentCols.map((x) => targetName(x.name)),
    extraName,
  ]);
  const kinds = new Map(parentCols.map((x) => [targetName(x.name), x.kind] as [string, Kind]));
  const actual = await readTable(dialect, dbName, c.stream, ['_id']);
  const { rows: expRows, extras } = expectedParent(c.docs, flat, c.prefix);
  const sortKey = (r: Record<string, string | null>) => String(r._id);
  const order = c.docs.map((d, i) => [d.key._id, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const expSorted = order.map(([, i]) => {
    const row: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(expRows[i]))
      row[k === '_id' || c.own.some((o) => o.name === k) ? k : targetName(k)] = v;
    return row;
  });
  const got = canonRows(actual, kinds, dialect, [extraName]);
  expect(got.map(sortKey)).toEqual(expSorted.map(sortKey));
  expect(got).toEqual(expSorted);
  const gotExtras = actual.map((r) => (r[extraName] === null ? null : JSON.parse(String(r[extraName]))));
  expect(gotExtras).toEqual(order.map(([, i]) => extras[i]));
  // The documents' leftovers are there (keys after the sample, shapes the plan has no place for).
  expect(gotExtras.filter((x) => x !== null).length).toBe(6);

  // Every child table: one row per element, keyed by the parent key and the element's index.
  for (const ch of EXPECTED_CHILDREN) {
    const table = `${c.stream}__${c.prefix}${ch.name}`;
    expect(await tableColumns(dialect, dbName, table)).toEqual(['_id', '_index', ...ch.columns.map((x) => x.name)]);
    const ckinds = new Map<string, Kind>([
      ['_index', 'int'],
      ...ch.columns.map((x) => [x.name, x.kind] as [string, Kind]),
    ]);
    const rows = canonRows(await readTable(dialect, dbName, table, ['_id', '_index']), ckinds, dialect);
    const childDocs = c.docs.map((d) => ({ key: { _id: d.key._id }, doc: d.doc }));
    const want = expectedChild(childDocs, ch).sort((a, b) =>
      a._id! < b._id! ? -1 : a._id! > b._id! ? 1 : Number(a._index) - Number(b._index),
    );
    expect(want.length, table).toBeGreaterThan(2);
    expect(rows, table).toEqual(want);
  }
}

describe('nested documents flattened into columns and child tables', () => {
  for (const dialect of DIALECTS) {
    it(`JSONL (MongoDB style) -> ${dialect}: plan, parent and child tables hold every value`, async () => {
      const dir = tempDir('ferry-lj-docs-');
      const target = await freshDb(dialect, 'docs');
      // Two files: the sample comes from the first; the second is gzipped with CRLF line ends.
      const lines = DOCS.map((d) => JSON.stringify(d));
      writeGz(path.join(dir, 'src', 'docs', 'part-1.jsonl'), `${lines.slice(0, 30).join('\n')}\n`);
      writeGz(path.join(dir, 'src', 'docs', 'part-2.jsonl.gz'), `${lines.slice(30).join('\r\n')}\r\n`);
      writeFileSync(path.join(dir, 'src', 'docs', 'README.txt'), 'not matched by the glob\n');
      const job = writeJob(dir, {
        source: 'file:./src',
        target,
        streams: {
          docs: {
            files: 'docs/part-*.jsonl*',
            primary_key: ['_id'],
            sample_rows: 6,
            flatten: { arrays: 'child-table' },
          },
        },
      });
      const plan = await runCli(['plan', job]);
      expect(plan.code, ok(plan)).toBe(0);
      const run = await runCli(['run', job]);
      expect(run.code, ok(run)).toBe(0);
      await checkFlattened(dialect, 'docs', plan.stdout, {
        stream: 'docs',
        prefix: '',
        own: [],
        docs: DOCS.map((d) => ({ key: { _id: String(d._id) }, doc: d })),
      });
    }, 60_000);
  }
});

/** A CSV field: quoted when it holds a delimiter, quote, line break or is empty; null is an unquoted empty field. */
function csvField(v: string | null): string {
  if (v === null) return '';
  return v === '' || /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

describe('a CSV with a JSON document column (flatten: {column: doc})', () => {
  for (const dialect of DIALECTS) {
    it(`-> ${dialect}: doc__ columns, doc___extra and child tables <stream>__doc__<array> hold every value`, async () => {
      const dir = tempDir('ferry-lj-csvdoc-');
      const target = await freshDb(dialect, 'csvdoc');
      // As a MongoDB export with the document in one column: _id, a plain field, the document.
      const docs = [
        ...DOCS.map((d) => {
          const { _id, ...rest } = d;
          return { key: { _id: String(_id), src: Number(String(_id).slice(1)) % 2 ? 'mongoexport' : '' }, doc: rest };
        }),
        { key: { _id: 'd99', src: 'no document' }, doc: null },
      ];
      const csv = [
        '_id,src,doc',
        ...docs.map((d) =>
          [d.key._id, d.key.src, d.doc === null ? null : JSON.stringify(d.doc)].map(csvField).join(','),
        ),
      ].join('\r\n');
      writeGz(path.join(dir, 'src', 'export', 'mongo.csv.gz'), `${csv}\r\n`);
      const job = writeJob(dir, {
        source: 'file:./src',
        target,
        streams: {
          mongo: {
            files: 'export/mongo.csv.gz',
            primary_key: ['_id'],
            sample_rows: 6,
            flatten: { column: 'doc', arrays: 'child-table' },
          },
        },
      });
      const plan = await runCli(['plan', job]);
      expect(plan.code, ok(plan)).toBe(0);
      const run = await runCli(['run', job]);
      expect(run.code, ok(run)).toBe(0);
      await checkFlattened(dialect, 'csvdoc', plan.stdout, {
        stream: 'mongo',
        prefix: 'doc__',
        own: [
          { name: '_id', path: ['_id'], kind: 'text', logical: 'text' },
          { name: 'src', path: ['src'], kind: 'text', logical: 'text' },
        ],
        docs,
      });
    }, 60_000);
  }
});

describe('flattened names that meet other columns keep their own values', () => {
  it('array elements with keys _id and _index (MongoDB subdocuments): the child table keeps them', async () => {
    const dir = tempDir('ferry-lj-subid-');
    const target = await freshDb('postgres', 'subid');
    const docs = [
      {
        _id: 'p1',
        items: [
          { _id: 'i-1', _index: 10, sku: 'A' },
          { _id: 'i-2', _index: 11, sku: 'B' },
        ],
      },
      { _id: 'p2', items: [{ _id: 'i-3', _index: 12, sku: 'C' }] },
    ];
    writeGz(path.join(dir, 'src', 'orders.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
    const job = writeJob(dir, {
      source: 'file:./src',
      target,
      streams: { orders: { files: 'orders.jsonl', primary_key: ['_id'], flatten: { arrays: 'child-table' } } },
    });
    const run = await runCli(['run', job]);
    expect(run.code, ok(run)).toBe(0);
    const rows = await readTable('postgres', 'ferry_lj_subid', 'orders__items', ['_id', '_index']);
    // The child key: the parent's _id and the element's position.
    expect(rows.map((r) => [r._id, r._index])).toEqual([
      ['p1', '0'],
      ['p1', '1'],
      ['p2', '0'],
    ]);
    expect(rows.map((r) => r.sku)).toEqual(['A', 'B', 'C']);
    // The elements' own _id and _index are in columns of their own, not overwritten by the key.
    const others = Object.keys(rows[0]).filter((k) => !['_id', '_index', 'sku'].includes(k));
    const columnHolding = (values: string[]) => others.find((k) => rows.every((r, i) => r[k] === values[i]));
    expect(columnHolding(['i-1', 'i-2', 'i-3']), JSON.stringify(rows)).toBeDefined();
    expect(columnHolding(['10', '11', '12']), JSON.stringify(rows)).toBeDefined();
  }, 30_000);

  it('a CSV field named doc__x and the document key x land in two columns, each with its own values', async () => {
    const dir = tempDir('ferry-lj-docx-');
    const target = await freshDb('postgres', 'docx');
    writeGz(
      path.join(dir, 'src', 'm.csv'),
      ['id,doc__x,doc', '1,10,"{""x"":1,""y"":{""z"":true}}"', '2,20,"{""x"":2}"', '3,30,'].join('\n'),
    );
    const job = writeJob(dir, {
      source: 'file:./src',
      target,
      streams: { m: { files: 'm.csv', primary_key: ['id'], flatten: { column: 'doc' } } },
    });
    const run = await runCli(['run', job]);
    expect(run.code, ok(run)).toBe(0);
    const rows = await readTable('postgres', 'ferry_lj_docx', 'm', ['id']);
    expect(rows.map((r) => r.doc__x)).toEqual(['10', '20', '30']);
    const fromDoc = Object.keys(rows[0]).filter((k) => k !== 'doc__x' && k.startsWith('doc__x'));
    expect(fromDoc, JSON.stringify(rows)).toHaveLength(1);
    expect(rows.map((r) => r[fromDoc[0]])).toEqual(['1', '2', null]);
    expect(rows.map((r) => r.doc__y__z)).toEqual(['true', null, null]);
  }, 30_000);

  it('MariaDB: a parent key of 500 characters (fits the parent key column) has its child rows too', async () => {
    const dir = tempDir('ferry-lj-longkey-');
    const target = await freshDb('mysql', 'longkey');
    const long = `k${'x'.repeat(498)}z`;
    const docs = [
      { _id: long, tags: ['a', 'b'] },
      { _id: 'short', tags: ['c'] },
    ];
    writeGz(path.join(dir, 'src', 'docs.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
    const job = writeJob(dir, {
      source: 'file:./src',
      target,
      streams: { docs: { files: 'docs.jsonl', primary_key: ['_id'], flatten: { arrays: 'child-table' } } },
    });
    const run = await runCli(['run', job]);
    expect(run.code, ok(run)).toBe(0);
    const parents = await readTable('mysql', 'ferry_lj_longkey', 'docs', ['_id']);
    expect(parents.map((r) => r._id)).toEqual([long, 'short']);
    const children = await readTable('mysql', 'ferry_lj_longkey', 'docs__tags', ['_id', '_index']);
    expect(children.map((r) => [r._id, r._index, r.value])).toEqual([
      [long, '0', 'a'],
      [long, '1', 'b'],
      ['short', '0', 'c'],
    ]);
  }, 30_000);
});

// ------------------------------------------------------------------------------------------------
// 2. Parquet
// ------------------------------------------------------------------------------------------------

describe('Parquet written by DuckDB: every type, several files by a glob, local and S3', () => {
  let dir: string;
  let duckRows: Record<string, unknown>[];

  beforeAll(async () => {
    dir = tempDir('ferry-lj-parquet-');
    const dd = path.join(dir, 'src', 'dd');
    mkdirSync(path.join(dd, 'sub'), { recursive: true });
    await duckQuery(duckTypesSql());
    // Three files, three compressions, the first in two row groups; and files the glob must not take
    // (a subfolder, a _SUCCESS marker). DuckDB cuts a row group at ROW_GROUP_SIZE (2,048 rows at
    // least) only when it need not keep the insertion order.
    await duckQuery('SET preserve_insertion_order = false');
    await duckQuery(
      `COPY (SELECT * FROM lj_types WHERE id <= 2500) TO '${dd}/part-1.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000)`,
    );
    await duckQuery('SET preserve_insertion_order = true');
    await duckQuery(
      `COPY (SELECT * FROM lj_types WHERE id > 2500 AND id <= 3500 ORDER BY id) TO '${dd}/part-2.parquet' (FORMAT parquet, COMPRESSION gzip)`,
    );
    await duckQuery(
      `COPY (SELECT * FROM lj_types WHERE id > 3500 ORDER BY id) TO '${dd}/part-3.parquet' (FORMAT parquet, COMPRESSION snappy)`,
    );
    await duckQuery(`COPY (SELECT * FROM lj_types WHERE id <= 10) TO '${dd}/sub/part-9.parquet' (FORMAT parquet)`);
    writeFileSync(path.join(dd, '_SUCCESS'), '');
    const [groups] = await duckQuery(
      `SELECT count(DISTINCT (file_name, row_group_id))::INTEGER n FROM parquet_metadata('${dd}/*.parquet')`,
    );
    expect(groups.n).toBe(4);
    duckRows = (await duckQuery(duckCanonSql(`${dd}/*.parquet`))).map(duckRowCanon);
    await s3.aws(['s3', 'cp', '--recursive', '--only-show-errors', path.join(dir, 'src'), `s3://${BUCKET}/lake`]);
  }, 120_000);

  const PG_TYPES = {
    id: 'integer',
    b: 'boolean',
    ti: 'smallint',
    si: 'smallint',
    ii: 'integer',
    bi: 'bigint',
    ub: 'numeric(20,0)',
    d18: 'numeric(18,3)',
    d38: 'numeric(38,10)',
    dbl: 'double precision',
    fl: 'real',
    s: 'text',
    dt: 'date',
    ts: 'timestamp without time zone',
    tstz: 'timestamp with time zone',
    tsms: 'timestamp without time zone',
    tsns: 'timestamp without time zone',
    tm: 'time without time zone',
    u: 'uuid',
    bl: 'bytea',
  };

  for (const where of ['local', 's3'] as const) {
    it(`${where === 's3' ? 'S3 (s3rver)' : 'local folder'} -> postgres: every value equals DuckDB's read`, async () => {
      const jobDir = where === 's3' ? tempDir('ferry-lj-parquet-s3-') : dir;
      const target = await freshDb('postgres', `pq_${where}`);
      const job = writeJob(
        jobDir,
        {
          source: where === 's3' ? `s3://${BUCKET}/lake` : 'file:./src',
          target,
          streams: { dd: { files: 'dd/*.parquet' } },
        },
        `parquet-${where}.yaml`,
      );
      const env = where === 's3' ? s3.env : {};
      const run = await runCli(['run', job], { env });
      expect(run.code, ok(run)).toBe(0);
      const db = `ferry_lj_pq_${where}`;
      const types = await pgQuery<{ c: string; t: string }>(
        db,
        `SELECT column_name c, format_type(atttypid, atttypmod) t FROM information_schema.columns
           JOIN pg_attribute ON attrelid = 'public.dd'::regclass AND attname = column_name
         WHERE table_name = 'dd' ORDER BY ordinal_position`,
      );
      expect(Object.fromEntries(types.map((r) => [r.c, r.t]))).toEqual(PG_TYPES);
      const pgRows = (await pgQuery(db, PG_TYPES_CANON_SQL)).map(pgRowCanon);
      expect(pgRows.length).toBe(PARQUET_ROWS);
      expect(duckRows.length).toBe(PARQUET_ROWS);
      // Column by column, so a difference names its column and the first rows that differ.
      for (const c of Object.keys(PG_TYPES)) {
        const diff = pgRows
          .map((r, i) => ({ id: duckRows[i].id, want: duckRows[i][c], got: r[c] }))
          .filter((x) => !Object.is(x.want, x.got));
        expect(diff.slice(0, 5), `column ${c}`).toEqual([]);
      }
      // Every kind of value was there to compare (NULLs, extremes).
      for (const c of Object.keys(PG_TYPES).filter((k) => k !== 'id')) {
        expect(
          pgRows.some((r) => r[c] === null),
          c,
        ).toBe(true);
      }
      const has = (c: string, v: unknown) => pgRows.some((r) => Object.is(r[c], v));
      for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 5e-324]) {
        expect(has('dbl', v), `dbl ${v}`).toBe(true);
      }
      expect(has('ub', '18446744073709551615')).toBe(true);
      expect(has('bi', '-9223372036854775808')).toBe(true);
      expect(has('d38', '-9999999999999999999999999999.9999999999')).toBe(true);
      expect(has('dt', '0044-03-15 BC')).toBe(true);
      expect(has('tsns', '1969-12-31 23:59:59.999999')).toBe(true);
      expect(has('tstz', '2000-07-01 07:29:59.999999')).toBe(true);
      expect(has('s', 'nulinside')).toBe(true);
      expect(has('s', '\ufeffleading BOM')).toBe(true);
    }, 60_000);
  }
});

describe('Parquet written by ferry: PostgreSQL -> lake -> PostgreSQL by the manifest', () => {
  it('every row equal to the source, key from the manifest, and ferry verify exits 0', async () => {
    const src = 'ferry_lj_roundtrip_src';
    const dst = 'ferry_lj_roundtrip_dst';
    await freshPgDatabase(src);
    await freshPgDatabase(dst);
    await pgQuery(
      src,
      `CREATE TABLE kinds (id int PRIMARY KEY, n numeric, d numeric(12,2), f float8, r real, t text, ts timestamptz,
         tsn timestamp, dt date, tm time, b bytea, u uuid, j json, jb jsonb, a int[], ta text[], flag boolean,
         iv interval, big bigint, sm smallint)`,
    );
    await pgQuery(
      src,
      `INSERT INTO kinds VALUES
        (-1, 'NaN', 12.30, 'NaN', 'Infinity', 'héllo 😀 \u{20000}', '2024-01-02 03:04:05.123456+02', '0044-03-15 10:00:00 BC',
         '2024-02-29', '24:00:00', '\\x00ff', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"a": [1, 2.50]}', '{"b": 1}',
         '{1,NULL,3}', '{"a,b",NULL,""}', true, '1 year 2 mons 3 days 04:05:06.5', 9223372036854775807, -32768),
        (-2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (-3, '123456789012345678901234567890.123456789', -0.01, '-0', '-1.5', E'line\nbreak\ttab \\N', 'infinity',
         '1999-12-31 23:59:59.5', '0044-03-15 BC', '00:00:00.000001', '\\x', '00000000-0000-0000-0000-000000000000',
         '[]', '[]', '{}', '{}', false, '-3 days', -9223372036854775808, 32767)`,
    );
    await pgQuery(
      src,
      `INSERT INTO kinds SELECT g, g * 1.5, (g % 1000) / 7.0, g / 3.0, g / 7.0, 'row ' || g || repeat('é', g % 5),
         timestamptz '2020-01-01 00:00:00+00' + g * interval '1 hour 1.5 seconds', timestamp '1970-01-01' - g * interval '1 day',
         date '2000-01-01' + g, time '00:00' + g * interval '1 second', decode(md5(g::text), 'hex'), md5(g::text)::uuid,
         json_build_object('g', g, 'l', array[g, -g])::json, jsonb_build_object('k', g), array[g, g + 1], array['x' || g, NULL],
         g % 2 = 0, g * interval '1 minute', g::bigint * 100000007, (g % 30000)::smallint
       FROM generate_series(1, 3000) g`,
    );
    const dir = tempDir('ferry-lj-roundtrip-');
    const dump = writeJob(
      dir,
      {
        source: pgUrl(src),
        target: 'file:./lake',
        defaults: { format: 'parquet', chunk_rows: 1000, file_max_rows: 600 },
        streams: { 'public.kinds': {} },
      },
      'dump.yaml',
    );
    const d = await runCli(['run', dump]);
    expect(d.code, ok(d)).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'lake', 'public.kinds', '_ferry_manifest.json'), 'utf8'));
    expect(manifest.files.length).toBeGreaterThan(3);
    // The lake -> a new database: no files: glob, so the stream's folder and its manifest.
    const load = writeJob(
      dir,
      { source: 'file:./lake', target: pgUrl(dst), streams: { 'public.kinds': {} } },
      'load.yaml',
    );
    const plan = await runCli(['plan', load]);
    expect(plan.code, ok(plan)).toBe(0);
    expect(plan.stdout).toContain('public.kinds/_ferry_manifest.json');
    expect(planColumns(plan.stdout, 'public.kinds')?.find((c) => c.name === 'id')?.pk).toBe(true);
    const run = await runCli(['run', load]);
    expect(run.code, ok(run)).toBe(0);
    const rowsOf = (db: string) =>
      pgQuery<{ id: number; x: string }>(db, 'SELECT id, x::text x FROM kinds x ORDER BY id');
    const [a, b] = await Promise.all([rowsOf(src), rowsOf(dst)]);
    expect(b.length).toBe(3003);
    expect(b).toEqual(a);
    // The key came from the manifest.
    const pk = await pgQuery(
      dst,
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = 'public.kinds'::regclass AND i.indisprimary`,
    );
    expect(pk.map((r) => r.attname)).toEqual(['id']);
    const verify = await runCli(['verify', load]);
    expect(verify.code, ok(verify)).toBe(0);
    expect(verify.stdout).toContain('source and target are equal');
  }, 60_000);
});

// ------------------------------------------------------------------------------------------------
// 3. Bad values
// ------------------------------------------------------------------------------------------------

const BAD_HEADER = 'id,amount,d,code,note';
/** Rows the database must take, and what it holds for each (id, amount, d, code, note). */
const GOOD_ROWS: [string, string | null, string, string, string][] = [
  ['1', '10.50', '2023-01-01', 'ab', 'fine'],
  ['5', '5.00', '2023-01-05', 'gh', 'quoted, with a comma'],
  ['7', '7.00', '2023-01-07', '', 'a quoted empty string is a value'],
  ['10', null, '2023-01-10', 'op', 'an unquoted empty field is NULL'],
  ['12', '12.00', '2023-01-12', 'ab"c', 'a quote inside'],
];
/** Rows the database refuses: id, column, value, the database's reason (PostgreSQL, MariaDB). */
const REFUSED: [string, string, string, RegExp, RegExp][] = [
  ['2', 'amount', 'abc', /invalid input syntax for type numeric/, /Incorrect decimal value/],
  ['3', 'd', '2023-02-30', /out of range/, /Data truncated|Incorrect date/],
  ['4', 'code', 'toolong', /too long for type character varying\(5\)/, /Data truncated|too long/],
  ['6', 'amount', '1e400', /overflow/, /Out of range/],
  ['8', 'd', '2023-13-01', /out of range/, /Data truncated|Incorrect date/],
  ['11', 'amount', '12345678901.00', /overflow/, /Out of range/],
];
const BAD_CSV = [
  BAD_HEADER,
  '1,10.50,2023-01-01,ab,fine',
  '2,abc,2023-01-02,cd,text in a numeric column',
  '3,3.25,2023-02-30,ef,impossible date',
  '4,4.00,2023-01-04,toolong,too long for varchar(5)',
  '5,5.00,2023-01-05,gh,"quoted, with a comma"',
  '6,1e400,2023-01-06,ij,overflow',
  '7,7.00,2023-01-07,"",a quoted empty string is a value',
  '8,8.00,2023-13-01,kl,month 13',
  '9,9.00,2023-01-09,mn',
  '10,,2023-01-10,op,an unquoted empty field is NULL',
  '11,12345678901.00,2023-01-11,qr,too many digits for numeric 10.2',
  '12,12.00,2023-01-12,"ab""c",a quote inside',
].join('\n');
/** 7 rows refused: 6 by the database, 1 (id 9) with a field missing. */
const BAD_COUNT = REFUSED.length + 1;
const FIRST_CSV = [BAD_HEADER, '100,1.00,2020-01-01,old,first version', '101,2.00,2020-01-02,old2,first version'].join(
  '\n',
);

const ORDERS_STREAM = {
  files: 'in/*.csv',
  primary_key: ['id'],
  columns: { id: 'integer', amount: 'decimal(10,2)', d: 'date', code: 'varchar(5)' },
};

async function ordersRows(dialect: Dialect, db: string): Promise<unknown[][]> {
  const rows = await readTable(dialect, db, 'orders', ['id']);
  return rows.map((r) => [r.id, r.amount, r.d, r.code, r.note].map((v) => (v === null ? null : String(v))));
}

describe('bad values: rejected by the database within max_rejects, never half loaded past it', () => {
  for (const dialect of DIALECTS) {
    it(`${dialect}: rejects with column and reason; over the limit the target is absent or keeps its rows`, async () => {
      const dir = tempDir('ferry-lj-bad-');
      const target = await freshDb(dialect, 'bad');
      const db = 'ferry_lj_bad';
      const file = path.join(dir, 'src', 'in', 'orders.csv');
      const job = (name: string, maxRejects: number) =>
        writeJob(
          dir,
          { source: 'file:./src', target, defaults: { max_rejects: maxRejects }, streams: { orders: ORDERS_STREAM } },
          `${name}.yaml`,
        );
      // Over the limit into an empty database: the run fails and no table appears.
      writeGz(file, BAD_CSV);
      const first = await runCli(['run', job('first', BAD_COUNT - 1)]);
      expect(first.code, ok(first)).toBe(1);
      expect(first.stdout + first.stderr).toMatch(/max_rejects/);
      expect(await tableColumns(dialect, db, 'orders')).toBeNull();

      // A good first version, then the bad file over the limit: the first version stays, whole.
      writeGz(file, FIRST_CSV);
      const strict = job('strict', BAD_COUNT - 1);
      const good = await runCli(['run', strict]);
      expect(good.code, ok(good)).toBe(0);
      const firstRows = [
        ['100', '1.00', '2020-01-01', 'old', 'first version'],
        ['101', '2.00', '2020-01-02', 'old2', 'first version'],
      ];
      expect(await ordersRows(dialect, db)).toEqual(firstRows);
      writeGz(file, BAD_CSV);
      const over = await runCli(['run', strict]);
      expect(over.code, ok(over)).toBe(1);
      expect(await ordersRows(dialect, db)).toEqual(firstRows);

      // Within the limit: every good row, each bad row in the rejects file with column and reason.
      const lenient = await runCli(['run', job('lenient', BAD_COUNT)]);
      expect(lenient.code, ok(lenient)).toBe(0);
      expect(await ordersRows(dialect, db)).toEqual(GOOD_ROWS);
      const rejects = readRejects(dir, 'lenient', runIdOf(lenient.stdout), 'orders');
      expect(rejects).toHaveLength(BAD_COUNT);
      for (const [id, column, value, pgReason, myReason] of REFUSED) {
        const r = rejects.find((x) => x.key[0] === id);
        expect(r, `reject of id ${id}`).toMatchObject({ stream: 'orders', column, value, file: 'in/orders.csv' });
        expect(r!.reason, `reason of id ${id}`).toMatch(dialect === 'postgres' ? pgReason : myReason);
      }
      // The line with a field missing: refused before the database, with ferry's reason and the line.
      const short = rejects.filter((x) => x.policy !== 'cast');
      expect(short, JSON.stringify(rejects)).toHaveLength(1);
      expect(short[0]).toMatchObject({ value: '9,9.00,2023-01-09,mn', file: 'in/orders.csv' });
      expect(short[0].reason).toMatch(/line 10: 4 fields, the header has 5/);
      // The ledger counts them.
      expect(lenient.stdout).toMatch(new RegExp(`^orders\\s.*\\s${GOOD_ROWS.length}\\s+${BAD_COUNT}\\s+1\\s`, 'm'));
    }, 60_000);

    it(`${dialect}: an empty value for the NOT NULL key column is a rejected row, not a failed load`, async () => {
      const dir = tempDir('ferry-lj-nullkey-');
      const target = await freshDb(dialect, 'nullkey');
      writeGz(
        path.join(dir, 'src', 'in', 'orders.csv'),
        [BAD_HEADER, '1,1.00,2023-01-01,a,x', ',2.00,2023-01-02,b,no id', '3,3.00,2023-01-03,c,z'].join('\n'),
      );
      const job = writeJob(dir, {
        source: 'file:./src',
        target,
        defaults: { max_rejects: 5 },
        streams: { orders: ORDERS_STREAM },
      });
      const run = await runCli(['run', job]);
      expect(run.code, ok(run)).toBe(0);
      expect((await ordersRows(dialect, 'ferry_lj_nullkey')).map((r) => r[0])).toEqual(['1', '3']);
      const rejects = readRejects(dir, 'job', runIdOf(run.stdout), 'orders');
      expect(rejects).toHaveLength(1);
      expect(rejects[0]).toMatchObject({ column: 'id', value: null });
    }, 30_000);
  }

  for (const dialect of DIALECTS) {
    it(`${dialect}: zero dates and extra decimals: the run and ferry verify agree, no invalid date is stored`, async () => {
      const dir = tempDir('ferry-lj-agree-');
      const target = await freshDb(dialect, 'agree');
      writeGz(
        path.join(dir, 'src', 'in', 'orders.csv'),
        [
          BAD_HEADER,
          '1,9.999,2023-01-01,a,more decimals than the column',
          '2,1.00,0000-00-00,b,zero date',
          '3,2.00,2023-00-10,c,zero month',
          '4,3.00,2023-01-04,d,fine',
        ].join('\n'),
      );
      const job = writeJob(dir, {
        source: 'file:./src',
        target,
        defaults: { max_rejects: 4 },
        streams: { orders: ORDERS_STREAM },
      });
      const run = await runCli(['run', job]);
      expect(run.code, ok(run)).toBe(0);
      const rows = await ordersRows(dialect, 'ferry_lj_agree');
      const rejects = readRejects(dir, 'job', runIdOf(run.stdout), 'orders');
      expect(rows.length + rejects.length).toBe(4);
      expect(rows.map((r) => r[0])).toContain('4');
      // 0000-00-00 and 2023-00-10 are not dates (docs/job-file.md, invalid_dates): never stored as such.
      expect(
        rows.filter((r) => /-00/.test(String(r[2]))),
        JSON.stringify(rows),
      ).toEqual([]);
      // verify judges the source as the run did: equal, whatever each database decided per row.
      const verify = await runCli(['verify', job]);
      expect(verify.code, `${ok(verify)}\nrows ${JSON.stringify(rows)}\nrejects ${JSON.stringify(rejects)}`).toBe(0);
    }, 30_000);
  }

  it('postgres: after a run failed on a bad file, fixing the file and running again loads everything', async () => {
    const dir = tempDir('ferry-lj-resume-');
    const target = await freshDb('postgres', 'resume');
    writeGz(path.join(dir, 'src', 'in', 'a.csv'), FIRST_CSV);
    writeGz(path.join(dir, 'src', 'in', 'b.csv'), BAD_CSV);
    const job = writeJob(dir, {
      source: 'file:./src',
      target,
      defaults: { max_rejects: 1 },
      streams: { orders: ORDERS_STREAM },
    });
    const failed = await runCli(['run', job]);
    expect(failed.code, ok(failed)).toBe(1);
    // The bad file fixed: only its good rows left.
    writeGz(
      path.join(dir, 'src', 'in', 'b.csv'),
      [BAD_HEADER, ...BAD_CSV.split('\n').filter((l) => /^(1|5|10),/.test(l))].join('\n'),
    );
    const again = await runCli(['run', job]);
    expect(again.code, ok(again)).toBe(0);
    expect((await ordersRows('postgres', 'ferry_lj_resume')).map((r) => r[0])).toEqual(['1', '5', '10', '100', '101']);
  }, 30_000);
});

// ------------------------------------------------------------------------------------------------
// 4. Many files on S3
// ------------------------------------------------------------------------------------------------

describe('1,200 files on S3 (more than one ListObjectsV2 page)', () => {
  it('a glob takes all of them, and only them', async () => {
    const N = 1200;
    const client = s3.client();
    const put = (Key: string, Body: string) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    // 32 uploads in flight at a time.
    let next = 1;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let k = next++; k <= N; k = next++) {
          const ids = [3 * k - 2, 3 * k - 1, 3 * k];
          await put(
            `bulk/many/f${String(k).padStart(4, '0')}.csv`,
            `id,v,name\n${ids.map((id) => `${id},${id * 7},n${id}`).join('\n')}\n`,
          );
        }
      }),
    );
    // Not matched by many/*.csv: another folder level, another extension.
    await put('bulk/many/sub/f9999.csv', 'id,v,name\n999999,1,x\n');
    await put('bulk/many/notes.txt', 'id,v,name\n999998,1,x\n');
    const listed = await s3.listKeys(BUCKET, 'bulk/many/');
    expect(listed.length).toBe(N + 2);
    const dir = tempDir('ferry-lj-many-');
    const target = await freshDb('postgres', 'many');
    const job = writeJob(dir, {
      source: `s3://${BUCKET}/bulk`,
      target,
      defaults: { parallel: 8 },
      // The sample from the first file only (else planning reads every file: 3,600 rows < 10,000).
      streams: { many: { files: 'many/*.csv', primary_key: ['id'], sample_rows: 3 } },
    });
    const run = await runCli(['run', job], { env: s3.env });
    expect(run.code, ok(run)).toBe(0);
    const [r] = await pgQuery(
      'ferry_lj_many',
      'SELECT count(*)::text n, count(DISTINCT id)::text ids, sum(id)::text s, sum(v)::text sv, max(id)::text mx FROM many',
    );
    const rows = 3 * N;
    expect(r).toEqual({
      n: String(rows),
      ids: String(rows),
      s: String((rows * (rows + 1)) / 2),
      sv: String((7 * rows * (rows + 1)) / 2),
      mx: String(rows),
    });
    // One chunk a file.
    const n = rows.toLocaleString('en-US');
    expect(run.stdout).toMatch(new RegExp(`^many\\s.*\\sok\\s+${n}\\s+${n}\\s+${n}\\s+0\\s+${N}\\s`, 'm'));
  }, 120_000);
});
