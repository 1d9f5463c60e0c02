/**
 * Conformance: ferry copies every row and every value exactly, PostgreSQL <-> PostgreSQL, SQLite <->
 * SQLite, PostgreSQL -> SQLite and SQLite -> PostgreSQL, in full-refresh and append mode.
 *
 * Real servers and files only: PostgreSQL at 127.0.0.1 (databases `ferry_conf_*`), SQLite files in
 * temp folders. Outcomes are checked independently of ferry: both sides are read with the drivers
 * (see helpers/compare.ts for the only normalisations, each justified there), and ferry's own
 * ledger and `verify` must agree on top of that.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobFromObject, type Ledger, run, status, verify } from '../src/index.js';
import {
  diffTables,
  type KeysInfo,
  pgKeys,
  pgStageTables,
  type Row,
  readPg,
  readSqlite,
  sqliteKeys,
  sqliteStageTables,
  withPg,
} from './helpers/compare.js';
import { freshPgDatabase, pgUrl, ROOT, runCli, tempDir, writeJob } from './helpers/env.js';
import {
  blnsStrings,
  buildPgSource,
  buildSqliteSource,
  EVERY_PLANE,
  NUL_TABLE,
  PG_TABLES,
  SQLITE_TABLES,
  type TableSpec,
} from './helpers/fixtures.js';

type Dialect = 'postgres' | 'sqlite';
type Mode = 'full-refresh' | 'append';

interface Side {
  dialect: Dialect;
  /** PostgreSQL database name, or SQLite file path. */
  where: string;
  url: string;
}

const PG_SRC = 'ferry_conf_src';
const CHUNK_ROWS = 7;
const PARALLEL = 3;

let work: string;
let sqliteSrcFile: string;

function pgSide(db: string): Side {
  return { dialect: 'postgres', where: db, url: pgUrl(db) };
}
function sqliteSide(file: string): Side {
  return { dialect: 'sqlite', where: file, url: `sqlite:${file}` };
}

async function freshTarget(dialect: Dialect, name: string): Promise<Side> {
  if (dialect === 'postgres') {
    await freshPgDatabase(`ferry_conf_${name}`);
    return pgSide(`ferry_conf_${name}`);
  }
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  return sqliteSide(path.join(dir, 'target.db'));
}

function sourceSide(dialect: Dialect): Side {
  return dialect === 'postgres' ? pgSide(PG_SRC) : sqliteSide(sqliteSrcFile);
}

function tablesOf(dialect: Dialect): TableSpec[] {
  return dialect === 'postgres' ? PG_TABLES : SQLITE_TABLES;
}

function makeJob(src: Side, tgt: Side, tables: TableSpec[], mode: Mode, stateName: string) {
  const stateDir = path.join(work, 'state', stateName);
  return jobFromObject(
    {
      source: src.url,
      target: tgt.url,
      state: stateDir,
      defaults: { mode, chunk_rows: CHUNK_ROWS, parallel: PARALLEL },
      streams: Object.fromEntries(tables.map((t) => [t.selector[src.dialect], null])),
    },
    '<inline>',
    work,
    process.env,
    stateName,
  );
}

async function readSide(side: Side, t: TableSpec, cross: boolean): Promise<Row[]> {
  return side.dialect === 'postgres'
    ? readPg(side.where, t.name, t.cols, t.pk, cross)
    : readSqlite(side.where, t.name, t.cols, t.pk, cross);
}

/** Source rows, as the target must hold them (no conversion: every value must arrive unchanged). */
async function expectedRows(src: Side, tgt: Side, t: TableSpec): Promise<Row[]> {
  return readSide(src, t, src.dialect !== tgt.dialect);
}

async function keysOf(side: Side, table: string): Promise<KeysInfo> {
  return side.dialect === 'postgres' ? pgKeys(side.where, table) : sqliteKeys(side.where, table);
}

async function stageTablesOf(side: Side): Promise<string[]> {
  if (side.dialect === 'postgres') return pgStageTables(side.where);
  return existsSync(side.where) ? sqliteStageTables(side.where) : [];
}

/** Row count of every fixture table of the source, read with the driver. */
async function sourceCount(src: Side, t: TableSpec): Promise<number> {
  return (await readSide(src, t, false)).length;
}

/** Every value of every table, keys and indexes, ledger and verify. */
async function assertExactCopy(src: Side, tgt: Side, tables: TableSpec[], ledger: Ledger, mode: Mode): Promise<void> {
  const cross = src.dialect !== tgt.dialect;
  // Ledger: every stream ok, counted and equal.
  expect(ledger.status, JSON.stringify(ledger.streams.map((s) => [s.stream, s.status, s.error]))).toBe('ok');
  expect(ledger.streams).toHaveLength(tables.length);
  for (const t of tables) {
    const sl = ledger.streams.find((s) => s.stream === t.selector[src.dialect]);
    expect(sl, `ledger line of ${t.name}`).toBeDefined();
    const n = await sourceCount(src, t);
    expect(sl!.status).toBe('ok');
    expect(sl!.mode).toBe(mode);
    expect(sl!.sourceRows).toBe(n);
    expect(sl!.targetRows).toBe(n);
    expect(sl!.rowsWritten).toBe(n);
    // Chunked by key in several chunks (composite keys too); a keyless table is one chunk.
    if (t.pk.length > 0) expect(sl!.chunks).toBeGreaterThanOrEqual(Math.ceil(n / CHUNK_ROWS));
    else expect(sl!.chunks).toBe(1);
  }

  // Every row and value, read independently on both sides.
  for (const t of tables) {
    const expected = await expectedRows(src, tgt, t);
    const actual = await readSide(tgt, t, cross);
    expect(expected.length, `${t.name}: source is not empty`).toBeGreaterThan(0);
    expect(diffTables(t.cols, t.pk, expected, actual), `${t.name}: ${src.dialect} -> ${tgt.dialect}`).toEqual([]);
  }

  // Keys and indexes.
  for (const t of tables) {
    const got = await keysOf(tgt, t.name);
    expect(got.pk, `${t.name}: primary key`).toEqual(t.pk);
    if (src.dialect === 'postgres' && tgt.dialect === 'postgres') {
      // Same dialect: the very same index definitions (expression and partial ones included).
      const want = await pgKeys(src.where, t.name);
      expect(got.indexes, `${t.name}: indexes`).toEqual(want.indexes);
    } else {
      // Across dialects only plain column indexes can be carried (ferry plan warns about the rest).
      const want = t.indexes
        .filter((ix) => ix.columns !== null)
        .map((ix) => ({ name: ix.name, unique: ix.unique, columns: ix.columns }));
      expect(
        got.indexes.map((ix) => ({ name: ix.name, unique: ix.unique, columns: ix.columns })),
        `${t.name}: indexes`,
      ).toEqual(want);
    }
  }

  // Nothing left behind.
  expect(await stageTablesOf(tgt)).toEqual([]);
}

async function assertVerifyEqual(job: ReturnType<typeof makeJob>, tables: TableSpec[]): Promise<void> {
  const report = await verify(job);
  expect(
    report.status,
    JSON.stringify(
      report.streams.filter((s) => s.status !== 'equal').map((s) => [s.stream, s.status, s.error, s.mismatches]),
    ),
  ).toBe('equal');
  expect(report.streams).toHaveLength(tables.length);
  for (const s of report.streams) {
    expect(s.status).toBe('equal');
    expect(s.sourceRows).toBe(s.targetRows);
    expect(s.sourceRows).toBeGreaterThan(0);
  }
}

beforeAll(async () => {
  work = tempDir('ferry-conf-');
  sqliteSrcFile = path.join(work, 'source.db');
  await buildPgSource(PG_SRC);
  buildSqliteSource(sqliteSrcFile);
});

describe('fixtures are what they claim', () => {
  it('the naughty strings loaded from COPY text equal blns.json, on both sources', async () => {
    const blns = blnsStrings();
    expect(blns).toHaveLength(515);
    const pgRows = await withPg(PG_SRC, async (c) => (await c.query('SELECT id, s FROM public.blns ORDER BY id')).rows);
    expect(pgRows.map((r) => r.s)).toEqual(blns);
    expect(pgRows.map((r) => r.id)).toEqual(blns.map((_, i) => i + 1));
    const db = new Database(sqliteSrcFile, { readonly: true });
    try {
      expect((db.prepare('SELECT s FROM blns ORDER BY id').all() as { s: string }[]).map((r) => r.s)).toEqual(blns);
      // NUL survives in SQLite TEXT (it is what the SQLite -> PostgreSQL refusal is about).
      expect(db.prepare('SELECT payload, length(CAST(payload AS BLOB)) AS n FROM nul_text WHERE id = 2').get()).toEqual(
        {
          payload: 'a\u0000b',
          n: 3,
        },
      );
      // ferry's representations, as SQLite stores them.
      expect(db.prepare(`SELECT typeof(r) AS t, r FROM kitchen WHERE dec = 'NaN'`).get()).toEqual({
        t: 'text',
        r: 'NaN',
      });
    } finally {
      db.close();
    }
    const awkward = await withPg(
      PG_SRC,
      async (c) =>
        (
          await c.query(
            `SELECT f8::text AS f8, length(by) AS bytes, t FROM public.kitchen WHERE id IN (3, 8) ORDER BY id`,
          )
        ).rows,
    );
    expect(awkward).toEqual([
      { f8: '1.7976931348623157e+308', bytes: 256, t: EVERY_PLANE },
      { f8: '-0', bytes: null, t: ' ' },
    ]);
  });
});

const DIRECTIONS: [Dialect, Dialect][] = [
  ['postgres', 'postgres'],
  ['sqlite', 'sqlite'],
  ['postgres', 'sqlite'],
  ['sqlite', 'postgres'],
];
const short = (d: Dialect) => (d === 'postgres' ? 'pg' : 'sq');

describe.each(DIRECTIONS)('%s -> %s', (from, to) => {
  for (const mode of ['full-refresh', 'append'] as const) {
    it(`${mode}: every row and value, keys and indexes, ledger and verify`, async () => {
      const name = `${short(from)}_${short(to)}_${mode === 'append' ? 'app' : 'full'}`;
      const src = sourceSide(from);
      const tgt = await freshTarget(to, name);
      // NUL in TEXT can only be carried where the target can hold it (SQLite -> SQLite).
      const tables = from === 'sqlite' && to === 'sqlite' ? [...tablesOf(from), NUL_TABLE] : tablesOf(from);
      const job = makeJob(src, tgt, tables, mode, name);
      const ledger = await run(job);
      expect(ledger.resumed).toBe(false);
      await assertExactCopy(src, tgt, tables, ledger, mode);
      await assertVerifyEqual(job, tables);
    });
  }
});

/** The fixture table spec by name, for the source dialect. */
function table(dialect: Dialect, name: string): TableSpec {
  return tablesOf(dialect).find((t) => t.name === name)!;
}

function sqliteExec(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('full-refresh', () => {
  it('PostgreSQL -> SQLite: the old target stays readable until the swap; a second run replaces it', async () => {
    const src = sourceSide('postgres');
    const tgt = await freshTarget('sqlite', 'refresh_pg_sq');
    const tables = [table('postgres', 'blns'), table('postgres', 'Order Items')];
    // An old target with other content (and another shape) in place before the run.
    sqliteExec(
      tgt.where,
      `CREATE TABLE blns (id INTEGER PRIMARY KEY, s TEXT, old_column TEXT);
       INSERT INTO blns VALUES (1, 'old one', 'x'), (2, 'old two', 'y'), (99999, 'old only', 'z');`,
    );
    const job = makeJob(src, tgt, tables, 'full-refresh', 'refresh_pg_sq');
    // While chunks are loading, read the target with a separate connection (synchronously, inside
    // the event callback, so the observation is taken exactly between two chunk commits).
    const seen: { chunk: string; rows: unknown; staging: number }[] = [];
    const ledger1 = await run(job, {
      onEvent: (e) => {
        if (e.type !== 'chunk-done' || e.stream !== 'public.blns') return;
        const db = new Database(tgt.where, { readonly: true });
        try {
          seen.push({
            chunk: e.chunk,
            rows: db.prepare('SELECT id, s FROM blns ORDER BY id').all(),
            staging: (
              db
                .prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name LIKE '\\_ferry\\_stage\\_%' ESCAPE '\\'`)
                .get() as {
                n: number;
              }
            ).n,
          });
        } finally {
          db.close();
        }
      },
    });
    // Every chunk of blns committed while the old table was still there, whole and unchanged.
    expect(seen.length).toBe(ledger1.streams.find((s) => s.stream === 'public.blns')!.chunks);
    for (const s of seen) {
      expect(s.rows).toEqual([
        { id: 1, s: 'old one' },
        { id: 2, s: 'old two' },
        { id: 99999, s: 'old only' },
      ]);
      expect(s.staging).toBeGreaterThanOrEqual(1);
    }
    await assertExactCopy(src, tgt, tables, ledger1, 'full-refresh');
    // The old shape went with the old table.
    const check = new Database(tgt.where, { readonly: true });
    try {
      expect((check.prepare('PRAGMA table_info(blns)').all() as { name: string }[]).map((c) => c.name)).toEqual([
        'id',
        's',
      ]);
    } finally {
      check.close();
    }

    // Second run: a new run (not a resume), the table replaced, no duplicates.
    const ledger2 = await run(job);
    expect(ledger2.runId).not.toBe(ledger1.runId);
    expect(ledger2.resumed).toBe(false);
    for (const s of ledger2.streams) expect(s.chunksResumed).toBe(0);
    await assertExactCopy(src, tgt, tables, ledger2, 'full-refresh');
    await assertVerifyEqual(job, tables);
  });

  it('SQLite -> PostgreSQL: the old target stays readable until the swap; a second run replaces it', async () => {
    const src = sourceSide('sqlite');
    const tgt = await freshTarget('postgres', 'refresh_sq_pg');
    const tables = [table('sqlite', 'blns'), table('sqlite', 'kitchen')];
    await withPg(tgt.where, (c) =>
      c.query(`CREATE TABLE public.blns (id bigint PRIMARY KEY, s text);
               INSERT INTO public.blns VALUES (1, 'old one'), (2, 'old two'), (99999, 'old only');`),
    );
    const job = makeJob(src, tgt, tables, 'full-refresh', 'refresh_sq_pg');
    // A connection opened beforehand; on the first chunks of blns it reads the old table and the
    // staging table in one snapshot. The swap comes only after the stream's last chunk.
    const observations: Promise<{ old: string[]; staging: number }>[] = [];
    await withPg(tgt.where, async (c) => {
      const ledger1 = await run(job, {
        onEvent: (e) => {
          if (e.type !== 'chunk-done' || e.stream !== 'blns' || observations.length >= 3) return;
          observations.push(
            c
              .query<{ old: string[]; staging: number }>(
                `SELECT (SELECT array_agg(s ORDER BY id) FROM public.blns) AS old,
                        (SELECT count(*)::int FROM pg_tables WHERE tablename LIKE '\\_ferry\\_stage\\_%') AS staging`,
              )
              .then((r) => r.rows[0]),
          );
        },
      });
      const seen = await Promise.all(observations);
      expect(seen.length).toBe(3);
      for (const s of seen) {
        expect(s.old).toEqual(['old one', 'old two', 'old only']);
        expect(s.staging).toBeGreaterThanOrEqual(1);
      }
      await assertExactCopy(src, tgt, tables, ledger1, 'full-refresh');
      const ledger2 = await run(job);
      expect(ledger2.runId).not.toBe(ledger1.runId);
      expect(ledger2.resumed).toBe(false);
      await assertExactCopy(src, tgt, tables, ledger2, 'full-refresh');
    });
    await assertVerifyEqual(job, tables);
  });
});

describe('append', () => {
  it('PostgreSQL -> SQLite, pre-existing keyless target: each run appends every row exactly once; old rows stay', async () => {
    const src = sourceSide('postgres');
    const tgt = await freshTarget('sqlite', 'append_twice_pg_sq');
    const tables = [table('postgres', 'Order Items'), table('postgres', 'blns')];
    // Pre-existing targets without keys (so the same rows can go in twice), with rows of their
    // own whose keys lie outside the source's key range.
    sqliteExec(
      tgt.where,
      `CREATE TABLE "Order Items" ("Order Id" BIGINT, sku TEXT, "select" INT4, "from" TEXT, "User" TEXT, qty DECIMAL_TEXT(12,2));
       INSERT INTO "Order Items" VALUES (-9223372036854775808, 'pre', -1, 'before', 'P', '1.00'),
                                        (9223372036854775807, 'pre', -2, NULL, NULL, NULL);
       CREATE TABLE blns (id INT4, s TEXT);
       INSERT INTO blns VALUES (-1, 'pre-existing'), (100000, '');`,
    );
    const prefill = {
      'Order Items': readSqlite(tgt.where, 'Order Items', table('postgres', 'Order Items').cols, [], true),
      blns: readSqlite(tgt.where, 'blns', table('postgres', 'blns').cols, [], true),
    } as Record<string, Row[]>;
    const job = makeJob(src, tgt, tables, 'append', 'append_twice_pg_sq');

    const ledgers: Ledger[] = [];
    for (let runNo = 1; runNo <= 2; runNo++) {
      const ledger = await run(job);
      ledgers.push(ledger);
      expect(ledger.status).toBe('ok');
      expect(ledger.resumed).toBe(false);
      for (const t of tables) {
        const n = await sourceCount(src, t);
        const sl = ledger.streams.find((s) => s.stream === t.selector[src.dialect])!;
        expect(sl.status).toBe('ok');
        expect(sl.chunksResumed).toBe(0);
        expect(sl.rowsWritten).toBe(n);
        expect(sl.sourceRows).toBe(n);
        expect(sl.targetRows).toBe(prefill[t.name].length + runNo * n);
        // Target = its own rows + the source `runNo` times, as a multiset of exact values.
        const source = await readPg(src.where, t.name, t.cols, [], true);
        const expected = [...prefill[t.name], ...Array.from({ length: runNo }, () => source).flat()];
        const actual = readSqlite(tgt.where, t.name, t.cols, [], true);
        expect(diffTables(t.cols, [], expected, actual), `${t.name} after run ${runNo}`).toEqual([]);
      }
    }
    // The second run is a run of its own, not a resume of the completed first one.
    expect(ledgers[1].runId).not.toBe(ledgers[0].runId);
    const st = await status(job);
    expect(st.run?.runId).toBe(ledgers[1].runId);
    expect(st.run?.status).toBe('completed');
    // A pre-existing target keeps its shape: ferry adds no key or index to it.
    expect(sqliteKeys(tgt.where, 'blns')).toEqual({ pk: [], indexes: [] });
    expect(await stageTablesOf(tgt)).toEqual([]);
  });

  it('SQLite -> PostgreSQL, pre-filled keyed target: rows outside the source key range stay, key and indexes kept', async () => {
    const src = sourceSide('sqlite');
    const tgt = await freshTarget('postgres', 'append_prefill_sq_pg');
    const tables = [table('sqlite', 'Order Items'), table('sqlite', 'blns')];
    await withPg(tgt.where, (c) =>
      c.query(`
        CREATE TABLE public."Order Items" ("Order Id" bigint NOT NULL, sku text NOT NULL, "select" integer NOT NULL,
                                           "from" text, "User" text, qty numeric(12,2), PRIMARY KEY ("Order Id", sku));
        CREATE UNIQUE INDEX oi_select_uq ON public."Order Items" ("select");
        INSERT INTO public."Order Items" VALUES (-9223372036854775808, 'zzz', -1, 'pre', 'P', 0.5),
                                                (9223372036854775807, '', -2, NULL, NULL, NULL);
        CREATE TABLE public.blns (id bigint PRIMARY KEY, s text);
        INSERT INTO public.blns VALUES (-5, 'pre -5'), (0, 'pre 0'), (516, 'pre 516'), (9223372036854775807, NULL);`),
    );
    const prefill: Record<string, Row[]> = {};
    for (const t of tables) prefill[t.name] = await readPg(tgt.where, t.name, t.cols, t.pk, true);
    const job = makeJob(src, tgt, tables, 'append', 'append_prefill_sq_pg');
    const ledger = await run(job);
    expect(ledger.status, JSON.stringify(ledger.streams.map((s) => s.error))).toBe('ok');
    for (const t of tables) {
      const n = await sourceCount(src, t);
      const sl = ledger.streams.find((s) => s.stream === t.selector[src.dialect])!;
      expect(sl.rowsWritten).toBe(n);
      expect(sl.targetRows).toBe(n + prefill[t.name].length);
      const expected = [...prefill[t.name], ...(await readSqlite(src.where, t.name, t.cols, t.pk, true))];
      const actual = await readPg(tgt.where, t.name, t.cols, t.pk, true);
      expect(diffTables(t.cols, t.pk, expected, actual), t.name).toEqual([]);
      expect((await pgKeys(tgt.where, t.name)).pk).toEqual(t.pk);
    }
    // The target's own index stays; indexes are built only on tables the run created.
    expect((await pgKeys(tgt.where, 'Order Items')).indexes.map((i) => i.name)).toEqual(['oi_select_uq']);
  });
});

describe('values a target cannot hold', () => {
  it('SQLite TEXT with NUL -> PostgreSQL: the default policy strips NUL and counts it', async () => {
    const src = sourceSide('sqlite');
    const tgt = await freshTarget('postgres', 'nul-strip');
    const job = makeJob(src, tgt, [NUL_TABLE], 'full-refresh', 'nul-strip');
    const ledger = await run(job);
    expect(ledger.status).toBe('ok');
    const sl = ledger.streams[0];
    expect(sl.rejects).toBe(0);
    expect(sl.policyCounts.nul_bytes).toBeGreaterThan(0);
    const rows = await withPg(
      tgt.where,
      async (c) =>
        (await c.query(`SELECT count(*)::int AS n FROM public.nul_text WHERE payload LIKE '%' || chr(65533) || '%'`))
          .rows[0].n,
    );
    expect(rows).toBe(0);
  });

  it('SQLite TEXT with NUL -> PostgreSQL with nul_bytes: reject fails over max_rejects, naming the column, and writes nothing', async () => {
    const src = sourceSide('sqlite');
    const tgt = await freshTarget('postgres', 'nul');
    const job = makeJob(src, tgt, [NUL_TABLE], 'full-refresh', 'nul');
    for (const s of job.streams) s.policies = { ...s.policies, nul_bytes: 'reject' };
    const ledger = await run(job);
    expect(ledger.status).toBe('failed');
    const sl = ledger.streams[0];
    expect(sl.status).toBe('failed');
    expect(sl.error).toMatch(/column payload/);
    expect(sl.error).toMatch(/NUL/);
    expect(sl.rowsWritten).toBe(0);
    // Not swapped in: the target table does not exist.
    expect(
      await withPg(tgt.where, async (c) => (await c.query(`SELECT to_regclass('public.nul_text') AS r`)).rows[0].r),
    ).toBeNull();

    // The CLI (built dist/) exits non-zero with the same message.
    expect(existsSync(path.join(ROOT, 'dist', 'index.js')), 'run `npm run build` first').toBe(true);
    const dir = tempDir('ferry-conf-cli-');
    const file = writeJob(dir, {
      source: src.url,
      target: tgt.url,
      defaults: { mode: 'full-refresh', chunk_rows: CHUNK_ROWS, parallel: PARALLEL, policies: { nul_bytes: 'reject' } },
      streams: { nul_text: null },
    });
    const res = await runCli(['run', file, '--no-progress']);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout + res.stderr).toMatch(/column payload/);
    expect(res.stdout + res.stderr).toMatch(/NUL/);
  });
});

describe('the checks can fail', () => {
  it('a changed, lost or extra value in a target is reported by the comparison and by verify', async () => {
    // Copy PostgreSQL -> SQLite, then damage the target one value at a time.
    const src = sourceSide('postgres');
    const tgt = await freshTarget('sqlite', 'canary');
    const tables = [table('postgres', 'kitchen'), table('postgres', 'no_pk')];
    const job = makeJob(src, tgt, tables, 'full-refresh', 'canary');
    await assertExactCopy(src, tgt, tables, await run(job), 'full-refresh');
    const kitchen = table('postgres', 'kitchen');
    const noPk = table('postgres', 'no_pk');
    const damages: [string, string, RegExp][] = [
      // -0 becoming +0 (the normalisation of floats must keep the sign).
      ['f8 -0 -> 0', `UPDATE kitchen SET f8 = 0.0 WHERE id = 8`, /key \["8"\] column f8: source "-0" target "0"/],
      // float4 at float4 precision: a one-ulp change is still a change.
      ['f4 one ulp', `UPDATE kitchen SET f4 = 0.10000000894069672 WHERE id = 1`, /column f4/],
      ['text trailing space', `UPDATE kitchen SET t = t || ' ' WHERE id = 1`, /key \["1"\] column t/],
      [
        'empty string -> NULL',
        `UPDATE kitchen SET t = NULL WHERE id = 5`,
        /key \["5"\] column t: source "" target NULL/,
      ],
      ['one byte', `UPDATE kitchen SET by = X'00' || substr(by, 2) WHERE id = 3`, /key \["3"\] column by/],
      ['uuid digit', `UPDATE kitchen SET u = '00000000-0000-0000-0000-000000000001' WHERE id = 4`, /column u/],
      ['timestamp microsecond', `UPDATE kitchen SET ts = '2024-02-29 23:59:59.999998' WHERE id = 9`, /column ts/],
      ['array element', `UPDATE kitchen SET at = '["a","b","c",null]' WHERE id = 1`, /column at/],
      ['decimal digit', `UPDATE kitchen SET n = '12345678901234567890.123456789012346' WHERE id = 3`, /column n:/],
      ['row lost', `DELETE FROM kitchen WHERE id = 2`, /missing in target: key \["2"\]/],
      [
        'duplicate row lost',
        `DELETE FROM no_pk WHERE rowid = (SELECT max(rowid) FROM no_pk WHERE a = 1)`,
        /missing in target \(1x\)/,
      ],
    ];
    for (const [what, sql, expected] of damages) {
      sqliteExec(tgt.where, sql);
      const t = sql.includes('no_pk') ? noPk : kitchen;
      const diff = diffTables(
        t.cols,
        t.pk,
        await readPg(src.where, t.name, t.cols, t.pk, true),
        readSqlite(tgt.where, t.name, t.cols, t.pk, true),
      );
      expect(diff.join('\n'), what).toMatch(expected);
      const report = await verify(job);
      expect(report.status, what).toBe('mismatch');
      // Restore the target for the next damage.
      await run(job);
      expect(
        diffTables(
          t.cols,
          t.pk,
          await readPg(src.where, t.name, t.cols, t.pk, true),
          readSqlite(tgt.where, t.name, t.cols, t.pk, true),
        ),
      ).toEqual([]);
    }
  });
});
