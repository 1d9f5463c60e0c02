/**
 * Fault test: `ferry run` killed with SIGKILL at random moments (seeded, printed), rerun, killed
 * again, ... then a final rerun. The result must be exact: every source row once, equal by content
 * (digests computed by the databases), no duplicate key, committed chunks never redone (their
 * markers keep their commit time, their attempt counts in the state store do not move), the final
 * ledger ok with resumed chunks, no staging table left.
 *
 * Needs the built CLI (`npm run build`) and the PostgreSQL at 127.0.0.1:5432.
 */

import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
  between,
  createBigTable,
  createPairsTable,
  type Digest,
  faultSeed,
  isChunkMarker,
  type Marker,
  markerKey,
  PAIRS_BUCKET,
  PAIRS_KEY,
  PAIRS_ROW_PG,
  PAIRS_ROW_PG_PORTABLE,
  PAIRS_ROW_SQLITE,
  pgDigest,
  pgMarkers,
  rng,
  type StateChunk,
  sleep,
  sqliteDigest,
  sqliteMarkers,
  startFerry,
  stateChunks,
  testClient,
  waitNoFerryBackends,
  waitUntil,
} from './helpers/faults.js';

/** Job folders of this file (removed at the end unless FERRY_FAULT_KEEP is set). */
const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = makeTempDir(prefix);
  dirs.push(dir);
  return dir;
}

const SEED = faultSeed('fault-kill');
const SRC = 'ferry_fault_kill_src';
const BIG_ROWS = 1_000_000;
const PAIRS_ROWS = 200_000;
const KILLS = 4;

let src: pg.Client;
/** Digests of the source, computed once: whole-row text (PG -> PG) and portable text (PG -> SQLite). */
const srcDigest: Record<string, Digest> = {};

beforeAll(async () => {
  const t0 = Date.now();
  await freshPgDatabase(SRC);
  src = await testClient(SRC);
  await createBigTable(src, BIG_ROWS);
  await createPairsTable(src, PAIRS_ROWS);
  srcDigest.big = await pgDigest(src, 'public.big', BIG_KEY, BIG_ROW_PG, BIG_BUCKET);
  srcDigest.pairs = await pgDigest(src, 'public.pairs', PAIRS_KEY, PAIRS_ROW_PG, PAIRS_BUCKET);
  srcDigest.bigPortable = await pgDigest(src, 'public.big', BIG_KEY, BIG_ROW_PG_PORTABLE, BIG_BUCKET);
  srcDigest.pairsPortable = await pgDigest(src, 'public.pairs', PAIRS_KEY, PAIRS_ROW_PG_PORTABLE, PAIRS_BUCKET);
  expect(srcDigest.big.rows).toBe(BIG_ROWS);
  expect(srcDigest.pairs.rows).toBe(PAIRS_ROWS);
  console.log(`[fault-kill] source ready in ${Date.now() - t0} ms`);
});

afterAll(async () => {
  await src?.end();
  if (!process.env.FERRY_FAULT_KEEP) {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    for (const db of [SRC, 'ferry_fault_kill_fr', 'ferry_fault_kill_ap']) {
      await pgQuery('postgres', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    }
  }
});

/** Where a kill happens. */
type Moment =
  | { kind: 'chunks'; atLeast: number }
  | { kind: 'time'; ms: number }
  | { kind: 'stream-loaded'; stream: string; delayMs: number };

function describeMoment(m: Moment): string {
  if (m.kind === 'chunks') return `once >= ${m.atLeast} chunk markers are committed`;
  if (m.kind === 'time') return `${m.ms} ms after start`;
  return `${m.delayMs} ms after the last chunk of ${m.stream} committed (finalising: key build / swap)`;
}

interface TargetSide {
  markers(): Promise<Marker[]>;
  /** After a kill: waits until the dead process has no session left. */
  settle(): Promise<void>;
  /** What ferry's sessions are doing right now (for the log). */
  activity(): Promise<string>;
}

interface Scenario {
  name: string;
  jobFile: string;
  stateDb: string;
  target: TargetSide;
  /** Streams and whether their final step is a swap (full refresh) or not (append). */
  streams: Record<string, 'full-refresh' | 'append'>;
  r: () => number;
  /** Whether the last kill aims at the finalising step (key build and swap) of a full refresh. */
  lateAtSwap: boolean;
}

interface KillRecord {
  /** When the process was started and killed (ms since 1970, the clock ferry's log uses too). */
  startedAt: number;
  killedAt: number;
  moment: string;
  markers: Marker[];
  state: StateChunk[];
  activity: string;
}

/**
 * Runs the job, kills it at KILLS moments (one process per kill), then runs it to the end.
 * Returns the records of the kills and the final ledger.
 */
async function killAndRerun(s: Scenario): Promise<{ kills: KillRecord[]; ledger: Ledger; ms: number }> {
  const t0 = Date.now();
  const kills: KillRecord[] = [];
  let totals: Record<string, number> = {};
  const chunkMarkers = async () => (await s.target.markers()).filter(isChunkMarker);

  for (let k = 0; k < KILLS; k++) {
    const done = (await chunkMarkers()).length;
    const all = Object.values(totals).reduce((a, b) => a + b, 0);
    let moment: Moment;
    if (k === 0) {
      // Early: the first 1-3 chunks have committed.
      moment = { kind: 'chunks', atLeast: between(s.r, 1, 3) };
    } else if (k === 1) {
      // Anywhere from process start-up (connect, resume) to well into loading.
      moment = { kind: 'time', ms: between(s.r, 60, 600) };
    } else if (k === 2) {
      // Middle: a random share of what is left.
      const left = all - done;
      moment = { kind: 'chunks', atLeast: done + Math.max(1, Math.floor(left * (0.2 + 0.4 * s.r()))) };
    } else {
      // Late. PostgreSQL full refresh: right after the big stream's last chunk, while its key is
      // built and the staging table swapped in. Otherwise (append; SQLite, whose swap is a mere
      // rename): a few chunks before the end.
      const fr = s.lateAtSwap ? Object.entries(s.streams).find(([, mode]) => mode === 'full-refresh') : undefined;
      moment = fr
        ? { kind: 'stream-loaded', stream: fr[0], delayMs: between(s.r, 0, 40) }
        : { kind: 'chunks', atLeast: Math.max(done + 1, all - between(s.r, 1, 3)) };
    }

    const f = startFerry(['run', s.jobFile, '--no-progress'], path.dirname(s.jobFile));
    const started = Date.now();
    let reached: boolean;
    if (moment.kind === 'time') {
      const m = moment;
      reached = await waitUntil(f, async () => Date.now() - started >= m.ms, 5);
    } else if (moment.kind === 'chunks') {
      const m = moment;
      reached = await waitUntil(f, async () => (await chunkMarkers()).length >= m.atLeast);
    } else {
      const m = moment;
      reached = await waitUntil(
        f,
        async () => (await chunkMarkers()).filter((x) => x.stream === m.stream).length >= totals[m.stream],
      );
      if (reached) await sleep(m.delayMs);
    }
    const activity = await s.target.activity();
    const killedAt = Date.now();
    f.child.kill('SIGKILL');
    const res = await f.done;
    const what = describeMoment(moment);
    if (!reached || res.signal !== 'SIGKILL') {
      throw new Error(
        `[${s.name}] kill ${k + 1} (${what}) came too late: ferry ended by itself (code ${res.code}); seed ${SEED}\n${res.stderr}`,
      );
    }
    await s.target.settle();
    const markers = await s.target.markers();
    const state = stateChunks(s.stateDb);
    kills.push({ startedAt: started, killedAt, moment: what, markers, state, activity });
    const runs = new Set(state.map((c) => c.run_id));
    if (k === 0) {
      // The first kill came after chunks committed: the run and its plan are in the state store.
      expect(runs.size).toBe(1);
      totals = {};
      for (const c of state) totals[c.stream] = (totals[c.stream] ?? 0) + 1;
    }
    const swapped = markers.filter((x) => !isChunkMarker(x)).map((x) => `${x.stream}:${x.chunk_id}`);
    console.log(
      `[${s.name}] kill ${k + 1} after ${Date.now() - started} ms, ${what}: ${markers.filter(isChunkMarker).length}/${Object.values(totals).reduce((a, b) => a + b, 0)} chunks committed${swapped.length ? `, final markers ${swapped.join(' ')}` : ''}; ferry was doing: ${activity || '-'}`,
    );
  }

  const final = startFerry(['run', s.jobFile, '--no-progress', '--json'], path.dirname(s.jobFile));
  const res = await final.done;
  if (res.code !== 0) console.log(`[${s.name}] final run: code ${res.code}\n${res.stdout}\n${res.stderr}`);
  expect(res.code, res.stderr).toBe(0);
  const ledger = JSON.parse(res.stdout) as Ledger;
  return { kills, ledger, ms: Date.now() - t0 };
}

/** The checks every scenario shares: ledger, markers never rewritten, chunks never redone. */
async function checkRunHistory(s: Scenario, kills: KillRecord[], ledger: Ledger): Promise<void> {
  expect(ledger.status).toBe('ok');
  expect(ledger.resumed).toBe(true);
  const last = kills[kills.length - 1];
  const finalMarkers = await s.target.markers();
  const finalState = stateChunks(s.stateDb);
  // One run, from the first process to the last.
  expect(new Set(finalState.map((c) => c.run_id)).size).toBe(1);
  expect(new Set(finalMarkers.map((m) => m.run_id))).toEqual(new Set([ledger.runId]));

  let resumedTotal = 0;
  for (const [stream, mode] of Object.entries(s.streams)) {
    const line = ledger.streams.find((x) => x.stream === stream);
    expect(line, stream).toBeDefined();
    if (!line) continue;
    expect(line.status, `${stream}: ${line.error}`).toBe('ok');
    expect(line.mode).toBe(mode);
    expect(line.sourceRows).toBe(stream === 'public.big' ? BIG_ROWS : PAIRS_ROWS);
    expect(line.rowsWritten).toBe(line.sourceRows);
    expect(line.targetRows).toBe(line.sourceRows);
    // Resumed = the chunks committed before the final rerun (all of them if the stream had finished).
    const before = last.markers.filter((m) => m.stream === stream);
    const finishedBefore = before.some((m) => !isChunkMarker(m));
    expect(line.chunksResumed).toBe(finishedBefore ? line.chunks : before.filter(isChunkMarker).length);
    resumedTotal += line.chunksResumed;
    // Every chunk has exactly one marker, and the markers add up to the source.
    const mine = finalMarkers.filter((m) => m.stream === stream && isChunkMarker(m));
    expect(mine.length).toBe(line.chunks);
    expect(mine.reduce((a, m) => a + Number(m.rows), 0)).toBe(line.sourceRows);
    expect(finalMarkers.filter((m) => m.stream === stream && !isChunkMarker(m)).map((m) => m.chunk_id)).toEqual([
      mode === 'full-refresh' ? '__swapped__' : '__done__',
    ]);
    // The state store agrees: every chunk done.
    const states = finalState.filter((c) => c.stream === stream);
    expect(states.length).toBe(line.chunks);
    expect(states.filter((c) => c.status !== 'done')).toEqual([]);
  }
  expect(resumedTotal).toBeGreaterThan(0);

  // Committed chunks were not redone: each marker seen after a kill is still there, unchanged
  // (same commit time, same rows), and the chunk's attempt count did not move afterwards.
  const finalByKey = new Map(finalMarkers.map((m) => [markerKey(m), m]));
  const finalStateByKey = new Map(finalState.map((c) => [markerKey(c), c]));
  let checked = 0;
  for (const [i, kill] of kills.entries()) {
    const stateByKey = new Map(kill.state.map((c) => [markerKey(c), c]));
    for (const m of kill.markers) {
      const now = finalByKey.get(markerKey(m));
      expect(now, `marker ${markerKey(m)} seen after kill ${i + 1} is gone`).toBeDefined();
      expect(now?.committed_at, `marker ${markerKey(m)} was rewritten`).toBe(m.committed_at);
      expect(Number(now?.rows)).toBe(Number(m.rows));
      if (!isChunkMarker(m)) continue;
      const then = stateByKey.get(markerKey(m));
      expect(then, `state of ${markerKey(m)} after kill ${i + 1}`).toBeDefined();
      expect(then?.attempts ?? 0).toBeGreaterThan(0);
      expect(finalStateByKey.get(markerKey(m))?.attempts, `chunk ${markerKey(m)} was started again`).toBe(
        then?.attempts,
      );
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(0);

  // Every rerun that got as far as loading resumed exactly the chunks committed before it (its
  // `stream-start` log lines), and did not restart a stream that had already finished.
  const log = readFileSync(ledger.logFile as string, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { ts: string; event: string; stream?: string; resumed?: number | boolean });
  let rerunsResuming = 0;
  for (let k = 1; k < kills.length; k++) {
    const { startedAt, killedAt } = kills[k];
    const mine = log.filter((e) => Date.parse(e.ts) >= startedAt && Date.parse(e.ts) <= killedAt);
    const runStart = mine.find((e) => e.event === 'run-start');
    if (!runStart) continue; // killed before it got to loading
    expect(runStart.resumed).toBe(true);
    const before = kills[k - 1].markers;
    let resumedHere = 0;
    for (const e of mine.filter((x) => x.event === 'stream-start')) {
      const committed = before.filter((m) => m.stream === e.stream);
      expect(
        committed.some((m) => !isChunkMarker(m)),
        `${e.stream} restarted after it finished`,
      ).toBe(false);
      expect(e.resumed, `chunks resumed by rerun ${k + 1} of ${e.stream}`).toBe(committed.filter(isChunkMarker).length);
      resumedHere += Number(e.resumed);
    }
    if (resumedHere > 0) rerunsResuming++;
  }
  console.log(
    `[${s.name}] ${rerunsResuming} of ${kills.length - 1} killed reruns resumed chunks before being killed again`,
  );
}

function pgSide(db: string): TargetSide & { client: () => pg.Client; open(): Promise<void>; close(): Promise<void> } {
  let client: pg.Client | undefined;
  return {
    client: () => client as pg.Client,
    async open() {
      client = await testClient(db);
    },
    async close() {
      await client?.end();
    },
    markers: () => pgMarkers(client as pg.Client),
    async settle() {
      await waitNoFerryBackends(client as pg.Client, db);
      await waitNoFerryBackends(src, SRC);
    },
    async activity() {
      const r = await (client as pg.Client).query(
        `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS q FROM pg_stat_activity
          WHERE datname = $1 AND application_name LIKE 'ferry%' AND state = 'active'`,
        [db],
      );
      return r.rows.map((x) => x.q).join(' | ');
    },
  };
}

async function stagingTables(client: pg.Client): Promise<string[]> {
  const r = await client.query(`SELECT relname FROM pg_class WHERE relname LIKE '\\_ferry\\_stage\\_%'`);
  return r.rows.map((x) => x.relname);
}

async function hasPrimaryKey(client: pg.Client, table: string): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [table]);
  return r.rows.length > 0;
}

describe('kill -9 at random moments, rerun, exact result', () => {
  test('PostgreSQL -> PostgreSQL, full refresh (1M-row table + composite key), binary pass-through', async () => {
    const db = 'ferry_fault_kill_fr';
    await freshPgDatabase(db);
    const dir = tempDir('ferry-fault-kill-');
    const jobFile = writeJob(
      dir,
      {
        source: pgUrl(SRC),
        target: pgUrl(db),
        defaults: { mode: 'full-refresh', chunk_rows: 20_000, parallel: 4 },
        streams: { 'public.big': null, 'public.pairs': null },
      },
      'kill-fr.yaml',
    );
    const target = pgSide(db);
    await target.open();
    try {
      const s: Scenario = {
        name: 'pg full-refresh',
        jobFile,
        stateDb: path.join(dir, '.ferry', 'kill-fr', 'state.db'),
        target,
        streams: { 'public.big': 'full-refresh', 'public.pairs': 'full-refresh' },
        r: rng(SEED ^ 0x1001),
        lateAtSwap: true,
      };
      const { kills, ledger, ms } = await killAndRerun(s);
      for (const line of ledger.streams) expect(line.passThrough).toBe('postgres-copydata');
      await checkRunHistory(s, kills, ledger);
      const c = target.client();
      expect(await pgDigest(c, 'public.big', BIG_KEY, BIG_ROW_PG, BIG_BUCKET)).toEqual(srcDigest.big);
      expect(await pgDigest(c, 'public.pairs', PAIRS_KEY, PAIRS_ROW_PG, PAIRS_BUCKET)).toEqual(srcDigest.pairs);
      expect(await stagingTables(c)).toEqual([]);
      expect(await hasPrimaryKey(c, 'public.big')).toBe(true);
      expect(await hasPrimaryKey(c, 'public.pairs')).toBe(true);
      console.log(`[pg full-refresh] ${KILLS} kills + final run in ${ms} ms; ${summary(ledger)}`);
    } finally {
      await target.close();
    }
  });

  test('PostgreSQL -> PostgreSQL, append into a table without a primary key (duplicates would show)', async () => {
    const db = 'ferry_fault_kill_ap';
    await freshPgDatabase(db);
    // `big` exists beforehand WITHOUT a key: nothing in the target could reject a row written twice.
    // `pairs` is created by ferry (with its composite key).
    await pgQuery(
      db,
      `CREATE TABLE public.big (id bigint NOT NULL, u uuid NOT NULL, t timestamptz, v double precision, s text)`,
    );
    const dir = tempDir('ferry-fault-kill-');
    const jobFile = writeJob(
      dir,
      {
        source: pgUrl(SRC),
        target: pgUrl(db),
        defaults: { mode: 'append', chunk_rows: 20_000, parallel: 4 },
        streams: { 'public.big': null, 'public.pairs': null },
      },
      'kill-ap.yaml',
    );
    const target = pgSide(db);
    await target.open();
    try {
      const s: Scenario = {
        name: 'pg append',
        jobFile,
        stateDb: path.join(dir, '.ferry', 'kill-ap', 'state.db'),
        target,
        streams: { 'public.big': 'append', 'public.pairs': 'append' },
        r: rng(SEED ^ 0x2002),
        lateAtSwap: false,
      };
      const { kills, ledger, ms } = await killAndRerun(s);
      await checkRunHistory(s, kills, ledger);
      const c = target.client();
      const big = await pgDigest(c, 'public.big', BIG_KEY, BIG_ROW_PG, BIG_BUCKET);
      expect(big.duplicateKeys, 'ids written more than once').toBe(0);
      expect(big).toEqual(srcDigest.big);
      expect(await pgDigest(c, 'public.pairs', PAIRS_KEY, PAIRS_ROW_PG, PAIRS_BUCKET)).toEqual(srcDigest.pairs);
      expect(await hasPrimaryKey(c, 'public.big')).toBe(false);
      expect(await hasPrimaryKey(c, 'public.pairs')).toBe(true);
      expect(await stagingTables(c)).toEqual([]);
      console.log(`[pg append] ${KILLS} kills + final run in ${ms} ms; ${summary(ledger)}`);
    } finally {
      await target.close();
    }
  });

  test('PostgreSQL -> SQLite: append into a keyless table + full refresh (composite key)', async () => {
    const dir = tempDir('ferry-fault-kill-');
    const file = path.join(dir, 'target.db');
    const pre = new Database(file);
    pre.exec(`CREATE TABLE big (id BIGINT NOT NULL, u UUID NOT NULL, t TIMESTAMPTZ, v REAL, s TEXT)`);
    pre.close();
    const jobFile = writeJob(
      dir,
      {
        source: pgUrl(SRC),
        target: 'sqlite:target.db',
        defaults: { chunk_rows: 20_000, parallel: 4 },
        streams: { 'public.big': { mode: 'append' }, 'public.pairs': { mode: 'full-refresh' } },
      },
      'kill-sqlite.yaml',
    );
    const s: Scenario = {
      name: 'pg->sqlite',
      jobFile,
      stateDb: path.join(dir, '.ferry', 'kill-sqlite', 'state.db'),
      target: {
        markers: async () => sqliteMarkers(file),
        settle: () => waitNoFerryBackends(src, SRC),
        activity: async () => '',
      },
      streams: { 'public.big': 'append', 'public.pairs': 'full-refresh' },
      r: rng(SEED ^ 0x3003),
      lateAtSwap: false,
    };
    const { kills, ledger, ms } = await killAndRerun(s);
    await checkRunHistory(s, kills, ledger);
    const big = sqliteDigest(file, 'big', BIG_KEY, BIG_ROW_SQLITE, BIG_BUCKET);
    expect(big.duplicateKeys, 'ids written more than once').toBe(0);
    expect(big).toEqual(srcDigest.bigPortable);
    expect(sqliteDigest(file, 'pairs', PAIRS_KEY, PAIRS_ROW_SQLITE, PAIRS_BUCKET)).toEqual(srcDigest.pairsPortable);
    const db = new Database(file, { readonly: true });
    try {
      const staged = db
        .prepare(`SELECT name FROM sqlite_schema WHERE name LIKE '\\_ferry\\_stage\\_%' ESCAPE '\\'`)
        .all();
      expect(staged).toEqual([]);
    } finally {
      db.close();
    }
    console.log(`[pg->sqlite] ${KILLS} kills + final run in ${ms} ms; ${summary(ledger)}`);
  });
});

function summary(ledger: Ledger): string {
  return ledger.streams
    .map(
      (l) => `${l.stream}: ${l.chunks} chunks, ${l.chunksResumed} resumed, ${l.retries} retries, ${l.rowsWritten} rows`,
    )
    .join('; ');
}
