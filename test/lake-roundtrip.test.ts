/**
 * The files source (lake -> warehouse), end to end with real servers:
 *
 * 1. Chinook in PostgreSQL, dumped by ferry to S3 (s3rver) as Parquet and as CSV, each lake loaded
 *    back by ferry (its manifests) into a new PostgreSQL database. `ferry verify` of the original
 *    database against the new one must find every stream equal; the row counts must be Chinook's
 *    published ones; and, independently of ferry, the column types, keys and a digest of every
 *    row's text (computed by PostgreSQL on both sides) must be the same.
 * 2. kill -9 mid-load: ~40 gzip CSV files (awkward text, decimals, timestamps with offsets)
 *    generated here, loaded with `parallel: 2`, killed with SIGKILL once chunks have committed
 *    (twice for PostgreSQL), then rerun to the end. The target must hold exactly the rows of the
 *    files: count, distinct ids, sum of ids and, per file, an md5 of every value computed by the
 *    database (string_agg / GROUP_CONCAT) against the same computed here from the generated rows.
 *    No staging table may be left. Same with MariaDB as the target (killed once).
 * 3. A file rewritten (other rows, another size) between the kill and the rerun: a full refresh must
 *    load the new contents exactly once; an append must fail naming the file, keep refusing, never
 *    load it twice, and complete once the file is restored (as its hint says).
 *
 * The data's seed is printed; FERRY_FAULT_SEED replays it. FERRY_FAULT_KEEP keeps the folders and
 * databases for a look afterwards.
 *
 * Needs the built CLI (`npm run build`), PostgreSQL at 127.0.0.1:5432, MariaDB at 127.0.0.1:3306,
 * the AWS CLI (test/helpers/s3.ts) and psql.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHINOOK_DIR, chinookExpected } from './helpers/datasets.js';
import { freshPgDatabase, tempDir as makeTempDir, pgQuery, pgUrl, runCli, writeJob } from './helpers/env.js';
import {
  type FerryChild,
  faultSeed,
  rng,
  sleep,
  startFerry,
  testClient,
  waitNoFerryBackends,
  waitUntil,
} from './helpers/faults.js';
import { myStageTables, myUrl, withMy } from './helpers/mysql.js';
import { type S3Server, startS3 } from './helpers/s3.js';

const SEED = faultSeed('lake-roundtrip');
const BUCKET = 'lr';
const CHINOOK = 'ferry_lr_chinook';
const PG_DBS = [
  CHINOOK,
  'ferry_lr_back_parquet',
  'ferry_lr_back_csv',
  'ferry_lr_kill_pg',
  'ferry_lr_changed_full',
  'ferry_lr_changed_append',
];
const MY_DB = 'ferry_lr_kill_my';

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  if (process.env.FERRY_FAULT_KEEP) return;
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  for (const db of PG_DBS) await pgQuery('postgres', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  await withMy(null, (c) => c.query(`DROP DATABASE IF EXISTS \`${MY_DB}\``));
});

// ------------------------------------------------------------------------------------------------
// 1. Chinook: PostgreSQL -> lake on S3 -> a new PostgreSQL database
// ------------------------------------------------------------------------------------------------

const CHINOOK_TABLES = [
  'album',
  'artist',
  'customer',
  'employee',
  'genre',
  'invoice',
  'invoice_line',
  'media_type',
  'playlist',
  'playlist_track',
  'track',
];

/** invoice_line -> InvoiceLine, the table's name in ChinookData.json. */
const publishedName = (t: string) =>
  t
    .split('_')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');

/** Runs a SQL script through psql (stdin), stopping at the first error. */
function psqlScript(db: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', pgUrl(db)], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql ${db}: exit ${code}\n${err}`))));
    p.stdin.on('error', () => {});
    p.stdin.end(script);
  });
}

interface LedgerJson {
  status: string;
  resumed: boolean;
  streams: {
    stream: string;
    status: string;
    sourceRows: number;
    targetRows: number;
    rowsWritten: number;
    chunks: number;
    chunksResumed: number;
    rejects: number;
  }[];
}

interface VerifyJson {
  status: string;
  streams: { stream: string; status: string; sourceRows: number; targetRows: number; mismatches: unknown[] }[];
}

/** Columns (name, type, not null) and primary key columns of every table, as PostgreSQL describes them. */
async function pgShape(db: string): Promise<Record<string, string[]>> {
  const rows = await pgQuery<{ t: string; d: string }>(
    db,
    `SELECT c.relname t,
        string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
          || CASE WHEN a.attnum = ANY (coalesce(k.conkey, '{}')) THEN ' pk' || array_position(k.conkey, a.attnum) ELSE '' END,
          ', ' ORDER BY a.attnum) d
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p'
      WHERE c.relkind = 'r' AND c.relname = ANY ($1)
      GROUP BY c.relname ORDER BY c.relname`,
    [CHINOOK_TABLES],
  );
  return Object.fromEntries(rows.map((r) => [r.t, r.d.split(', ')]));
}

/** Per table: row count and md5 of every row's text, in a fixed order (computed by PostgreSQL). */
async function pgTableDigests(db: string): Promise<Record<string, { n: number; md5: string }>> {
  const out: Record<string, { n: number; md5: string }> = {};
  for (const t of CHINOOK_TABLES) {
    const [r] = await pgQuery<{ n: number; md5: string }>(
      db,
      `SELECT count(*)::int n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) md5 FROM public."${t}" x`,
    );
    out[t] = r;
  }
  return out;
}

describe('Chinook: PostgreSQL -> S3 lake (Parquet, CSV) -> a new PostgreSQL database', () => {
  let s3: S3Server;
  let published: Record<string, number>;
  let original: Record<string, { n: number; md5: string }>;

  beforeAll(async () => {
    const all = chinookExpected();
    expect(Object.keys(all).sort()).toEqual(CHINOOK_TABLES.map(publishedName).sort());
    published = Object.fromEntries(CHINOOK_TABLES.map((t) => [t, all[publishedName(t)]]));
    await freshPgDatabase(CHINOOK);
    // The script creates and connects to its own database: those lines go, it runs in ours.
    const script = readFileSync(path.join(CHINOOK_DIR, 'Chinook_PostgreSql.sql'), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*(?:(?:DROP|CREATE)\s+DATABASE\b|\\c\s)/i.test(l))
      .join('\n');
    await psqlScript(CHINOOK, script);
    original = await pgTableDigests(CHINOOK);
    expect(Object.fromEntries(Object.entries(original).map(([t, d]) => [t, d.n]))).toEqual(published);
    s3 = await startS3({ buckets: [BUCKET] });
  }, 120_000);

  afterAll(async () => {
    await s3?.stop();
  });

  for (const format of ['parquet', 'csv'] as const) {
    it(`${format}: dumped, loaded back from its manifests, verify equal to the original`, async () => {
      const dir = tempDir(`ferry-lr-chinook-${format}-`);
      const prefix = `chinook-${format}`;
      const streams = Object.fromEntries(CHINOOK_TABLES.map((t) => [`public.${t}`, {}]));
      // Parquet is the default format: left unsaid for it. chunk_rows makes the big tables several files.
      const dump = writeJob(
        dir,
        {
          source: pgUrl(CHINOOK),
          target: `s3://${BUCKET}/${prefix}`,
          defaults: { ...(format === 'csv' ? { format: 'csv' } : {}), chunk_rows: 1000 },
          streams,
        },
        'dump.yaml',
      );
      const dumped = await runCli(['run', dump], { cwd: dir, env: s3.env });
      expect(dumped.code, dumped.stderr + dumped.stdout).toBe(0);

      // The lake as the AWS CLI sees it (one recursive copy: a CLI process per object costs seconds):
      // a folder per table holding its manifest and exactly the data files it lists, bytes as listed.
      const fetched = path.join(dir, 'fetched');
      await s3.aws(['s3', 'cp', '--recursive', '--only-show-errors', `s3://${BUCKET}/${prefix}/`, fetched]);
      for (const t of CHINOOK_TABLES) {
        const folder = path.join(fetched, `public.${t}`);
        const manifest = JSON.parse(readFileSync(path.join(folder, '_ferry_manifest.json'), 'utf8')) as {
          format: string;
          rows: number;
          files: { path: string; rows: number; bytes: number; sha256: string }[];
        };
        expect({ t, format: manifest.format, rows: manifest.rows }).toEqual({ t, format, rows: published[t] });
        const data = readdirSync(folder).filter((f) => !f.startsWith('_'));
        expect(data.sort()).toEqual(manifest.files.map((f) => f.path).sort());
        expect(data.every((k) => k.endsWith(format === 'csv' ? '.csv.gz' : '.parquet'))).toBe(true);
        for (const f of manifest.files) {
          const bytes = readFileSync(path.join(folder, f.path));
          expect({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({
            bytes: f.bytes,
            sha256: f.sha256,
          });
        }
        if (t === 'track') expect(manifest.files.length).toBeGreaterThan(1);
      }

      // Loaded back: the source is the lake; each stream is named like its folder (its manifest is used).
      const back = `ferry_lr_back_${format}`;
      await freshPgDatabase(back);
      const load = writeJob(
        dir,
        {
          source: `s3://${BUCKET}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&path_style=true`,
          target: pgUrl(back),
          streams,
        },
        'load.yaml',
      );
      const loaded = await runCli(['run', load, '--json'], { cwd: dir, env: s3.env });
      expect(loaded.code, loaded.stderr + loaded.stdout).toBe(0);
      const ledger = JSON.parse(loaded.stdout) as LedgerJson;
      expect(ledger.status).toBe('ok');
      expect(
        Object.fromEntries(ledger.streams.map((s) => [s.stream, [s.status, s.sourceRows, s.targetRows, s.rejects]])),
      ).toEqual(Object.fromEntries(CHINOOK_TABLES.map((t) => [`public.${t}`, ['ok', published[t], published[t], 0]])));

      // ferry verify: the ORIGINAL database against the new one.
      const check = writeJob(dir, { source: pgUrl(CHINOOK), target: pgUrl(back), streams }, 'verify.yaml');
      const verify = await runCli(['verify', check, '--json'], { cwd: dir });
      expect(verify.code, verify.stderr + verify.stdout).toBe(0);
      const report = JSON.parse(verify.stdout) as VerifyJson;
      expect(report.status).toBe('equal');
      expect(Object.fromEntries(report.streams.map((s) => [s.stream, [s.status, s.sourceRows, s.targetRows]]))).toEqual(
        Object.fromEntries(CHINOOK_TABLES.map((t) => [`public.${t}`, ['equal', published[t], published[t]]])),
      );

      // Independently of ferry: the same column types, NOT NULLs and keys, and the same rows (text digests).
      expect(await pgShape(back)).toEqual(await pgShape(CHINOOK));
      expect(await pgTableDigests(back)).toEqual(original);
    }, 90_000);
  }
});

// ------------------------------------------------------------------------------------------------
// Generated CSV files for the kill tests
// ------------------------------------------------------------------------------------------------

const FILES = 40;
const ROWS_PER_FILE = 10_000;
/** File f holds ids in (f * ID_BLOCK, (f + 1) * ID_BLOCK): the digests are grouped by id / ID_BLOCK. */
const ID_BLOCK = 100_000;

interface GenFile {
  name: string;
  bytes: Buffer;
  rows: number;
  /** Its id block (id / ID_BLOCK), the sum of its ids, and the md5 of its rows' lines in id order. */
  g: number;
  idSum: bigint;
  md5: string;
}

const PIECES = [
  'a,b',
  ',',
  'say "hi"',
  '"',
  '""',
  'line\nbreak',
  'crlf\r\nend',
  'cr\ronly',
  'back\\slash',
  '\\N',
  'NULL',
  ' lead',
  'trail ',
  '\t',
  "'",
  'é',
  '€',
  '日本語',
  '😀',
  '\u00a0',
];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:MM:SS[.ffffff|.fff]` (or `T` as separator) of a count of microseconds since 1970. */
function microsText(us: number, sep: string, fraction: 'us' | 'ms' | 'none'): string {
  const d = new Date(Math.floor(us / 1000));
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}${sep}${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const frac = pad(us % 1_000_000, 6);
  return fraction === 'none' ? base : `${base}.${fraction === 'ms' ? frac.slice(0, 3) : frac}`;
}

function offsetText(min: number, style: 'hh:mm' | 'hh'): string {
  const sign = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  return style === 'hh' ? `${sign}${pad(a / 60)}` : `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

const csvQuote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * Pools the rows draw from (the machine is slow and shared: a Date per row for 400,000 rows costs
 * seconds). Timestamps: [value in UTC as the databases print it, the text in the file] with Z,
 * +hh:mm, ±hh, with 6, 3 or no fraction digits. Text tails: the awkward pieces, joined.
 */
interface Pools {
  stamps: [string, string][];
  tails: string[];
}

function pools(seed: number): Pools {
  const r = rng(seed ^ 0x7f4a7c15);
  const stamps: [string, string][] = [];
  for (let i = 0; i < 4096; i++) {
    const style = i % 4;
    // 2000-01-01 .. ~2030, in microseconds, cut to the precision the style writes.
    let us = 946_684_800_000_000 + Math.floor(r() * 946_000_000) * 1_000_000 + Math.floor(r() * 1_000_000);
    if (style === 2) us -= us % 1_000_000;
    if (style === 3) us -= us % 1000;
    const off = [0, 330, -480, 60, -210, 840][Math.floor(r() * 6)];
    const whole = off - (off % 60);
    const text =
      style === 0
        ? `${microsText(us, 'T', 'us')}Z`
        : style === 1
          ? `${microsText(us + off * 60_000_000, ' ', 'us')}${offsetText(off, 'hh:mm')}`
          : style === 2
            ? `${microsText(us + off * 60_000_000, 'T', 'none')}${offsetText(off, 'hh:mm')}`
            : `${microsText(us + whole * 60_000_000, ' ', 'ms')}${offsetText(whole, 'hh')}`;
    stamps.push([microsText(us, ' ', 'us'), text]);
  }
  const tails: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const k = Math.floor(r() * 5);
    let t = '';
    for (let p = 0; p < k; p++) t += (r() < 0.5 ? ' ' : '') + PIECES[Math.floor(r() * PIECES.length)];
    tails.push(t);
  }
  return { stamps, tails };
}

let poolCache: Pools | undefined;

/**
 * One gzip CSV file: `count` rows with ids in file f's block (`variant` picks another part of the
 * block and other values), written in shuffled order. Text with commas, quotes, CR/LF, backslashes
 * and non-ASCII; NULL as an unquoted empty field, the empty string as `""`, and the text NULL;
 * decimals with 2 places; timestamps with offsets. Odd files end their records with CRLF.
 * The expected digest of its rows (md5 of `id|=note or ~|amount or ~|created UTC or ~` lines in
 * id order) is computed from the values, never from the file.
 */
function genFile(seed: number, f: number, count: number, variant = 0): GenFile {
  poolCache ??= pools(seed);
  const { stamps, tails } = poolCache;
  const r = rng(seed ^ Math.imul(f + 1, 0x9e3779b1) ^ Math.imul(variant + 1, 0x85ebca6b));
  const first = f * ID_BLOCK + variant * (ID_BLOCK / 2) + 1;
  const lines: string[] = new Array(count);
  const digestLines: string[] = new Array(count);
  let idSum = 0;
  for (let i = 0; i < count; i++) {
    const id = first + i;
    const x = r();
    const note =
      x < 0.03
        ? null
        : x < 0.06
          ? ''
          : x < 0.07
            ? 'NULL'
            : `row ${id}${variant ? ` v${variant}` : ''}${tails[Math.floor(r() * tails.length)]}`;
    let amount: string | null = null;
    const y = r();
    if (y >= 0.04) {
      const cents = Math.floor((y - 0.52) * 2e11);
      const a = Math.abs(cents);
      amount = `${cents < 0 ? '-' : ''}${Math.floor(a / 100)}.${pad(a % 100)}`;
    }
    const z = r();
    const stamp = z < 0.03 ? null : stamps[Math.floor(z * 1e9) % stamps.length];
    const noteField = note === null ? '' : note === '' || z < 0.5 || /[",\r\n]/.test(note) ? csvQuote(note) : note;
    lines[i] = `${id},${noteField},${amount ?? ''},${stamp?.[1] ?? ''}`;
    digestLines[i] = `${id}|${note === null ? '~' : `=${note}`}|${amount ?? '~'}|${stamp?.[0] ?? '~'}`;
    idSum += id;
  }
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [lines[i], lines[j]] = [lines[j], lines[i]];
  }
  const eol = f % 2 === 1 ? '\r\n' : '\n';
  return {
    name: `part-${pad(f, 3)}.csv.gz`,
    bytes: gzipSync(`id,note,amount,created${eol}${lines.join(eol)}${eol}`, { level: 1 }),
    rows: count,
    g: Math.floor(first / ID_BLOCK),
    idSum: BigInt(idSum),
    md5: createHash('md5').update(digestLines.join('\n')).digest('hex'),
  };
}

let filesCache: GenFile[] | undefined;

/** The kill tests' files (generated once; the changed-file tests take the first ones). */
function generated(): GenFile[] {
  filesCache ??= Array.from({ length: FILES }, (_v, f) => genFile(SEED, f, ROWS_PER_FILE));
  return filesCache;
}

/** A whole-second modification time for the generated files, so that a restore can give it back exactly. */
const FILES_MTIME = 1_700_000_000;

/** Writes files into `<dir>/data/events`; with `mtime` (seconds), sets their modification time. */
function writeFiles(dir: string, files: GenFile[], mtime?: number): void {
  const folder = path.join(dir, 'data', 'events');
  mkdirSync(folder, { recursive: true });
  for (const f of files) {
    writeFileSync(path.join(folder, f.name), f.bytes);
    if (mtime !== undefined) utimesSync(path.join(folder, f.name), mtime, mtime);
  }
}

interface Digest {
  n: string;
  distinct: string;
  sum: string;
  /** Per id block (a file): rows and md5 of the rows' lines in id order. */
  groups: { g: number; n: number; md5: string }[];
}

/** What the target must hold when it holds exactly these files (each file its own id block). */
function expectedDigest(files: GenFile[]): Digest {
  const groups = files.map((f) => ({ g: f.g, n: f.rows, md5: f.md5 })).sort((a, b) => a.g - b.g);
  expect(new Set(groups.map((g) => g.g)).size).toBe(groups.length);
  const n = String(files.reduce((a, f) => a + f.rows, 0));
  return { n, distinct: n, sum: String(files.reduce((a, f) => a + f.idSum, 0n)), groups };
}

const PG_LINE = `x.id::text || '|' || coalesce('=' || x.note, '~') || '|' || coalesce(x.amount::text, '~') || '|' ||
  coalesce(to_char(x.created AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '~')`;

async function pgDigestOf(c: pg.Client, table = 'public.events'): Promise<Digest> {
  const [s] = (
    await c.query(
      `SELECT count(*)::text n, count(DISTINCT id)::text AS distinct, coalesce(sum(id), 0)::text sum FROM ${table}`,
    )
  ).rows;
  const groups = (
    await c.query(
      `SELECT (id / ${ID_BLOCK})::int g, count(*)::int n, md5(string_agg(${PG_LINE}, E'\\n' ORDER BY id)) md5
         FROM ${table} x GROUP BY 1 ORDER BY 1`,
    )
  ).rows;
  return { n: s.n, distinct: s.distinct, sum: s.sum, groups };
}

const MY_LINE = `CONCAT(x.id, '|', IFNULL(CONCAT('=', x.note), '~'), '|', IFNULL(CAST(x.amount AS CHAR), '~'), '|',
  IFNULL(DATE_FORMAT(x.created, '%Y-%m-%d %H:%i:%s.%f'), '~'))`;

async function myDigestOf(db: string): Promise<Digest> {
  return withMy(db, async (c) => {
    await c.query('SET SESSION group_concat_max_len = 1073741824');
    const [[s]] = (await c.query(
      'SELECT CAST(COUNT(*) AS CHAR) n, CAST(COUNT(DISTINCT id) AS CHAR) `distinct`, CAST(IFNULL(SUM(id), 0) AS CHAR) `sum` FROM events',
    )) as unknown as [{ n: string; distinct: string; sum: string }[]];
    const [groups] = (await c.query(
      `SELECT CAST(id DIV ${ID_BLOCK} AS SIGNED) g, COUNT(*) n, MD5(GROUP_CONCAT(${MY_LINE} ORDER BY x.id SEPARATOR '\\n')) md5
         FROM events x GROUP BY 1 ORDER BY 1`,
    )) as unknown as [{ g: number | string; n: number | string; md5: string }[]];
    const [warnings] = (await c.query('SHOW WARNINGS')) as unknown as [unknown[]];
    expect(warnings, 'GROUP_CONCAT cut short').toEqual([]);
    return { ...s, groups: groups.map((g) => ({ g: Number(g.g), n: Number(g.n), md5: g.md5 })) };
  });
}

// ------------------------------------------------------------------------------------------------
// Killing `ferry run`
// ------------------------------------------------------------------------------------------------

function eventsJob(dir: string, target: string, mode: 'full-refresh' | 'append' = 'full-refresh'): string {
  return writeJob(dir, {
    source: 'file:./data',
    target,
    defaults: { parallel: 2, mode },
    streams: {
      events: {
        files: 'events/*.csv.gz',
        primary_key: ['id'],
        columns: { id: 'bigint', amount: 'decimal(12,2)', created: 'timestamptz' },
      },
    },
  });
}

/** Starts `ferry run`, waits until `committed()` reaches `atLeast`, kills it with SIGKILL. */
async function runAndKill(job: string, dir: string, committed: () => Promise<number>, atLeast: number): Promise<void> {
  const f: FerryChild = startFerry(['run', job], dir);
  const reached = await waitUntil(f, async () => (await committed()) >= atLeast, 10);
  f.child.kill('SIGKILL');
  const res = await f.done;
  expect(reached, `ferry ended before ${atLeast} chunks committed:\n${res.stdout}${res.stderr}`).toBe(true);
  expect(res.signal).toBe('SIGKILL');
}

const CHUNK_WHERE = `stream = 'events' AND chunk_id NOT LIKE '\\_\\_%'`;

/** Committed chunk markers of the stream `events` (0 while the ledger table does not exist yet). */
async function pgCommitted(c: pg.Client): Promise<number> {
  try {
    return (await c.query(`SELECT count(*)::int n FROM public._ferry_chunks WHERE ${CHUNK_WHERE}`)).rows[0].n;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return 0;
    throw err;
  }
}

async function pgStageTables(c: pg.Client): Promise<string[]> {
  return (
    await c.query(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) t FROM information_schema.tables
        WHERE table_name LIKE '\\_ferry\\_stage\\_%' ORDER BY 1`,
    )
  ).rows.map((r) => r.t as string);
}

/**
 * After a kill of a full refresh (PostgreSQL): the target table is not there yet, and the one staging
 * table holds exactly the rows its committed markers count (read in one snapshot). Returns the markers.
 */
async function pgAfterKillFullRefresh(c: pg.Client, db: string): Promise<{ chunks: string[]; rows: number }> {
  await waitNoFerryBackends(c, db);
  const stages = await pgStageTables(c);
  expect(stages).toHaveLength(1);
  const [s] = (
    await c.query(
      `SELECT (SELECT coalesce(array_agg(chunk_id ORDER BY chunk_id), '{}') FROM public._ferry_chunks WHERE ${CHUNK_WHERE}) chunks,
              (SELECT coalesce(sum(rows), 0)::int FROM public._ferry_chunks WHERE ${CHUNK_WHERE}) marked,
              (SELECT count(*)::int FROM ${stages[0]}) staged,
              to_regclass('public.events') IS NULL AS no_target`,
    )
  ).rows;
  expect({ staged: s.staged, noTarget: s.no_target }).toEqual({ staged: s.marked, noTarget: true });
  return { chunks: s.chunks, rows: s.marked };
}

/** The plan's file per chunk id (`ferry plan --json`). */
async function chunkFiles(job: string, dir: string): Promise<Map<string, string>> {
  const plan = await runCli(['plan', job, '--json'], { cwd: dir });
  expect(plan.code, plan.stderr).toBe(0);
  const p = JSON.parse(plan.stdout) as { streams: { chunks: { id: string; part?: { path: string } }[] }[] };
  return new Map(p.streams[0].chunks.map((c) => [c.id, c.part?.path ?? '']));
}

describe('kill -9 mid-load of ~40 gzip CSV files, then reruns', () => {
  let files: GenFile[];
  let expected: Digest;

  beforeAll(() => {
    files = generated();
    expected = expectedDigest(files);
    expect(expected.n).toBe(String(FILES * ROWS_PER_FILE));
  });

  it('PostgreSQL: killed twice, rerun: exactly the files’ rows, no staging table left', async () => {
    const db = 'ferry_lr_kill_pg';
    await freshPgDatabase(db);
    const dir = tempDir('ferry-lr-kill-pg-');
    writeFiles(dir, files);
    const job = eventsJob(dir, pgUrl(db));
    const c = await testClient(db);
    try {
      await runAndKill(job, dir, () => pgCommitted(c), 3);
      const first = await pgAfterKillFullRefresh(c, db);
      expect(first.chunks.length).toBeGreaterThanOrEqual(3);
      expect(first.chunks.length).toBeLessThan(FILES);
      expect(first.rows).toBe(first.chunks.length * ROWS_PER_FILE);

      // The rerun resumes (it keeps the first run's chunks) and is killed again a few chunks later.
      await runAndKill(job, dir, () => pgCommitted(c), first.chunks.length + 3);
      const second = await pgAfterKillFullRefresh(c, db);
      expect(second.chunks).toEqual(expect.arrayContaining(first.chunks));
      expect(second.chunks.length).toBeGreaterThanOrEqual(first.chunks.length + 3);
      expect(second.chunks.length).toBeLessThan(FILES);

      const final = await runCli(['run', job, '--json'], { cwd: dir });
      expect(final.code, final.stderr + final.stdout).toBe(0);
      const ledger = JSON.parse(final.stdout) as LedgerJson;
      expect(ledger.resumed).toBe(true);
      expect(ledger.streams[0]).toMatchObject({
        status: 'ok',
        chunks: FILES,
        chunksResumed: second.chunks.length,
        sourceRows: FILES * ROWS_PER_FILE,
        targetRows: FILES * ROWS_PER_FILE,
        rejects: 0,
      });

      expect(await pgDigestOf(c)).toEqual(expected);
      expect(await pgStageTables(c)).toEqual([]);
      const [pk] = (
        await c.query(
          `SELECT array_agg(a.attname::text) k FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
            WHERE k.conrelid = 'public.events'::regclass AND k.contype = 'p'`,
        )
      ).rows;
      expect(pk.k).toEqual(['id']);
    } finally {
      await c.end();
    }
  }, 60_000);

  it('MariaDB: killed once, rerun: exactly the files’ rows, no staging table left', async () => {
    await withMy(null, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS \`${MY_DB}\``);
      await c.query(`CREATE DATABASE \`${MY_DB}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
    });
    const dir = tempDir('ferry-lr-kill-my-');
    writeFiles(dir, files);
    const job = eventsJob(dir, myUrl(MY_DB));
    await withMy(MY_DB, async (c) => {
      const committed = async () => {
        try {
          const [rows] = (await c.query(
            `SELECT COUNT(*) n FROM _ferry_chunks WHERE stream = 'events' AND chunk_id NOT LIKE '\\_\\_%'`,
          )) as unknown as [{ n: number | string }[]];
          return Number(rows[0].n);
        } catch (err) {
          if ((err as { code?: string }).code === 'ER_NO_SUCH_TABLE') return 0;
          throw err;
        }
      };
      await runAndKill(job, dir, committed, 3);
      // Until the server has dropped the dead client's sessions (their transactions rolled back).
      for (let i = 0; i < 300; i++) {
        const [p] = (await c.query(
          'SELECT COUNT(*) n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
          [MY_DB],
        )) as unknown as [{ n: number | string }[]];
        if (Number(p[0].n) === 0) break;
        await sleep(50);
      }
      const stages = await myStageTables(MY_DB);
      expect(stages).toHaveLength(1);
      const [[s]] = (await c.query(
        `SELECT (SELECT COUNT(*) FROM _ferry_chunks WHERE stream = 'events' AND chunk_id NOT LIKE '\\_\\_%') chunks,
                (SELECT IFNULL(SUM(\`rows\`), 0) FROM _ferry_chunks WHERE stream = 'events' AND chunk_id NOT LIKE '\\_\\_%') marked,
                (SELECT COUNT(*) FROM \`${stages[0]}\`) staged,
                (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events') target`,
      )) as unknown as [
        { chunks: number | string; marked: number | string; staged: number | string; target: number | string }[],
      ];
      const killed = Number(s.chunks);
      expect(killed).toBeGreaterThanOrEqual(3);
      expect(killed).toBeLessThan(FILES);
      expect({ staged: Number(s.staged), target: Number(s.target) }).toEqual({ staged: Number(s.marked), target: 0 });

      const final = await runCli(['run', job, '--json'], { cwd: dir });
      expect(final.code, final.stderr + final.stdout).toBe(0);
      const ledger = JSON.parse(final.stdout) as LedgerJson;
      expect(ledger.resumed).toBe(true);
      expect(ledger.streams[0]).toMatchObject({
        status: 'ok',
        chunks: FILES,
        chunksResumed: killed,
        sourceRows: FILES * ROWS_PER_FILE,
        targetRows: FILES * ROWS_PER_FILE,
        rejects: 0,
      });
    });
    expect(await myDigestOf(MY_DB)).toEqual(expected);
    expect(await myStageTables(MY_DB)).toEqual([]);
  }, 90_000);
});

// ------------------------------------------------------------------------------------------------
// 3. A file changed between the kill and the rerun
// ------------------------------------------------------------------------------------------------

/** Files of the changed-file tests (fewer: what matters there is one file committed, then changed). */
const CHANGED_FILES = 16;

describe('a loaded file rewritten between the kill and the rerun', () => {
  /** Runs, kills after 3 chunks, rewrites the file of a committed chunk with 7,000 other rows. */
  async function killAndRewrite(
    db: string,
    mode: 'full-refresh' | 'append',
  ): Promise<{
    dir: string;
    job: string;
    c: pg.Client;
    before: GenFile[];
    after: GenFile[];
    changed: string;
    committedFiles: string[];
  }> {
    await freshPgDatabase(db);
    const dir = tempDir(`ferry-lr-changed-${mode}-`);
    const before = generated().slice(0, CHANGED_FILES);
    writeFiles(dir, before, FILES_MTIME);
    const job = eventsJob(dir, pgUrl(db), mode);
    const byChunk = await chunkFiles(job, dir);
    expect(byChunk.size).toBe(CHANGED_FILES);
    const c = await testClient(db);
    await runAndKill(job, dir, () => pgCommitted(c), 3);
    await waitNoFerryBackends(c, db);
    const chunks = (
      await c.query(`SELECT chunk_id FROM public._ferry_chunks WHERE ${CHUNK_WHERE} ORDER BY chunk_id`)
    ).rows.map((r) => r.chunk_id as string);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.length).toBeLessThan(CHANGED_FILES);
    const committedFiles = chunks.map((id) => byChunk.get(id)!);
    const changed = committedFiles[1];
    const f = before.findIndex((x) => `events/${x.name}` === changed);
    expect(f).toBeGreaterThanOrEqual(0);
    const replacement = genFile(SEED, f, 7_000, 1);
    expect(replacement.bytes.length).not.toBe(before[f].bytes.length);
    const after = before.map((x, i) => (i === f ? replacement : x));
    writeFiles(dir, [replacement]);
    return { dir, job, c, before, after, changed, committedFiles };
  }

  it('full refresh: the rerun loads the new contents exactly once', async () => {
    const db = 'ferry_lr_changed_full';
    const s = await killAndRewrite(db, 'full-refresh');
    try {
      const final = await runCli(['run', s.job, '--json'], { cwd: s.dir });
      expect(final.code, final.stderr + final.stdout).toBe(0);
      const ledger = JSON.parse(final.stdout) as LedgerJson;
      const total = (CHANGED_FILES - 1) * ROWS_PER_FILE + 7_000;
      expect(ledger.streams[0]).toMatchObject({ status: 'ok', sourceRows: total, targetRows: total, rejects: 0 });
      expect(await pgDigestOf(s.c)).toEqual(expectedDigest(s.after));
      expect(await pgStageTables(s.c)).toEqual([]);
    } finally {
      await s.c.end();
    }
  }, 60_000);

  it('append: the rerun fails naming the changed file, never loads it twice, and completes once it is restored', async () => {
    const db = 'ferry_lr_changed_append';
    const s = await killAndRewrite(db, 'append');
    try {
      // What the killed run committed: the committed files as they were, the changed one included.
      const committedBefore = s.before.filter((f) => s.committedFiles.includes(`events/${f.name}`));
      const atKill = await pgDigestOf(s.c);
      expect(atKill).toEqual(expectedDigest(committedBefore));

      const rerun = await runCli(['run', s.job], { cwd: s.dir });
      expect(rerun.code, rerun.stdout + rerun.stderr).not.toBe(0);
      expect(rerun.code).not.toBeNull();
      expect(rerun.stdout + rerun.stderr).toContain(s.changed);

      // Nothing of the changed file loaded again (old rows once, new rows not at all); no duplicate id.
      const now = await pgDigestOf(s.c);
      expect(now.n).toBe(now.distinct);
      const changedGroup = s.before.findIndex((f) => `events/${f.name}` === s.changed);
      const oldGroup = atKill.groups.find((g) => g.g === changedGroup);
      expect(oldGroup?.n).toBe(ROWS_PER_FILE);
      expect(now.groups.find((g) => g.g === changedGroup)).toEqual(oldGroup);
      // Anything else the rerun may have added is whole files, as they are now.
      const present = new Set(now.groups.map((g) => g.g));
      expect(now).toEqual(
        expectedDigest([
          ...committedBefore,
          ...s.after.filter((f) => present.has(f.g) && !s.committedFiles.includes(`events/${f.name}`)),
        ]),
      );
      // A second rerun still refuses, naming the file (the refusal is not forgotten), and the file is
      // still in the target once, as it was.
      const again = await runCli(['run', s.job], { cwd: s.dir });
      expect(again.code, again.stdout + again.stderr).not.toBe(0);
      expect(again.stdout + again.stderr).toContain(s.changed);
      const later = await pgDigestOf(s.c);
      expect(later.n).toBe(later.distinct);
      expect(later.groups.find((g) => g.g === changedGroup)).toEqual(oldGroup);

      // As the hint says: the file restored (bytes and modification time, as `cp -p` or a backup
      // tool would), the rerun completes, every file's rows exactly once.
      writeFiles(s.dir, [s.before[changedGroup]], FILES_MTIME);
      const restored = await runCli(['run', s.job, '--json'], { cwd: s.dir });
      expect(restored.code, restored.stdout + restored.stderr).toBe(0);
      expect(await pgDigestOf(s.c)).toEqual(expectedDigest(s.before));
    } finally {
      await s.c.end();
    }
  }, 60_000);
});
