/**
 * Helpers of the fault tests (kill -9, terminated connections): seeded randomness, source tables
 * built with generate_series, the CLI as a killable child process, and content digests computed by
 * the databases themselves (SQL), never by ferry.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type CliResult, FERRY_BIN, pgUrl } from './env.js';

// ---------------------------------------------------------------- randomness

/** Seed of a test file: FERRY_FAULT_SEED if set, else a fresh one. Always printed, so a failure can be replayed. */
export function faultSeed(file: string): number {
  const env = process.env.FERRY_FAULT_SEED;
  const seed = env ? Number(env) >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
  console.log(`[${file}] seed ${seed} (replay with FERRY_FAULT_SEED=${seed})`);
  return seed;
}

/** mulberry32: a small seeded PRNG; returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
export function between(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- connections

/** A long-lived client of the test itself (application_name not starting with `ferry`). */
export async function testClient(db: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: pgUrl(db),
    options: '-c TimeZone=UTC -c extra_float_digits=1',
    application_name: 'fault-test',
  });
  await client.connect();
  return client;
}

// ---------------------------------------------------------------- source tables

/**
 * `public.big`: `rows` rows keyed by a bigint, with a uuid, a timestamptz, a float and text that is
 * awkward for COPY (tabs, newlines, backslashes, quotes, `\N`, non-ASCII, empty, NULL).
 */
export async function createBigTable(client: pg.Client, rows: number, table = 'public.big'): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (
    id bigint PRIMARY KEY, u uuid NOT NULL, t timestamptz, v double precision, s text)`);
  await client.query(`INSERT INTO ${table}
    SELECT i,
           md5(i::text)::uuid,
           CASE WHEN i % 97 = 0 THEN NULL ELSE timestamptz '2001-02-03 04:05:06.789+00' + i * interval '1 minute 1.001 second' END,
           CASE WHEN i % 89 = 0 THEN NULL ELSE (i * 7919 % 100003) / 8.0 - 5000 END,
           CASE i % 9
             WHEN 0 THEN NULL
             WHEN 1 THEN ''
             WHEN 2 THEN E'tab\\there ' || i
             WHEN 3 THEN E'line\\nbreak\\r\\nback\\\\slash ' || i
             WHEN 4 THEN 'Zürich ✓ 東京 🚀 ' || i
             WHEN 5 THEN E'"quoted", ''single'', \\\\N ' || i
             WHEN 6 THEN repeat(md5(i::text), (1 + i % 4)::int)
             WHEN 7 THEN E'\\\\.' || i
             ELSE 'plain ' || i
           END
      FROM generate_series(1::bigint, ${rows}) AS g(i)`);
  await client.query(`ANALYZE ${table}`);
}

/** `public.pairs`: a composite primary key (a, b) with b running backwards inside each a. */
export async function createPairsTable(client: pg.Client, rows: number, table = 'public.pairs'): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (
    a integer NOT NULL, b text NOT NULL, n numeric(14,4), payload text, PRIMARY KEY (a, b))`);
  await client.query(`INSERT INTO ${table}
    SELECT (i / 50)::int, 'k' || lpad((49 - i % 50)::text, 3, '0'), (i * 31 % 1000003) / 7.0,
           CASE WHEN i % 5 = 0 THEN NULL ELSE E'p\\t' || i || E'\\n' || md5(i::text) END
      FROM generate_series(0::bigint, ${rows - 1}) AS g(i)`);
  await client.query(`ANALYZE ${table}`);
}

// ---------------------------------------------------------------- digests (by SQL)

export interface Digest {
  rows: number;
  /** md5 over per-bucket md5s of the rows' text, in key order. */
  hash: string;
  /** Keys that occur more than once. */
  duplicateKeys: number;
}

/**
 * Content digest of a PostgreSQL table: rows are cut in buckets by `bucketExpr` (a function of the
 * key), each bucket hashed as the ordered concatenation of `rowExpr`, then the bucket hashes hashed.
 */
export async function pgDigest(
  client: pg.Client,
  table: string,
  key: string[],
  rowExpr: string,
  bucketExpr: string,
): Promise<Digest> {
  const order = key.join(', ');
  const r = await client.query(`
    SELECT (SELECT count(*) FROM ${table})::bigint AS rows,
           (SELECT coalesce(md5(string_agg(h, ',' ORDER BY g)), '') FROM (
              SELECT ${bucketExpr} AS g, md5(string_agg(${rowExpr}, E'\\n' ORDER BY ${order})) AS h
                FROM ${table} x GROUP BY 1) b) AS hash,
           (SELECT count(*) FROM (SELECT 1 FROM ${table} GROUP BY ${order} HAVING count(*) > 1) d)::bigint AS dups`);
  const row = r.rows[0];
  return { rows: Number(row.rows), hash: row.hash, duplicateKeys: Number(row.dups) };
}

/** Row text of `public.big` for a PG <-> PG comparison: the whole row as PostgreSQL prints it. */
export const BIG_ROW_PG = 'x::text';
export const BIG_KEY = ['id'];
export const BIG_BUCKET = 'id / 10000';
export const PAIRS_ROW_PG = 'x::text';
export const PAIRS_KEY = ['a', 'b'];
export const PAIRS_BUCKET = 'a / 200';

/**
 * Row text of `public.big` that PostgreSQL and SQLite both produce by SQL (PG -> SQLite checks):
 * id | uuid | timestamp as milliseconds since 1970 | float with 4 decimals | text (NULL as \N).
 */
export const BIG_ROW_PG_PORTABLE = `x.id::text || '|' || x.u::text || '|' ||
  coalesce((extract(epoch FROM x.t) * 1000)::bigint::text, '\\N') || '|' ||
  coalesce(to_char(x.v, 'FM9999999990.0000'), '\\N') || '|' || coalesce(x.s, '\\N')`;
export const BIG_ROW_SQLITE = `CAST(x.id AS TEXT) || '|' || x.u || '|' ||
  coalesce(CAST(round((julianday(CASE WHEN x.t GLOB '*[+-][0-9][0-9]' THEN x.t || ':00' ELSE x.t END)
    - 2440587.5) * 86400000) AS INTEGER), '\\N') || '|' ||
  CASE WHEN x.v IS NULL THEN '\\N' ELSE printf('%.4f', x.v) END || '|' || coalesce(x.s, '\\N')`;
/** Row text of `public.pairs` for PG -> SQLite (the decimal is kept as its exact text on both sides). */
export const PAIRS_ROW_PG_PORTABLE = `x.a::text || '|' || x.b || '|' || coalesce(x.n::text, '\\N') || '|' || coalesce(x.payload, '\\N')`;
export const PAIRS_ROW_SQLITE = `CAST(x.a AS TEXT) || '|' || x.b || '|' || coalesce(x.n, '\\N') || '|' || coalesce(x.payload, '\\N')`;

/**
 * Digest of a table in a SQLite file, with the same bucketing and ordering as pgDigest. SQLite has
 * no md5, so the test registers one (node:crypto) as a scalar SQL function; the rest is SQL
 * (group_concat with ORDER BY needs SQLite 3.44+).
 */
export function sqliteDigest(file: string, table: string, key: string[], rowExpr: string, bucketExpr: string): Digest {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.function('md5', { deterministic: true }, (s: unknown) => md5(String(s)));
    const order = key.map((k) => `x.${k}`).join(', ');
    const { hash } = db
      .prepare(
        `SELECT coalesce(md5(group_concat(h, ',' ORDER BY g)), '') AS hash FROM (
           SELECT ${bucketExpr} AS g, md5(group_concat(${rowExpr}, char(10) ORDER BY ${order})) AS h
             FROM ${table} x GROUP BY 1)`,
      )
      .get() as { hash: string };
    const { n } = db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
    const { d } = db
      .prepare(`SELECT count(*) AS d FROM (SELECT 1 FROM ${table} GROUP BY ${key.join(', ')} HAVING count(*) > 1)`)
      .get() as { d: number };
    return { rows: Number(n), hash, duplicateKeys: Number(d) };
  } finally {
    db.close();
  }
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

// ---------------------------------------------------------------- markers and state

export interface Marker {
  run_id: string;
  stream: string;
  chunk_id: string;
  rows: number;
  committed_at: string;
}

/** The `_ferry_chunks` rows of a PostgreSQL target ([] before the table exists). */
export async function pgMarkers(client: pg.Client): Promise<Marker[]> {
  const exists = await client.query(`SELECT to_regclass('public._ferry_chunks') IS NOT NULL AS e`);
  if (!exists.rows[0].e) return [];
  const r = await client.query(
    `SELECT run_id, stream, chunk_id, rows::int AS rows, to_char(committed_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS committed_at
       FROM public._ferry_chunks ORDER BY run_id, stream, chunk_id`,
  );
  return r.rows as Marker[];
}

/** The `_ferry_chunks` rows of a SQLite target ([] before the file or the table exists). */
export function sqliteMarkers(file: string): Marker[] {
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const has = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = '_ferry_chunks'`).get();
    if (!has) return [];
    return db
      .prepare(
        `SELECT run_id, stream, chunk_id, rows, committed_at FROM _ferry_chunks ORDER BY run_id, stream, chunk_id`,
      )
      .all() as Marker[];
  } finally {
    db.close();
  }
}

export interface StateChunk {
  run_id: string;
  stream: string;
  chunk_id: string;
  status: string;
  attempts: number;
}

/** Chunk rows of the job's state store (`.ferry/<job>/state.db`); [] before it exists. */
export function stateChunks(stateDb: string): StateChunk[] {
  if (!existsSync(stateDb)) return [];
  const db = new Database(stateDb, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const has = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = 'chunks'`).get();
    if (!has) return [];
    return db
      .prepare(`SELECT run_id, stream, chunk_id, status, attempts FROM chunks ORDER BY run_id, stream, chunk_id`)
      .all() as StateChunk[];
  } finally {
    db.close();
  }
}

export const isChunkMarker = (m: { chunk_id: string }) => !m.chunk_id.startsWith('__');
export const markerKey = (m: { run_id: string; stream: string; chunk_id: string }) =>
  `${m.run_id}|${m.stream}|${m.chunk_id}`;

/** Waits until no connection of a ferry process is left on the database (a killed process's backends end). */
export async function waitNoFerryBackends(client: pg.Client, db: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'ferry%'`,
      [db],
    );
    if (r.rows[0].n === 0) return;
    if (Date.now() > until) throw new Error(`ferry backends still on ${db} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------- the CLI as a killable child

export interface FerryChild {
  child: ChildProcess;
  /** Resolves once the process has ended (by itself or killed). */
  done: Promise<CliResult>;
  exited(): boolean;
}

export function startFerry(args: string[], cwd: string): FerryChild {
  const child = spawn(process.execPath, [FERRY_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let ended = false;
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, exited: () => ended };
}

/** Polls `cond` every `everyMs` until it is true (returns true) or the child ends first (returns false). */
export async function waitUntil(f: FerryChild, cond: () => Promise<boolean>, everyMs = 20): Promise<boolean> {
  for (;;) {
    if (f.exited()) return false;
    if (await cond()) return !f.exited();
    await sleep(everyMs);
  }
}
