/**
 * Lake output: PostgreSQL -> files (local folder and a real S3 API, s3rver on 127.0.0.1), as
 * Parquet, CSV and JSONL. Everything ferry wrote is read back by independent readers: the AWS CLI
 * for listing and bytes, DuckDB for Parquet and CSV contents, JSON.parse for JSONL. Every value is
 * compared with the source. Then a partitioned Pagila dump (DuckDB with hive_partitioning) and a
 * kill -9 mid-dump followed by a rerun.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDuck, duckQuery } from './helpers/duckdb.js';
import { DATASETS, FERRY_BIN, freshPgDatabase, pgQuery, pgUrl, runCli, tempDir, writeJob } from './helpers/env.js';
import { sleep } from './helpers/faults.js';
import { blnsStrings, CONTROL_TEXT, EVERY_PLANE } from './helpers/fixtures.js';
import { type S3Server, startS3 } from './helpers/s3.js';

const SRC = 'ferry_lake_src';
const PAGILA = 'ferry_lake_pagila';
const BUCKET = 'lake';

let s3: S3Server;

const EDGE_TEXT = [
  '',
  ' lead',
  'trail ',
  ' ',
  'a,b',
  'q"uote',
  '""',
  'line\nbreak',
  '\r\n',
  'cr\ronly',
  CONTROL_TEXT,
  EVERY_PLANE,
  '\\N',
  'NULL',
  '__HIVE_DEFAULT_PARTITION__',
  ';|\t',
];
const FLOATS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '0',
  '1e308',
  '5e-324',
  '0.1',
  '-123.456',
  '2.2250738585072014e-308',
];
const NUMERICS = ['NaN', '0', '-0.000000000000000000000000000001', '123456789012345678901234567890.123456789', '1e-30'];
const DECIMALS = ['12.30', '-0.01', '9999999999.99', '0.00'];
const TSTZ = [
  '2024-01-02 03:04:05.123456+02',
  '1970-01-01 00:00:00+00',
  '1969-12-31 23:59:59.999999+00',
  '0044-03-15 10:00:00+00 BC',
  'infinity',
  '-infinity',
  '200000-01-01 00:00:00+00',
];
const TS = [
  '2024-02-29 12:00:00',
  '0001-01-01 00:00:00',
  '4713-11-24 00:00:00 BC',
  'infinity',
  '1999-12-31 23:59:59.5',
];
const DATES = ['2024-02-29', '0001-01-01', '0044-03-15 BC', 'infinity', '-infinity', '5874897-12-31'];
const JSONS = ['{"a": [1, 2.50], "b": "x\\u0000y"}', '[]', '"só"', '{"deep": {"n": 12345678901234567890}}'];
// jsonb cannot hold \u0000.
const JSONBS = JSONS.map((j) => j.replace('\\u0000', '\\u0001'));
const BIGS = ['9223372036854775807', '-9223372036854775808', '0', '9007199254740993'];

beforeAll(async () => {
  await freshPgDatabase(SRC);
  await pgQuery(
    SRC,
    `CREATE TABLE awk (id int PRIMARY KEY, t text, n numeric, d numeric(12,2), f float8, b bytea, ts timestamptz,
       tsn timestamp, dt date, j json, jb jsonb, a int[], ta text[], u uuid, big bigint, flag boolean)`,
  );
  const strings = [...EDGE_TEXT, ...blnsStrings()];
  const pick = <T>(arr: T[], i: number, nullEvery = 7): T | null => (i % nullEvery === 3 ? null : arr[i % arr.length]);
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_v, i) => i));
  const rows: unknown[][] = strings.map((t, i) => [
    i + 1,
    i === 5 ? null : t,
    pick(NUMERICS, i),
    pick(DECIMALS, i),
    pick(FLOATS, i),
    i % 5 === 0 ? allBytes : i % 5 === 1 ? Buffer.alloc(0) : i % 5 === 2 ? null : Buffer.from([0, 0, i % 256]),
    pick(TSTZ, i),
    pick(TS, i),
    pick(DATES, i),
    pick(JSONS, i),
    pick(JSONBS, i + 1),
    i % 4 === 0 ? [1, null, -3] : i % 4 === 1 ? [] : i % 4 === 2 ? null : [i],
    i % 3 === 0 ? ['a,b', null, 'q"u', '', 'NULL', 'x\ny', '{}'] : i % 3 === 1 ? null : [t],
    i % 6 === 0 ? null : `a0eebc99-9c0b-4ef8-bb6d-${String(i).padStart(12, '0')}`,
    pick(BIGS, i),
    i % 3 === 0 ? null : i % 2 === 0,
  ]);
  for (let s = 0; s < rows.length; s += 100) {
    const batch = rows.slice(s, s + 100);
    const params: unknown[] = [];
    const values = batch.map((r) => `(${r.map((v) => `$${params.push(v)}`).join(',')})`).join(',');
    await pgQuery(SRC, `INSERT INTO awk VALUES ${values}`, params);
  }
  s3 = await startS3({ buckets: [BUCKET] });
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  await closeDuck();
});

/** The source as each format promises to write it (TimeZone UTC; see docs/lake.md). */
async function sourceRows(): Promise<Record<string, unknown>[]> {
  return pgQuery(
    SRC,
    `SELECT id, t, n::text n, d::text d, f::text f, encode(b, 'hex') b, ts::text ts, tsn::text tsn, dt::text dt,
       j::text j, jb::text jb, array_to_json(a)::text a, array_to_json(ta)::text ta, u::text u, big::text big,
       CASE WHEN flag THEN 'true' WHEN NOT flag THEN 'false' END flag,
       CASE WHEN isfinite(ts) THEN (extract(epoch FROM ts) * 1000000)::numeric(30,0)::text ELSE ts::text END ts_us,
       CASE WHEN isfinite(tsn) THEN (extract(epoch FROM tsn) * 1000000)::numeric(30,0)::text ELSE tsn::text END tsn_us,
       CASE WHEN dt = 'infinity' THEN '2147483647' WHEN dt = '-infinity' THEN '-2147483647'
            ELSE (dt - date '1970-01-01')::text END dt_days
     FROM awk ORDER BY id`,
  );
}

function pgFloat(s: string): number {
  if (s === 'Infinity') return Number.POSITIVE_INFINITY;
  if (s === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

const nullable = (v: unknown) => (v === null || v === undefined ? null : v);
const asJson = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'string' ? JSON.parse(v) : v);

/** Compares one column of every row; reports the first 3 differences with the row id. */
function compareColumn(
  name: string,
  expected: Record<string, unknown>[],
  actual: Record<string, unknown>[],
  want: (r: Record<string, unknown>) => unknown,
  got: (r: Record<string, unknown>) => unknown,
  eq: (a: unknown, b: unknown) => boolean = (a, b) => a === b,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < expected.length && out.length < 3; i++) {
    const w = want(expected[i]);
    const g = got(actual[i]);
    if (!eq(w, g)) out.push(`${name} id ${expected[i].id}: want ${JSON.stringify(w)} got ${JSON.stringify(g)}`);
  }
  return out;
}

const deepEq = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const floatEq = (a: unknown, b: unknown) => (a === null ? b === null : b !== null && Object.is(a, b));

/** Columns every format must reproduce exactly, as text. */
function commonChecks(expected: Record<string, unknown>[], actual: Record<string, unknown>[]): string[] {
  return [
    ...compareColumn(
      'count',
      [{ id: 'n' }],
      [{ id: 'n' }],
      () => expected.length,
      () => actual.length,
    ),
    ...compareColumn(
      'id',
      expected,
      actual,
      (r) => Number(r.id),
      (r) => Number(r.id),
    ),
    ...compareColumn(
      't',
      expected,
      actual,
      (r) => r.t,
      (r) => nullable(r.t),
    ),
    ...compareColumn(
      'n',
      expected,
      actual,
      (r) => r.n,
      (r) => nullable(r.n),
    ),
    ...compareColumn(
      'd',
      expected,
      actual,
      (r) => r.d,
      (r) => nullable(r.d),
    ),
    ...compareColumn(
      'j',
      expected,
      actual,
      (r) => r.j,
      (r) => nullable(r.j),
    ),
    ...compareColumn(
      'jb',
      expected,
      actual,
      (r) => r.jb,
      (r) => nullable(r.jb),
    ),
    ...compareColumn(
      'a',
      expected,
      actual,
      (r) => asJson(r.a),
      (r) => asJson(r.a),
      deepEq,
    ),
    ...compareColumn(
      'ta',
      expected,
      actual,
      (r) => asJson(r.ta),
      (r) => asJson(r.ta),
      deepEq,
    ),
    ...compareColumn(
      'u',
      expected,
      actual,
      (r) => r.u,
      (r) => nullable(r.u),
    ),
    ...compareColumn(
      'big',
      expected,
      actual,
      (r) => r.big,
      (r) => (r.big === null ? null : String(r.big)),
    ),
    ...compareColumn(
      'flag',
      expected,
      actual,
      (r) => r.flag,
      (r) => (r.flag === null ? null : String(r.flag)),
    ),
    ...compareColumn(
      'f',
      expected,
      actual,
      (r) => (r.f === null ? null : pgFloat(r.f as string)),
      (r) => (r.f === null || r.f === undefined ? null : typeof r.f === 'number' ? r.f : pgFloat(String(r.f))),
      floatEq,
    ),
  ];
}

/** Per format: how to read the downloaded files independently, and the format-specific columns. */
const READERS = {
  parquet: async (dir: string, expected: Record<string, unknown>[]) => {
    const rows = await duckQuery(
      `SELECT id, encode(t) t, n, d::VARCHAR d, f, lower(hex(b)) b, j::VARCHAR j, jb::VARCHAR jb, a::VARCHAR a, ta::VARCHAR ta,
         u::VARCHAR u, big, flag,
         CASE WHEN isinf(ts) THEN ts::VARCHAR ELSE epoch_us(ts)::VARCHAR END ts_us,
         CASE WHEN isinf(tsn) THEN tsn::VARCHAR ELSE epoch_us(tsn)::VARCHAR END tsn_us,
         (dt - DATE '1970-01-01')::VARCHAR dt_days,
         typeof(ts) tts, typeof(tsn) ttsn, typeof(d) td, typeof(u) tu, typeof(j) tj, typeof(dt) tdt, typeof(big) tbig
       FROM read_parquet('${dir}/**/*.parquet') ORDER BY id`,
    ).then(textFromBytes);
    const types = rows[0];
    expect([types.tts, types.ttsn, types.td, types.tu, types.tj, types.tdt, types.tbig]).toEqual([
      'TIMESTAMP WITH TIME ZONE',
      'TIMESTAMP',
      'DECIMAL(12,2)',
      'UUID',
      'JSON',
      'DATE',
      'BIGINT',
    ]);
    return [
      ...commonChecks(expected, rows),
      ...compareColumn(
        'b',
        expected,
        rows,
        (r) => r.b,
        (r) => nullable(r.b),
      ),
      ...compareColumn(
        'ts',
        expected,
        rows,
        (r) => r.ts_us,
        (r) => nullable(r.ts_us),
      ),
      ...compareColumn(
        'tsn',
        expected,
        rows,
        (r) => r.tsn_us,
        (r) => nullable(r.tsn_us),
      ),
      ...compareColumn(
        'dt',
        expected,
        rows,
        (r) => r.dt_days,
        (r) => nullable(r.dt_days),
      ),
    ];
  },
  csv: async (dir: string, expected: Record<string, unknown>[]) => {
    const rows = await duckQuery(
      `SELECT * REPLACE (encode(t) AS t) FROM read_csv('${dir}/**/*.csv.gz', header = true, all_varchar = true, delim = ',', quote = '"',
         escape = '"', nullstr = '', allow_quoted_nulls = false, compression = 'gzip') ORDER BY id::INTEGER`,
    ).then(textFromBytes);
    return [
      ...commonChecks(expected, rows),
      ...compareColumn(
        'b',
        expected,
        rows,
        (r) => (r.b === null ? null : `\\x${r.b}`),
        (r) => nullable(r.b),
      ),
      ...compareColumn(
        'ts',
        expected,
        rows,
        (r) => r.ts,
        (r) => nullable(r.ts),
      ),
      ...compareColumn(
        'tsn',
        expected,
        rows,
        (r) => r.tsn,
        (r) => nullable(r.tsn),
      ),
      ...compareColumn(
        'dt',
        expected,
        rows,
        (r) => r.dt,
        (r) => nullable(r.dt),
      ),
    ];
  },
  jsonl: async (dir: string, expected: Record<string, unknown>[]) => {
    const rows: Record<string, unknown>[] = [];
    for (const f of walk(dir).filter((x) => x.endsWith('.jsonl.gz'))) {
      for (const line of gunzipSync(readFileSync(f)).toString('utf8').split('\n')) {
        if (line) rows.push(JSON.parse(line));
      }
    }
    rows.sort((a, b) => (a.id as number) - (b.id as number));
    expect(rows.every((r) => r.big === null || typeof r.big === 'string')).toBe(true);
    return [
      ...commonChecks(expected, rows),
      ...compareColumn(
        'b',
        expected,
        rows,
        (r) => r.b,
        (r) => (r.b === null ? null : Buffer.from(r.b as string, 'base64').toString('hex')),
      ),
      ...compareColumn(
        'ts',
        expected,
        rows,
        (r) => r.ts,
        (r) => nullable(r.ts),
      ),
      ...compareColumn(
        'tsn',
        expected,
        rows,
        (r) => r.tsn,
        (r) => nullable(r.tsn),
      ),
      ...compareColumn(
        'dt',
        expected,
        rows,
        (r) => r.dt,
        (r) => nullable(r.dt),
      ),
    ];
  },
} as const;

/**
 * `t` is fetched as bytes: the DuckDB client decodes VARCHAR with a TextDecoder that drops a
 * leading U+FEFF (one of the naughty strings is exactly that).
 */
function textFromBytes(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const r of rows) r.t = r.t === null ? null : Buffer.from(r.t as Uint8Array).toString('utf8');
  return rows;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

interface ManifestLike {
  rows: number;
  files: { path: string; rows: number; bytes: number; sha256: string }[];
}

/** Checks the manifest against the stored objects (listed and fetched independently) and copies them to `into`. */
async function checkAndFetch(where: 'local' | 's3', root: string, folder: string, into: string): Promise<ManifestLike> {
  let keys: { key: string; size: number }[];
  let bytesOf: (key: string) => Promise<Buffer>;
  if (where === 's3') {
    keys = (await s3.listKeys(BUCKET, `${root}/${folder}/`)).map((o) => ({
      key: o.key.slice(root.length + 1),
      size: o.size,
    }));
    // One `aws s3 cp --recursive` fetches the folder (a CLI process per object would take minutes).
    const copy = path.join(into, '..', `s3-copy-${path.basename(into)}`);
    await s3.aws([
      's3',
      'cp',
      '--recursive',
      '--only-show-errors',
      `s3://${BUCKET}/${root}/${folder}/`,
      path.join(copy, folder),
    ]);
    bytesOf = async (key) => readFileSync(path.join(copy, ...key.split('/')));
    for (const k of keys) expect(statSync(path.join(copy, ...k.key.split('/'))).size).toBe(k.size);
  } else {
    keys = walk(path.join(root, folder)).map((f) => ({
      key: path.relative(root, f).split(path.sep).join('/'),
      size: statSync(f).size,
    }));
    bytesOf = async (key) => readFileSync(path.join(root, key));
  }
  const manifest = JSON.parse((await bytesOf(`${folder}/_ferry_manifest.json`)).toString('utf8')) as ManifestLike;
  const dataKeys = keys.map((k) => k.key.slice(folder.length + 1)).filter((k) => !k.startsWith('_'));
  // Exactly the files the manifest lists are in the folder, no more (no leftovers of other attempts).
  expect(dataKeys.sort()).toEqual(manifest.files.map((f) => f.path).sort());
  for (const f of manifest.files) {
    const bytes = await bytesOf(`${folder}/${f.path}`);
    expect({ path: f.path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({
      path: f.path,
      bytes: f.bytes,
      sha256: f.sha256,
    });
    const local = path.join(into, ...f.path.split('/'));
    mkdirSync(path.dirname(local), { recursive: true });
    writeFileSync(local, bytes);
  }
  expect(manifest.files.reduce((a, f) => a + f.rows, 0)).toBe(manifest.rows);
  return manifest;
}

describe('PostgreSQL -> lake, every value read back independently', () => {
  for (const format of ['parquet', 'csv', 'jsonl'] as const) {
    for (const where of ['local', 's3'] as const) {
      it(`${format} on ${where === 's3' ? 'S3 (s3rver)' : 'local disk'}`, async () => {
        const dir = tempDir('ferry-lake-');
        const root = where === 's3' ? `run-${format}` : path.join(dir, 'lake');
        const target = where === 's3' ? `s3://${BUCKET}/${root}` : 'file:./lake';
        const job = writeJob(dir, {
          source: pgUrl(SRC),
          target,
          defaults: {
            format,
            compression: format === 'parquet' ? 'zstd' : 'gzip',
            chunk_rows: 200,
            file_max_rows: 70,
            parallel: 3,
          },
          streams: { 'public.awk': {} },
        });
        const env = where === 's3' ? s3.env : {};
        // Twice: the second full refresh must replace the first run's files, leaving no leftovers.
        for (let i = 0; i < 2; i++) {
          const run = await runCli(['run', job], { env });
          expect(run.code, run.stderr + run.stdout).toBe(0);
        }
        const verify = await runCli(['verify', job], { env });
        expect(verify.code, verify.stderr + verify.stdout).toBe(0);
        expect(verify.stdout).toContain('source and target are equal');
        const expected = await sourceRows();
        const into = path.join(dir, 'fetched');
        const manifest = await checkAndFetch(where, root, 'public.awk', into);
        expect(manifest.rows).toBe(expected.length);
        expect(manifest.files.length).toBeGreaterThan(expected.length / 70);
        const problems = await READERS[format](into, expected);
        expect(problems).toEqual([]);
      }, 120_000);
    }
  }

  it('partition values NULL, empty, the Hive NULL marker, slashes and = stay apart (column named k/v)', async () => {
    await pgQuery(SRC, 'DROP TABLE IF EXISTS part_edge');
    await pgQuery(SRC, 'CREATE TABLE part_edge (id int PRIMARY KEY, "k/v" text, n int)');
    const ks = [null, '', '__HIVE_DEFAULT_PARTITION__', 'a/b', 'x=1', ' sp ', 'é', '%41'];
    const params = Array.from({ length: 400 }, (_v, i) => [i + 1, ks[i % ks.length], i]);
    await pgQuery(SRC, `INSERT INTO part_edge SELECT * FROM unnest($1::int[], $2::text[], $3::int[])`, [
      params.map((p) => p[0]),
      params.map((p) => p[1]),
      params.map((p) => p[2]),
    ]);
    const dir = tempDir('ferry-lake-parts-');
    const job = writeJob(dir, {
      source: pgUrl(SRC),
      target: 'file:./lake',
      defaults: { format: 'parquet', chunk_rows: 100 },
      streams: { 'public.part_edge': { partition_by: ['k/v'] } },
    });
    const run = await runCli(['run', job]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const verify = await runCli(['verify', job]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const folders = readdirSync(path.join(dir, 'lake', 'public.part_edge'))
      .filter((f) => !f.startsWith('_'))
      .sort();
    expect(folders).toEqual(
      ['k%2Fv=%2541', 'k%2Fv=__HIVE_DEFAULT_PARTITION__', 'k%2Fv=a%2Fb', 'k%2Fv=x%3D1', 'k%2Fv= sp ', 'k%2Fv=é'].sort(),
    );
    // DuckDB (hive_partitioning) unescapes the values and reads the NULL folder as NULL; the empty
    // string folds into it there, as Hive does. Per value, the counts and sums match the source.
    const duck = await duckQuery(
      `SELECT "k%2Fv" k, count(*)::VARCHAR n, sum(n)::VARCHAR s FROM read_parquet('${dir}/lake/public.part_edge/**/*.parquet', hive_partitioning = true, hive_types_autocast = false) GROUP BY 1 ORDER BY 1 NULLS LAST`,
    );
    const src = await pgQuery(
      SRC,
      `SELECT CASE WHEN "k/v" IN ('', '__HIVE_DEFAULT_PARTITION__') THEN NULL ELSE "k/v" END k,
         count(*)::text n, sum(n)::text s FROM part_edge GROUP BY 1 ORDER BY 1 NULLS LAST`,
    );
    expect(duck).toEqual(src);
  }, 60_000);

  it('verify finds a changed file, a missing file and a stray file', async () => {
    const dir = tempDir('ferry-lake-tamper-');
    const job = writeJob(dir, {
      source: pgUrl(SRC),
      target: 'file:./lake',
      defaults: { format: 'csv', compression: 'none', chunk_rows: 200 },
      streams: { 'public.awk': {} },
    });
    expect((await runCli(['run', job])).code).toBe(0);
    const folder = path.join(dir, 'lake', 'public.awk');
    const files = readdirSync(folder).filter((f) => f.startsWith('part-'));
    const first = path.join(folder, files[0]);
    const text = readFileSync(first, 'utf8');
    writeFileSync(
      first,
      text.replace(/\n(\d+),/, (_m, id) => `\n${Number(id) + 100000},`),
    );
    let v = await runCli(['verify', job]);
    expect(v.code).not.toBe(0);
    expect(v.stdout + v.stderr).toContain(files[0]);
    writeFileSync(first, text);
    writeFileSync(path.join(folder, 'part-stray.csv'), 'id\n1\n');
    v = await runCli(['verify', job]);
    expect(v.code).toBe(4);
    expect(v.stdout).toContain('part-stray.csv: a data file the manifest does not list');
  }, 60_000);
});

describe('partitioned Pagila dump read by DuckDB with hive_partitioning', () => {
  beforeAll(async () => {
    await freshPgDatabase(PAGILA);
    const sql = path.join(DATASETS, 'pagila', 'neon', 'pagila.sql');
    await new Promise<void>((resolve, reject) => {
      const p = spawn('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', pgUrl(PAGILA), '-f', sql], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      p.stderr.on('data', (d) => {
        err += d;
      });
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql pagila: ${code}\n${err}`))));
    });
  }, 120_000);

  it('payment by month and staff, rental by return month (NULL partition included): counts and sums equal', async () => {
    const dir = tempDir('ferry-pagila-');
    const job = writeJob(dir, {
      source: pgUrl(PAGILA),
      target: `s3://${BUCKET}/pagila`,
      defaults: { format: 'parquet', chunk_rows: 4000 },
      streams: {
        'public.payment': { partition_by: ['payment_date:month', 'staff_id'] },
        'public.rental': { partition_by: ['return_date:month'] },
      },
    });
    const run = await runCli(['run', job], { env: s3.env });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const verify = await runCli(['verify', job], { env: s3.env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const into = path.join(dir, 'fetched');
    await checkAndFetch('s3', 'pagila', 'public.payment', path.join(into, 'payment'));
    await checkAndFetch('s3', 'pagila', 'public.rental', path.join(into, 'rental'));
    expect(existsSync(path.join(into, 'rental', 'return_date_month=__HIVE_DEFAULT_PARTITION__'))).toBe(true);

    const duckPay = await duckQuery(
      `SELECT payment_date_month::VARCHAR m, staff_id::VARCHAR s, count(*)::VARCHAR n, sum(amount)::VARCHAR total
       FROM read_parquet('${into}/payment/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`,
    );
    const pgPay = await pgQuery(
      PAGILA,
      `SELECT to_char(payment_date AT TIME ZONE 'UTC', 'YYYY-MM') m, staff_id::text s, count(*)::text n, sum(amount)::text total
       FROM payment GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(duckPay.length).toBeGreaterThan(4);
    expect(duckPay).toEqual(pgPay);

    const duckRental = await duckQuery(
      `SELECT return_date_month::VARCHAR m, count(*)::VARCHAR n, sum(rental_id)::VARCHAR ids, sum(inventory_id)::VARCHAR inv
       FROM read_parquet('${into}/rental/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`,
    );
    const pgRental = await pgQuery(
      PAGILA,
      `SELECT to_char(return_date AT TIME ZONE 'UTC', 'YYYY-MM') m, count(*)::text n, sum(rental_id)::text ids, sum(inventory_id)::text inv
       FROM rental GROUP BY 1 ORDER BY 1 NULLS LAST`,
    );
    expect(duckRental).toEqual(pgRental);
    expect(pgRental.some((r) => r.m === null)).toBe(true);
  }, 180_000);
});

describe('kill -9 mid-dump, then a rerun', () => {
  const BIG = 'ferry_lake_kill';
  beforeAll(async () => {
    await freshPgDatabase(BIG);
    await pgQuery(
      BIG,
      `CREATE TABLE events AS SELECT g AS id, md5(g::text) AS h, now() - g * interval '1 minute' AS at, (g % 5)::int AS k
       FROM generate_series(1, 300000) g`,
    );
    await pgQuery(BIG, 'ALTER TABLE events ADD PRIMARY KEY (id)');
  }, 120_000);

  it('a file larger than the 8 MiB upload part goes to S3 whole (multipart) and verifies', async () => {
    const dir = tempDir('ferry-lake-big-');
    const job = writeJob(dir, {
      source: pgUrl(BIG),
      target: `s3://${BUCKET}/big`,
      defaults: { format: 'csv', compression: 'none', chunk_rows: 1_000_000 },
      streams: { 'public.events': {} },
    });
    const run = await runCli(['run', job], { env: s3.env });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const manifest = await checkAndFetch('s3', 'big', 'public.events', path.join(dir, 'fetched'));
    expect(manifest.files).toHaveLength(1);
    expect(manifest.files[0].bytes).toBeGreaterThan(16 * 1024 * 1024);
    const verify = await runCli(['verify', job], { env: s3.env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 120_000);

  for (const where of ['local', 's3'] as const) {
    it(`leaves exactly one copy of every row (${where})`, async () => {
      const dir = tempDir('ferry-lake-kill-');
      const root = where === 's3' ? 'killed' : path.join(dir, 'lake');
      const job = writeJob(dir, {
        source: pgUrl(BIG),
        target: where === 's3' ? `s3://${BUCKET}/killed` : 'file:./lake',
        defaults: { format: 'parquet', chunk_rows: 25000, file_max_rows: 10000, parallel: 2 },
        streams: { 'public.events': { partition_by: ['k'] } },
      });
      const env = where === 's3' ? s3.env : {};
      const markers = async (): Promise<number> => {
        if (where === 's3')
          return (await s3.listKeys(BUCKET, 'killed/_ferry/')).filter((o) => /c\d+\.json$/.test(o.key)).length;
        const d = path.join(root, '_ferry');
        return existsSync(d) ? walk(d).filter((f) => /c\d+\.json$/.test(f)).length : 0;
      };
      // Kill twice: once after a few chunks committed, once right after the resumed run starts.
      for (const wait of [2, 5]) {
        const child = spawn(process.execPath, [FERRY_BIN, 'run', job], {
          cwd: dir,
          env: { ...process.env, ...env },
          stdio: 'ignore',
        });
        const t0 = Date.now();
        while ((await markers()) < wait && Date.now() - t0 < 60_000 && child.exitCode === null) await sleep(50);
        child.kill('SIGKILL');
        await new Promise((r) => child.on('close', r));
        expect(await markers()).toBeLessThan(16);
      }
      const run = await runCli(['run', job], { env });
      expect(run.code, run.stderr + run.stdout).toBe(0);
      expect(run.stdout).toContain('(resumed)');
      const into = path.join(dir, 'fetched');
      const manifest = await checkAndFetch(where, root, 'public.events', into);
      expect(manifest.rows).toBe(300000);
      // A full read of every Parquet file in the folder, not only those the manifest lists.
      const [all] = await duckQuery(
        `SELECT count(*)::VARCHAR n, count(DISTINCT id)::VARCHAR ids, sum(id)::VARCHAR s, sum(k)::VARCHAR ks
         FROM read_parquet('${into}/**/*.parquet', hive_partitioning = true)`,
      );
      const [src] = await pgQuery(
        BIG,
        'SELECT count(*)::text n, count(DISTINCT id)::text ids, sum(id)::text s, sum(k)::text ks FROM events',
      );
      expect(all).toEqual(src);
      const verify = await runCli(['verify', job], { env });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    }, 240_000);
  }
});
