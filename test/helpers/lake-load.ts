/**
 * Helpers for test/lake-load-corpora.test.ts (a files source loaded into PostgreSQL and MariaDB).
 *
 * Everything that produces input or expectations here is written independently of ferry's own
 * code: the CSV encoder, the Windows-1252 encoder, zstd (the `zstd` CLI, or the zstd-wasm
 * library when the CLI is missing), and the expected tables (pgloader's COPY-text `.out` files
 * loaded with the driver's COPY FROM STDIN, as `psql \copy` does).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { type CliResult, pgUrl, runCli, writeJob } from './env.js';
import { myUrl, withMy } from './mysql.js';

// ------------------------------------------------------------------------------------------------
// Databases
// ------------------------------------------------------------------------------------------------

/** (Re)creates an empty MariaDB database named `ferry_ll_*`; returns its URL. */
export async function freshLlMyDatabase(name: string): Promise<string> {
  if (!/^ferry_ll_[a-z0-9_]+$/.test(name)) throw new Error(`this test's databases are named ferry_ll_*: ${name}`);
  await withMy(null, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  });
  return myUrl(name);
}

/** Rows of one MariaDB query (strings for every value: dateStrings, bigNumberStrings). */
export async function myRows<R = Record<string, unknown>>(
  db: string,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  return withMy(db, async (c) => (await c.query({ sql, values }))[0] as R[]);
}

/** Loads a PostgreSQL COPY-text file into a table with COPY FROM STDIN (what `psql \copy` does). */
export async function copyTextInto(db: string, table: string, file: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl(db) });
  await c.connect();
  try {
    await pipeline(createReadStream(file), c.query(copyFrom(`COPY ${table} FROM STDIN`)));
  } finally {
    await c.end();
  }
}

/** `"name"` for PostgreSQL, quotes doubled. */
export function pgId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `` `name` `` for MariaDB, backquotes doubled. */
export function myId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

// ------------------------------------------------------------------------------------------------
// Running ferry
// ------------------------------------------------------------------------------------------------

export interface LedgerStream {
  stream: string;
  target: string;
  status: string;
  sourceRows: number | null;
  targetRows: number | null;
  rowsWritten: number;
  rejects: number;
  policyCounts: Record<string, number>;
  rejectsFile?: string;
  error?: string;
}

export interface Ledger {
  status: string;
  streams: LedgerStream[];
}

export interface JobRun {
  cli: CliResult;
  /** The ledger `ferry run --json` printed (null when it printed none, e.g. a config error). */
  ledger: Ledger | null;
  stream(name: string): LedgerStream;
}

/**
 * Writes the job into `dir` as `<name>.yaml` and runs `ferry run <job> --json`. Jobs sharing a
 * folder (and so a source `file:./in`) get their own names, so each has its own state store.
 */
export async function runJob(
  dir: string,
  job: unknown,
  env: Record<string, string> = {},
  name = 'job',
): Promise<JobRun> {
  const file = writeJob(dir, job, `${name}.yaml`);
  const cli = await runCli(['run', file, '--json'], { cwd: dir, env });
  let ledger: Ledger | null = null;
  try {
    ledger = JSON.parse(cli.stdout) as Ledger;
  } catch {
    ledger = null;
  }
  return {
    cli,
    ledger,
    stream(name) {
      const s = ledger?.streams.find((x) => x.stream === name);
      if (!s) {
        throw new Error(`no ledger line for ${name}\nexit ${cli.code}\nstdout: ${cli.stdout}\nstderr: ${cli.stderr}`);
      }
      return s;
    },
  };
}

/** What the CLI said, for assertion messages. */
export function said(r: JobRun): string {
  return `exit ${r.cli.code}\nstdout: ${r.cli.stdout.slice(0, 4000)}\nstderr: ${r.cli.stderr.slice(0, 4000)}`;
}

export interface RejectLine {
  stream: string;
  chunk: string;
  key: unknown[];
  column: string;
  value: unknown;
  reason: string;
  policy: string;
  file: string;
}

/** The stream's rejects file (JSON lines); [] when the ledger names none. */
export function readRejects(s: LedgerStream): RejectLine[] {
  if (!s.rejectsFile) return [];
  return readFileSync(s.rejectsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RejectLine);
}

// ------------------------------------------------------------------------------------------------
// Writing input files
// ------------------------------------------------------------------------------------------------

/**
 * One RFC 4180 field: quoted (quotes doubled) when it holds the delimiter, a quote, CR or LF, or
 * is empty (so that it is the empty string, not the null marker); otherwise as it is, blanks and
 * all. `null` is the unquoted empty field.
 */
export function csvField(v: string | null, delimiter = ','): string {
  if (v === null) return '';
  if (v === '' || v.includes(delimiter) || /["\r\n]/.test(v)) return `"${v.replace(/"/g, '""')}"`;
  return v;
}

/** CSV text: a header line and one line per row, each ended by `\n`. */
export function csvText(header: string[], rows: (string | null)[][]): string {
  return [header, ...rows].map((r) => `${r.map((v) => csvField(v)).join(',')}\n`).join('');
}

/** Windows-1252 bytes 0x80-0x9F that are defined (0x81, 0x8D, 0x8F, 0x90, 0x9D are not). */
const CP1252_HIGH = new Map<number, number>([
  [0x20ac, 0x80],
  [0x201a, 0x82],
  [0x0192, 0x83],
  [0x201e, 0x84],
  [0x2026, 0x85],
  [0x2020, 0x86],
  [0x2021, 0x87],
  [0x02c6, 0x88],
  [0x2030, 0x89],
  [0x0160, 0x8a],
  [0x2039, 0x8b],
  [0x0152, 0x8c],
  [0x017d, 0x8e],
  [0x2018, 0x91],
  [0x2019, 0x92],
  [0x201c, 0x93],
  [0x201d, 0x94],
  [0x2022, 0x95],
  [0x2013, 0x96],
  [0x2014, 0x97],
  [0x02dc, 0x98],
  [0x2122, 0x99],
  [0x0161, 0x9a],
  [0x203a, 0x9b],
  [0x0153, 0x9c],
  [0x017e, 0x9e],
  [0x0178, 0x9f],
]);

/** The string in Windows-1252, or null if a character has no byte there. */
export function encodeCp1252(s: string): Buffer | null {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff)) out.push(cp);
    else if (CP1252_HIGH.has(cp)) out.push(CP1252_HIGH.get(cp)!);
    else return null;
  }
  return Buffer.from(out);
}

let zstdCli: boolean | undefined;

/** zstd-compressed bytes (one frame): the `zstd` CLI, or @bokuweb/zstd-wasm without it. */
export async function zstdCompress(data: Buffer): Promise<Buffer> {
  if (zstdCli === undefined) {
    try {
      execFileSync('zstd', ['--version'], { stdio: 'ignore' });
      zstdCli = true;
    } catch {
      zstdCli = false;
    }
  }
  if (zstdCli) return execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 512 * 1024 * 1024 });
  const z = await import('@bokuweb/zstd-wasm');
  await z.init();
  return Buffer.from(z.compress(data, 3));
}
