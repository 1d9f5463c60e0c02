/**
 * Shared test helpers: real servers on 127.0.0.1 only (PostgreSQL from FERRY_TEST_PG_URL or the
 * local default), temporary folders, job files, and the CLI run as a child process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DATASETS = path.resolve(ROOT, '..', 'shared', 'datasets');
export const FERRY_BIN = path.join(ROOT, 'bin', 'ferry.js');

/** Base URL of the test PostgreSQL server (no database part). */
export const PG_BASE = (process.env.FERRY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/$/, '');

export function pgUrl(db: string): string {
  return `${PG_BASE}/${db}`;
}

/** Runs SQL on a database; returns rows. Opens and closes its own connection. */
export async function pgQuery<R = Record<string, unknown>>(
  db: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: pgUrl(db), options: '-c TimeZone=UTC' });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** (Re)creates an empty database and returns its URL. */
export async function freshPgDatabase(name: string): Promise<string> {
  await pgQuery('postgres', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await pgQuery('postgres', `CREATE DATABASE "${name}"`);
  return pgUrl(name);
}

export function tempDir(prefix = 'ferry-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Writes a job file (YAML) into a folder and returns its path. */
export function writeJob(dir: string, job: unknown, name = 'job.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof job === 'string' ? job : stringify(job));
  return file;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `ferry ...args` as a child process (the built CLI in dist/). */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FERRY_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
