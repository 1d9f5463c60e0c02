/**
 * Fault test: while `ferry run` is loading, its database sessions are terminated from outside
 * (`pg_terminate_backend`), on the target and on the source, mid-COPY. The run must recover by
 * itself (transient errors retried per chunk) and end with exit 0, retries in the ledger, and a
 * target equal to the source (digests computed by the databases), with no duplicate key.
 *
 * Needs the built CLI (`npm run build`) and the PostgreSQL at 127.0.0.1:5432.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Ledger } from '../src/engine/executor.js';
import { freshPgDatabase, tempDir as makeTempDir, pgQuery, pgUrl, writeJob } from './helpers/env.js';
import {
  BIG_BUCKET,
  BIG_KEY,
  BIG_ROW_PG,
  BIG_ROW_PG_PORTABLE,
  BIG_ROW_SQLITE,
  createBigTable,
  createPairsTable,
  type Digest,
  type FerryChild,
  faultSeed,
  isChunkMarker,
  type Marker,
  PAIRS_BUCKET,
  PAIRS_KEY,
  PAIRS_ROW_PG,
  pgDigest,
  pgMarkers,
  rng,
  sqliteDigest,
  sqliteMarkers,
  startFerry,
  testClient,
  waitUntil,
} from './helpers/faults.js';

/** Job folders of this file (removed at the end unless FERRY_FAULT_KEEP is set). */
const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  dirs.push(dir);
  return dir;
}

const SEED = faultSeed('fault-terminate');
const SRC = 'ferry_fault_term_src';
const BIG_ROWS = 400_000;
const PAIRS_ROWS = 100_000;
const TAGGED_ROWS = 200_000;
/** A run that neither ends nor fails within this time is hung. */
const HANG_MS = 60_000;

let src: pg.Client;
const srcDigest: Record<string, Digest> = {};

beforeAll(async () => {
  const t0 = Date.now();
  await freshPgDatabase(SRC);
  src = await testClient(SRC);
  await createBigTable(src, BIG_ROWS);
  // A secondary index: the finalising step of a full refresh builds it (another statement to cut).
  await src.query('CREATE INDEX big_u_idx ON public.big (u)');
  await createPairsTable(src, PAIRS_ROWS);
  // An enum column is read as text: the stream cannot pass bytes through and takes the row path.
  await src.query(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'a "quoted" mood')`);
  await src.query(`CREATE TABLE public.tagged (id bigint PRIMARY KEY, m mood, amount numeric(18,6), note text)`);
  await src.query(`INSERT INTO public.tagged
    SELECT i, (enum_range(NULL::mood))[1 + i % 4], CASE WHEN i % 11 = 0 THEN NULL ELSE i * 1.000001 END,
           CASE WHEN i % 3 = 0 THEN E'n\\t\t' || i ELSE repeat('y', (i % 40)::int) END
      FROM generate_series(1::bigint, ${TAGGED_ROWS}) AS g(i)`);
  await src.query('ANALYZE public.tagged');
  srcDigest.tagged = await pgDigest(src, 'public.tagged', ['id'], 'x::text', 'id / 10000');
  srcDigest.big = await pgDigest(src, 'public.big', BIG_KEY, BIG_ROW_PG, BIG_BUCKET);
  srcDigest.pairs = await pgDigest(src, 'public.pairs', PAIRS_KEY, PAIRS_ROW_PG, PAIRS_BUCKET);
  srcDigest.bigPortable = await pgDigest(src, 'public.big', BIG_KEY, BIG_ROW_PG_PORTABLE, BIG_BUCKET);
  console.log(`[fault-terminate] source ready in ${Date.now() - t0} ms`);
});

afterAll(async () => {
  await src?.end();
  if (!process.env.FERRY_FAULT_KEEP) {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    for (const db of [SRC, 'ferry_fault_term_tgt', 'ferry_fault_term_rows']) {
      await pgQuery('postgres', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    }
  }
});

interface Cut {
  side: 'source' | 'target';
  /** Cut once at least this many chunk markers are committed... */
  afterChunks: number;
  /** ...and a session of ferry on that side runs a statement matching this (e.g. a COPY). */
  busy: RegExp;
}

interface CutRecord {
  side: string;
  afterChunks: number;
  terminated: number;
  busy: string[];
  ms: number;
}

/**
 * Terminates ferry's sessions on one database: every session of the ferry process
 * (application_name `ferry ...`), once one of them runs a statement matching `busy`.
 */
async function cutWhenBusy(client: pg.Client, db: string, busy: RegExp, f: FerryChild): Promise<string[] | null> {
  let active: string[] = [];
  const ok = await waitUntil(
    f,
    async () => {
      const r = await client.query(
        `SELECT query FROM pg_stat_activity
          WHERE datname = $1 AND application_name LIKE 'ferry%' AND pid <> pg_backend_pid() AND state = 'active'`,
        [db],
      );
      active = r.rows.map((x) => x.query as string).filter((q) => busy.test(q));
      return active.length > 0;
    },
    2,
  );
  if (!ok) return null;
  const r = await client.query(
    `SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity
      WHERE datname = $1 AND application_name LIKE 'ferry%' AND pid <> pg_backend_pid()`,
    [db],
  );
  const n = r.rows.filter((x) => x.t === true).length;
  return n > 0 ? active.map((q) => q.replace(/\s+/g, ' ').slice(0, 50)) : null;
}

/** Runs the job as a child process and applies the cuts in order while it runs. */
async function runWithCuts(
  name: string,
  jobFile: string,
  cuts: Cut[],
  markers: () => Promise<Marker[]>,
  clients: { source: pg.Client; target?: pg.Client; targetDb?: string },
): Promise<{ ledger: Ledger; records: CutRecord[]; ms: number }> {
  const t0 = Date.now();
  const f = startFerry(['run', jobFile, '--no-progress', '--json'], path.dirname(jobFile));
  const hang = setTimeout(() => f.child.kill('SIGKILL'), HANG_MS);
  const records: CutRecord[] = [];
  try {
    for (const cut of cuts) {
      const reached = await waitUntil(f, async () => (await markers()).filter(isChunkMarker).length >= cut.afterChunks);
      const client = cut.side === 'source' ? clients.source : (clients.target as pg.Client);
      const db = cut.side === 'source' ? SRC : (clients.targetDb as string);
      const busy = reached ? await cutWhenBusy(client, db, cut.busy, f) : null;
      if (!busy) {
        const res = await f.done;
        throw new Error(
          `[${name}] the run ended before the ${cut.side} cut after ${cut.afterChunks} chunks (code ${res.code}); seed ${SEED}\n${res.stderr}`,
        );
      }
      records.push({
        side: cut.side,
        afterChunks: cut.afterChunks,
        terminated: busy.length,
        busy,
        ms: Date.now() - t0,
      });
      console.log(
        `[${name}] +${Date.now() - t0} ms: terminated ferry's ${cut.side} sessions (>= ${cut.afterChunks} chunks committed) while running: ${busy.join(' | ')}`,
      );
    }
    const res = await f.done;
    if (res.signal === 'SIGKILL') throw new Error(`[${name}] the run hung (no end after ${HANG_MS} ms); seed ${SEED}`);
    if (res.code !== 0) console.log(`[${name}] run: code ${res.code}\n${res.stdout}\n${res.stderr}`);
    expect(res.code, res.stderr).toBe(0);
    return { ledger: JSON.parse(res.stdout) as Ledger, records, ms: Date.now() - t0 };
  } finally {
    clearTimeout(hang);
    if (!f.exited()) f.child.kill('SIGKILL');
  }
}

function checkLedger(ledger: Ledger, rows: Record<string, number>): void {
  expect(ledger.status).toBe('ok');
  expect(ledger.resumed).toBe(false);
  for (const [stream, n] of Object.entries(rows)) {
    const line = ledger.streams.find((l) => l.stream === stream);
    expect(line?.status, `${stream}: ${line?.error}`).toBe('ok');
    expect(line?.sourceRows).toBe(n);
    expect(line?.rowsWritten).toBe(n);
    expect(line?.targetRows).toBe(n);
  }
  const retries = ledger.streams.reduce((a, l) => a + l.retries, 0);
  expect(retries, 'chunks retried after their sessions were terminated').toBeGreaterThan(0);
}

function summary(ledger: Ledger): string {
  return ledger.streams
    .map(
      (l) =>
        `${l.stream}: ${l.chunks} chunks, ${l.retries} retries, ${l.rowsWritten} rows, pass-through ${l.passThrough}`,
    )
    .join('; ');
}

describe('connections terminated mid-run: the run completes by itself', () => {
  test('PostgreSQL -> PostgreSQL (binary pass-through), target sessions cut 4 times, source sessions once', async () => {
    const db = 'ferry_fault_term_tgt';
    await freshPgDatabase(db);
    const dir = tempDir('ferry-fault-term-');
    const jobFile = writeJob(
      dir,
      {
        source: pgUrl(SRC),
        target: pgUrl(db),
        // Attempts: a chunk in flight can be hit by several of the cuts below.
        defaults: { mode: 'full-refresh', chunk_rows: 10_000, parallel: 4, max_attempts: 10 },
        streams: { 'public.big': null, 'public.pairs': null },
      },
      'term-pg.yaml',
    );
    const r = rng(SEED ^ 0x4004);
    const at = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    // ~40 + ~10 chunks. Target cuts while rows are copied in; one source cut mid-COPY TO (the
    // pass-through's reading side); a last target cut while the key or index is built or the
    // staging table swapped in.
    const copyIn = /^COPY .* FROM STDIN/i;
    const cuts: Cut[] = [
      { side: 'target', afterChunks: at(1, 3), busy: copyIn },
      { side: 'source', afterChunks: at(6, 10), busy: /^COPY \(SELECT/i },
      { side: 'target', afterChunks: at(13, 18), busy: copyIn },
      { side: 'target', afterChunks: at(22, 28), busy: copyIn },
      { side: 'target', afterChunks: at(30, 34), busy: copyIn },
      // Finalising: the primary key or the secondary index being built on a staging table.
      { side: 'target', afterChunks: 0, busy: /ADD CONSTRAINT|CREATE (UNIQUE )?INDEX/i },
    ];
    const target = await testClient(db);
    try {
      const { ledger, records, ms } = await runWithCuts('pg->pg', jobFile, cuts, () => pgMarkers(target), {
        source: src,
        target,
        targetDb: db,
      });
      expect(records.length).toBe(cuts.length);
      checkLedger(ledger, { 'public.big': BIG_ROWS, 'public.pairs': PAIRS_ROWS });
      for (const l of ledger.streams) expect(l.passThrough).toBe('postgres-copydata');
      const big = await pgDigest(target, 'public.big', BIG_KEY, BIG_ROW_PG, BIG_BUCKET);
      expect(big.duplicateKeys).toBe(0);
      expect(big).toEqual(srcDigest.big);
      expect(await pgDigest(target, 'public.pairs', PAIRS_KEY, PAIRS_ROW_PG, PAIRS_BUCKET)).toEqual(srcDigest.pairs);
      // One marker per chunk, no staging table left, the index was built.
      const m = await pgMarkers(target);
      for (const l of ledger.streams) {
        expect(m.filter((x) => x.stream === l.stream && isChunkMarker(x)).length).toBe(l.chunks);
      }
      const staged = await target.query(`SELECT relname FROM pg_class WHERE relname LIKE '\\_ferry\\_stage\\_%'`);
      expect(staged.rows).toEqual([]);
      const idx = await target.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'big' ORDER BY 1`);
      expect(idx.rows.map((x) => x.indexname)).toEqual(['big_pkey', 'big_u_idx']);
      // The finalising step that was cut was retried (steps outside chunks log `step-retry`).
      const log = readFileSync(ledger.logFile as string, 'utf8');
      expect(log).toMatch(/"event":"step-retry","stream":"[^"]+","step":"swap"/);
      console.log(`[pg->pg] done in ${ms} ms; ${summary(ledger)}`);
    } finally {
      await target.end();
    }
  });

  test('PostgreSQL -> PostgreSQL row path (enum read as text), target sessions cut 3 times, source once', async () => {
    const db = 'ferry_fault_term_rows';
    await freshPgDatabase(db);
    const dir = tempDir('ferry-fault-term-');
    const jobFile = writeJob(
      dir,
      {
        source: pgUrl(SRC),
        target: pgUrl(db),
        defaults: { mode: 'append', chunk_rows: 10_000, parallel: 4, max_attempts: 10 },
        streams: { 'public.tagged': null },
      },
      'term-rows.yaml',
    );
    const r = rng(SEED ^ 0x6006);
    const at = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const copyIn = /^COPY .* FROM STDIN/i;
    const cuts: Cut[] = [
      { side: 'target', afterChunks: at(1, 3), busy: copyIn },
      { side: 'source', afterChunks: at(5, 7), busy: /^COPY \(SELECT/i },
      { side: 'target', afterChunks: at(9, 12), busy: copyIn },
      { side: 'target', afterChunks: at(14, 16), busy: copyIn },
    ];
    const target = await testClient(db);
    try {
      const { ledger, ms } = await runWithCuts('pg->pg rows', jobFile, cuts, () => pgMarkers(target), {
        source: src,
        target,
        targetDb: db,
      });
      checkLedger(ledger, { 'public.tagged': TAGGED_ROWS });
      expect(ledger.streams[0].passThrough).toBeNull();
      const tagged = await pgDigest(target, 'public.tagged', ['id'], 'x::text', 'id / 10000');
      expect(tagged.duplicateKeys).toBe(0);
      expect(tagged).toEqual(srcDigest.tagged);
      console.log(`[pg->pg rows] done in ${ms} ms; ${summary(ledger)}`);
    } finally {
      await target.end();
    }
  });

  test('PostgreSQL -> SQLite (row path), source sessions cut 3 times mid-COPY', async () => {
    const dir = tempDir('ferry-fault-term-');
    const file = path.join(dir, 'target.db');
    const jobFile = writeJob(
      dir,
      {
        source: pgUrl(SRC),
        target: 'sqlite:target.db',
        defaults: { mode: 'full-refresh', chunk_rows: 10_000, parallel: 4, max_attempts: 10 },
        streams: { 'public.big': null },
      },
      'term-sqlite.yaml',
    );
    const r = rng(SEED ^ 0x5005);
    const at = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const copyOut = /^COPY \(SELECT/i;
    const cuts: Cut[] = [
      { side: 'source', afterChunks: at(1, 4), busy: copyOut },
      { side: 'source', afterChunks: at(10, 16), busy: copyOut },
      { side: 'source', afterChunks: at(22, 30), busy: copyOut },
    ];
    const { ledger, ms } = await runWithCuts('pg->sqlite', jobFile, cuts, async () => sqliteMarkers(file), {
      source: src,
    });
    checkLedger(ledger, { 'public.big': BIG_ROWS });
    expect(ledger.streams[0].passThrough).toBeNull();
    const big = sqliteDigest(file, 'big', BIG_KEY, BIG_ROW_SQLITE, BIG_BUCKET);
    expect(big.duplicateKeys).toBe(0);
    expect(big).toEqual(srcDigest.bigPortable);
    console.log(`[pg->sqlite] done in ${ms} ms; ${summary(ledger)}`);
  });
});
