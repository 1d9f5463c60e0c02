/**
 * Public sample databases through the MySQL/MariaDB connector, against the real MariaDB (127.0.0.1:3306)
 * and PostgreSQL (127.0.0.1:5432). Each dataset is loaded into MariaDB with the `mariadb` client
 * (cached: see helpers/datasets.ts), moved by ferry, and checked against published figures and by
 * independent reads of both sides with the drivers:
 * - employees (10,000-employee subset): the upstream md5 chain (test_employee_md5.sql) recomputed on
 *   PostgreSQL must give the published values;
 * - Chinook: published counts, every value, and back from PostgreSQL into a new MariaDB database
 *   (through the built CLI);
 * - Sakila 0.8: every base table (ENUM, SET, YEAR, BLOB, TIMESTAMP, FULLTEXT, a MyISAM table filled by a
 *   trigger), every value;
 * - pgloader's MySQL type-casting fixtures: the outcome of every column as docs/pgloader-fixtures.md
 *   states it (the test reads the doc's table, so the doc stays true).
 * Databases: ferry_ds_* on both servers.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type Job, jobFromObject, type Ledger, plan, run, type VerifyReport, verify } from '../src/index.js';
import {
  CHINOOK_DIR,
  chinookExpected,
  compareTables,
  employeesExpected,
  ensureMysqlDataset,
  freshMyDatabase,
  type LoadResult,
  loadChinook,
  loadEmployees,
  loadPgloaderFixture,
  loadSakila,
  myQuery,
  myUrl,
  PGLOADER_FIXTURES,
  pgRows,
  SAKILA_COUNTS,
} from './helpers/datasets.js';
import { FERRY_BIN, freshPgDatabase, pgUrl, ROOT, runCli, tempDir, writeJob } from './helpers/env.js';

const timings: string[] = [];
function timed(label: string, t0: number, extra = ''): void {
  timings.push(
    `${label.padEnd(44)} ${((Date.now() - t0) / 1000).toFixed(2).padStart(6)} s${extra ? `  ${extra}` : ''}`,
  );
}
function loaded(r: LoadResult): string {
  return r.loaded ? `loaded in ${r.seconds.toFixed(2)} s` : 'cached';
}
afterAll(() => {
  console.log(`datasets-mysql timings:\n  ${timings.join('\n  ')}`);
});

function makeJob(name: string, raw: Record<string, unknown>): Job {
  const dir = tempDir(`ferry-ds-${name}-`);
  return jobFromObject(raw, path.join(dir, `${name}.yaml`), dir, process.env, name);
}

/** Ledger line of a stream, by the source table name. */
function line(ledger: Ledger, table: string) {
  const l = ledger.streams.find((s) => s.stream.replace(/"/g, '').endsWith(`.${table}`));
  if (!l) throw new Error(`no ledger line for ${table}: ${ledger.streams.map((s) => s.stream).join(', ')}`);
  return l;
}

function expectAllOk(ledger: Ledger): void {
  const bad = ledger.streams.filter((s) => s.status !== 'ok').map((s) => `${s.stream}: ${s.status} ${s.error ?? ''}`);
  expect(bad).toEqual([]);
  expect(ledger.status).toBe('ok');
}

function expectEqual(report: VerifyReport): void {
  const bad = report.streams
    .filter((s) => s.status !== 'equal')
    .map((s) => `${s.stream}: ${s.status} ${s.error ?? ''} ${JSON.stringify(s.mismatches.slice(0, 2))}`);
  expect(bad).toEqual([]);
  expect(report.status).toBe('equal');
}

async function pgCount(db: string, schema: string, table: string): Promise<number> {
  const r = await pgRows<{ n: string }>(db, `SELECT count(*) AS n FROM "${schema}"."${table}"`);
  return Number(r[0].n);
}

async function primaryKey(db: string, table: string): Promise<string[]> {
  const r = await myQuery<{ c: string }>(
    null,
    `SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`,
    [db, table],
  );
  return r.map((x) => x.c);
}

/** Every column of every table equal on both sides (drivers only). */
async function expectSameValues(myDb: string, pgDb: string, pgSchema: string, tables: string[]): Promise<void> {
  const diffs: string[] = [];
  for (const t of tables) {
    const key = await primaryKey(myDb, t);
    const d = await compareTables(
      { dialect: 'mysql', db: myDb, table: t },
      { dialect: 'postgres', db: pgDb, schema: pgSchema, table: t },
      key,
    );
    diffs.push(...d.map((x) => `${t}: ${x}`));
  }
  expect(diffs).toEqual([]);
}

describe('MySQL/MariaDB sample databases, real servers', () => {
  it('employees, 10,000-employee subset: MariaDB -> PostgreSQL; the upstream md5 chain recomputed on PostgreSQL', async () => {
    const t0 = Date.now();
    const expected = employeesExpected();
    expect(Object.values(expected).reduce((n, e) => n + e.rows, 0)).toBe(130_783);
    const db = 'ferry_ds_employees';
    const load = await ensureMysqlDataset(
      db,
      Object.fromEntries(Object.entries(expected).map(([t, e]) => [t, e.rows])),
      loadEmployees,
    );
    await freshPgDatabase(db);
    // Small chunks, so that salary (94,917 rows) and the others are cut into several key ranges.
    const job = makeJob('employees', {
      source: myUrl(db),
      target: pgUrl(db),
      defaults: { chunk_rows: 20_000 },
      streams: { [`${db}.*`]: {} },
    });
    const p = await plan(job);
    expect(p.streams.map((s) => s.target.name).sort()).toEqual(Object.keys(expected).sort());
    expect(p.streams.find((s) => s.target.name === 'salary')!.chunks.length).toBeGreaterThan(1);
    // MySQL index names are per table: dept_emp and dept_manager both have `dept_no`. In PostgreSQL
    // they share the schema's namespace, so the second is renamed (this failed the swap before).
    const dm = p.streams.find((s) => s.target.name === 'dept_manager')!;
    expect(dm.indexes.map((i) => i.name)).toEqual(['dept_manager_dept_no']);
    const ledger = await run(job);
    expectAllOk(ledger);
    for (const [t, e] of Object.entries(expected)) {
      const l = line(ledger, t);
      expect([t, l.sourceRows, l.targetRows, l.rowsWritten]).toEqual([t, e.rows, e.rows, e.rows]);
      expect([t, await pgCount(db, 'public', t)]).toEqual([t, e.rows]);
    }
    expectEqual(await verify(job));

    // test_employee_md5.sql, ported: `SET @crc = ''; SELECT @crc := MD5(CONCAT_WS('#', @crc, cols...))
    // FROM t ORDER BY ...` chains an md5 over the rows in a fixed order. CONCAT_WS skips NULLs, and
    // so does array_to_string; dates are printed YYYY-MM-DD as MySQL prints a DATE; the enum gender
    // is its label. The text order keys (dept_no 'd001'.., titles) are ASCII with the same case
    // pattern, so "C" order is MySQL's case-insensitive order here.
    const chains: Record<string, string> = {
      employee: `ARRAY[emp_no::text, to_char(birth_date, 'YYYY-MM-DD'), first_name, last_name, gender, to_char(hire_date, 'YYYY-MM-DD')] ORDER BY emp_no`,
      department: `ARRAY[dept_no, dept_name] ORDER BY dept_no COLLATE "C"`,
      dept_manager: `ARRAY[dept_no, emp_no::text, to_char(from_date, 'YYYY-MM-DD'), to_char(to_date, 'YYYY-MM-DD')] ORDER BY dept_no COLLATE "C", emp_no`,
      dept_emp: `ARRAY[dept_no, emp_no::text, to_char(from_date, 'YYYY-MM-DD'), to_char(to_date, 'YYYY-MM-DD')] ORDER BY dept_no COLLATE "C", emp_no`,
      title: `ARRAY[emp_no::text, title, to_char(from_date, 'YYYY-MM-DD'), to_char(to_date, 'YYYY-MM-DD')] ORDER BY emp_no, title COLLATE "C", from_date`,
      salary: `ARRAY[emp_no::text, amount::text, to_char(from_date, 'YYYY-MM-DD'), to_char(to_date, 'YYYY-MM-DD')] ORDER BY emp_no, from_date, to_date`,
    };
    const c = new pg.Client({ connectionString: pgUrl(db), options: '-c TimeZone=UTC' });
    await c.connect();
    const found: { t: string; n: string; md5: string }[] = [];
    try {
      // A session-local aggregate: nothing is left in the database.
      await c.query(
        `CREATE FUNCTION pg_temp.md5_step(state text, vals text[]) RETURNS text LANGUAGE sql IMMUTABLE
           AS $$ SELECT md5(array_to_string(state || vals, '#')) $$`,
      );
      await c.query(
        `CREATE AGGREGATE pg_temp.md5_chain(text[]) (SFUNC = pg_temp.md5_step, STYPE = text, INITCOND = '')`,
      );
      for (const [t, agg] of Object.entries(chains)) {
        const r = await c.query(`SELECT count(*)::text AS n, pg_temp.md5_chain(${agg}) AS md5 FROM public."${t}"`);
        found.push({ t, n: r.rows[0].n, md5: r.rows[0].md5 });
      }
    } finally {
      await c.end();
    }
    expect(Object.fromEntries(found.map((f) => [f.t, { rows: Number(f.n), md5: f.md5 }]))).toEqual(expected);
    timed('employees (130,783 rows)', t0, `${loaded(load)}; run ${ledger.seconds.toFixed(2)} s`);
  });

  it('Chinook 1.4.5: MariaDB -> PostgreSQL, then PostgreSQL -> a new MariaDB database (CLI)', async () => {
    const t0 = Date.now();
    const counts = chinookExpected();
    const db = 'ferry_ds_chinook';
    const load = await ensureMysqlDataset(db, counts, loadChinook);
    await freshPgDatabase(db);
    const job = makeJob('chinook', { source: myUrl(db), target: pgUrl(db), streams: { [`${db}.*`]: {} } });
    const ledger = await run(job);
    expectAllOk(ledger);
    for (const [t, n] of Object.entries(counts)) {
      const l = line(ledger, t);
      expect([t, l.sourceRows, l.targetRows]).toEqual([t, n, n]);
      expect([t, await pgCount(db, 'public', t)]).toEqual([t, n]);
    }
    expectEqual(await verify(job));
    await expectSameValues(db, db, 'public', Object.keys(counts));
    // The dialect versions differ (datasets README): loaded with NO_BACKSLASH_ESCAPES, MariaDB keeps
    // the 4 backslashes of the MySQL script, and the trailing blank of 'Edinburgh ' (1 customer, 7
    // invoices) that the neon PostgreSQL dump has trimmed. ferry copies exactly what MariaDB holds.
    const [bs] = await pgRows<{ n: string }>(db, `SELECT count(*) AS n FROM "Track" WHERE "Name" LIKE '%\\\\%'`);
    expect(Number(bs.n)).toBe(4);
    const [tb] = await pgRows<{ n: string }>(
      db,
      `SELECT (SELECT count(*) FROM "Customer" WHERE "City" = 'Edinburgh ') + (SELECT count(*) FROM "Invoice" WHERE "BillingCity" = 'Edinburgh ') AS n`,
    );
    expect(Number(tb.n)).toBe(8);
    expect(readFileSync(path.join(CHINOOK_DIR, '../neon-postgres-sample-dbs/chinook.sql'), 'utf8')).not.toContain(
      'Edinburgh \t',
    );

    // Back: PostgreSQL (as ferry made it) -> a new MariaDB database, with the built CLI.
    if (!existsSync(path.join(ROOT, 'dist', 'index.js')) || !existsSync(FERRY_BIN)) {
      throw new Error('run `npm run build` first: this test runs the built CLI');
    }
    const back = 'ferry_ds_chinook_back';
    await freshMyDatabase(back);
    const dir = tempDir('ferry-ds-chinook-back-');
    const file = writeJob(dir, { source: pgUrl(db), target: myUrl(back), streams: { 'public.*': {} } }, 'back.yaml');
    const r = await runCli(['run', '--json', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const backLedger = JSON.parse(r.stdout) as Ledger;
    expectAllOk(backLedger);
    for (const [t, n] of Object.entries(counts)) {
      const l = line(backLedger, t);
      expect([t, l.sourceRows, l.targetRows]).toEqual([t, n, n]);
    }
    const myCounts = await myQuery<{ t: string }>(
      null,
      `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME NOT LIKE '\\_ferry%'`,
      [back],
    );
    expect(myCounts.map((x) => x.t).sort()).toEqual(Object.keys(counts).sort());
    const v = await runCli(['verify', '--json', file], { cwd: dir });
    expect(v.code, v.stderr).toBe(0);
    expectEqual(JSON.parse(v.stdout) as VerifyReport);
    // Every value of the round trip, read with the drivers: MariaDB (back) against PostgreSQL.
    await expectSameValues(back, db, 'public', Object.keys(counts));
    const [edi] = await myQuery<{ n: number }>(
      back,
      `SELECT COUNT(*) AS n FROM Invoice WHERE BillingCity = BINARY 'Edinburgh '`,
    );
    expect(Number(edi.n)).toBe(7);
    timed('Chinook (15,607 rows) both directions', t0, loaded(load));
  });

  it('Sakila 0.8: every base table MariaDB -> PostgreSQL (ENUM, SET, YEAR, BLOB, TIMESTAMP, FULLTEXT, MyISAM)', async () => {
    const t0 = Date.now();
    const db = 'ferry_ds_sakila';
    const load = await ensureMysqlDataset(db, SAKILA_COUNTS, loadSakila);
    // The schema's views, triggers and routines were created too; ferry moves base tables only.
    const views = await myQuery<{ n: string }>(
      null,
      `SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?`,
      [db],
    );
    expect(views.length).toBe(7);
    const triggers = await myQuery(null, `SELECT 1 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?`, [db]);
    expect(triggers.length).toBe(6);
    await freshPgDatabase(db);
    const job = makeJob('sakila', { source: myUrl(db), target: pgUrl(db), streams: { [`${db}.*`]: {} } });
    const p = await plan(job);
    expect(p.streams.map((s) => s.target.name).sort()).toEqual(Object.keys(SAKILA_COUNTS).sort());
    const col = (t: string, c: string) => {
      const x = p.streams.find((s) => s.target.name === t)!.columns.find((k) => k.source.name === c)!;
      return `${x.source.nativeType} -> ${x.target.nativeType}`;
    };
    expect({
      year: col('film', 'release_year'),
      enum: col('film', 'rating'),
      set: col('film', 'special_features'),
      decimal: col('film', 'rental_rate'),
      blob: col('staff', 'picture'),
      boolean: col('customer', 'active'),
      timestamp: col('actor', 'last_update'),
      datetime: col('rental', 'rental_date'),
      smallintUnsigned: col('actor', 'actor_id'),
      tinyintUnsigned: col('store', 'store_id'),
      mediumintUnsigned: col('inventory', 'inventory_id'),
      char: col('language', 'name'),
    }).toEqual({
      year: 'year(4) -> smallint',
      enum: "enum('G','PG','PG-13','R','NC-17') -> text",
      set: "set('Trailers','Commentaries','Deleted Scenes','Behind the Scenes') -> text",
      decimal: 'decimal(4,2) -> numeric(4,2)',
      blob: 'blob -> bytea',
      boolean: 'tinyint(1) -> boolean',
      timestamp: 'timestamp -> timestamp with time zone',
      datetime: 'datetime -> timestamp without time zone',
      smallintUnsigned: 'smallint(5) unsigned -> integer',
      tinyintUnsigned: 'tinyint(3) unsigned -> smallint',
      mediumintUnsigned: 'mediumint(8) unsigned -> integer',
      char: 'char(20) -> character varying(20)',
    });
    // film_text's FULLTEXT index is not a B-tree: it is skipped with a warning, not built as one.
    const ft = p.streams.find((s) => s.target.name === 'film_text')!;
    expect(ft.indexes).toEqual([]);
    expect(ft.warnings.join('\n')).toMatch(/index idx_title_description skipped: .*full-text/);
    const ledger = await run(job);
    expectAllOk(ledger);
    for (const [t, n] of Object.entries(SAKILA_COUNTS)) {
      const l = line(ledger, t);
      expect([t, l.sourceRows, l.targetRows, l.rowsWritten, l.rejects]).toEqual([t, n, n, n, 0]);
      expect([t, await pgCount(db, 'public', t)]).toEqual([t, n]);
    }
    expect(line(ledger, 'payment').targetRows).toBe(16049);
    expect(line(ledger, 'rental').targetRows).toBe(16044);
    expectEqual(await verify(job));
    await expectSameValues(db, db, 'public', Object.keys(SAKILA_COUNTS));
    // A few values spelled out: SET members as MySQL prints them, the YEAR, a UTC TIMESTAMP, the PNG.
    const [film] = await pgRows<Record<string, string>>(
      db,
      `SELECT special_features, release_year::text AS y, rating, last_update::text AS lu FROM film WHERE film_id = 1`,
    );
    expect(film).toEqual({
      special_features: 'Deleted Scenes,Behind the Scenes',
      y: '2006',
      rating: 'PG',
      lu: '2006-02-15 05:03:42+00',
    });
    const [pic] = await pgRows<{ md5: string; head: string }>(
      db,
      `SELECT md5(picture) AS md5, encode(substr(picture, 1, 8), 'hex') AS head FROM staff WHERE staff_id = 1`,
    );
    const [myPic] = await myQuery<{ md5: string }>(db, 'SELECT MD5(picture) AS md5 FROM staff WHERE staff_id = 1');
    expect(pic).toEqual({ md5: myPic.md5, head: '89504e470d0a1a0a' });
    const pgViews = await pgRows(db, `SELECT 1 FROM pg_views WHERE schemaname = 'public'`);
    expect(pgViews.length).toBe(0);
    timed('Sakila (47,273 rows, 16 tables)', t0, `${loaded(load)}; run ${ledger.seconds.toFixed(2)} s`);
  });

  it('pgloader MySQL type-casting fixtures: every column as docs/pgloader-fixtures.md states it', async () => {
    const t0 = Date.now();
    const loads: LoadResult[] = [];
    for (const f of PGLOADER_FIXTURES) {
      loads.push(await ensureMysqlDataset(f.db, f.expected, (db) => loadPgloaderFixture(f, db)));
    }
    const pgDb = 'ferry_ds_pgloader';
    await freshPgDatabase(pgDb);
    const main = PGLOADER_FIXTURES[0];
    const streams: Record<string, unknown> = Object.fromEntries(PGLOADER_FIXTURES.map((f) => [`${f.db}.*`, {}]));
    // pgloader's expectation for this column; everything else runs on ferry's default rules.
    streams[`${main.db}.domain_filter`] = {
      casts: [{ match: { column: 'id' }, to: 'uuid', transform: 'binary16-to-uuid' }],
    };
    const job = makeJob('pgloader', { source: myUrl(main.db), target: pgUrl(pgDb), streams });
    const p = await plan(job);
    const ledger = await run(job);
    expectAllOk(ledger);
    for (const f of PGLOADER_FIXTURES) {
      for (const [t, n] of Object.entries(f.expected)) {
        const l = ledger.streams.find((s) => s.stream.replace(/"/g, '') === `${f.db}.${t}`)!;
        expect([f.db, t, l.sourceRows, l.targetRows, l.rejects]).toEqual([f.db, t, n, n, 0]);
      }
    }
    expectEqual(await verify(job));

    // Where each fixture landed: the URL's database in public, the others in a schema of their name.
    const pgSchema = (f: (typeof PGLOADER_FIXTURES)[number]) => (f === main ? 'public' : f.db);
    const fixtureOf = (name: string) => {
      const f = PGLOADER_FIXTURES.find((x) => x.fixture === name);
      if (!f) throw new Error(`docs/pgloader-fixtures.md: unknown fixture ${name}`);
      return f;
    };
    const streamOf = (f: (typeof PGLOADER_FIXTURES)[number], table: string) =>
      p.streams.find((s) => s.source.schema === f.db && s.source.name === table)!;

    // Checks of the "not supported" lines: each one checks the behaviour the doc states.
    const special: Record<string, () => Promise<void>> = {
      'my geom.p': async () => {
        const [r] = await pgRows<{ h: string }>(pgDb, `SELECT encode(p, 'hex') AS h FROM public.geom`);
        expect(r.h.startsWith('00000000' + '0101000000')).toBe(true); // SRID 0, WKB little-endian Point
      },
      'my geom.l': async () => {
        const [r] = await pgRows<{ h: string }>(pgDb, `SELECT encode(l, 'hex') AS h FROM public.geom`);
        expect(r.h.startsWith('00000000' + '0102000000')).toBe(true); // SRID 0, WKB LineString
      },
      'my funny_string.s': async () => {
        const [my] = await myQuery<{ h: string; cs: string }>(
          main.db,
          'SELECT HEX(s) AS h, CHARSET(s) AS cs FROM funny_string',
        );
        expect(my).toEqual({ h: 'A380', cs: 'gbk' });
        const [r] = await pgRows<{ s: string }>(pgDb, 'SELECT s FROM public.funny_string');
        expect(r.s).toBe('?');
      },
      'my fcm_batches.(index search)': async () => {
        expect(streamOf(main, 'fcm_batches').warnings.join('\n')).toMatch(/index search skipped: .*full-text/);
        const ix = await pgRows<{ d: string }>(
          pgDb,
          `SELECT indexdef AS d FROM pg_indexes WHERE tablename = 'fcm_batches'`,
        );
        expect(ix.map((x) => x.d).filter((d) => d.includes('raw_payload'))).toEqual([]);
      },
      'my (defaults)': async () => {
        const mine = await myQuery(
          null,
          `SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND (COLUMN_DEFAULT IS NOT NULL OR EXTRA <> '')`,
          [main.db],
        );
        expect(mine.length).toBeGreaterThan(0);
        const theirs = await pgRows(
          pgDb,
          `SELECT 1 FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND column_default IS NOT NULL AND table_name <> '_ferry_chunks'`,
        );
        expect(theirs.length).toBe(0);
      },
      'db789 (view proceed)': async () => {
        const f = fixtureOf('db789');
        expect(p.streams.filter((s) => s.source.schema === f.db).map((s) => s.source.name)).toEqual(['refrain']);
        const viewJob = makeJob('pgloader-view', {
          source: myUrl(f.db),
          target: pgUrl(pgDb),
          streams: { [`${f.db}.proceed`]: {} },
        });
        await expect(plan(viewJob)).rejects.toThrow(/table does not exist in the source/);
        expect(await pgRows(pgDb, `SELECT 1 FROM pg_class WHERE relname = 'proceed'`)).toEqual([]);
      },
    };

    // The doc's table, line by line.
    const doc = readFileSync(path.join(ROOT, 'docs', 'pgloader-fixtures.md'), 'utf8');
    const rows = doc
      .split('\n')
      .filter((l) => /^\| (my|hex|history|f1db\.circuits|db789|\w+) \|/.test(l) && !l.startsWith('| fixture'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    expect(rows.length).toBeGreaterThan(80);
    const problems: string[] = [];
    const covered = new Set<string>();
    // All column types of both sides at once (one query each).
    const dbs = PGLOADER_FIXTURES.map((f) => f.db);
    const myCols = await myQuery<{ s: string; t: string; c: string; ct: string }>(
      null,
      `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS ct FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?)`,
      [dbs],
    );
    const pgCols = await pgRows<{ s: string; t: string; c: string; ty: string }>(
      pgDb,
      `SELECT n.nspname AS s, k.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS ty
         FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid JOIN pg_namespace n ON n.oid = k.relnamespace
        WHERE k.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
    );
    /** Columns whose values must be exact, by `fixture|table`. */
    const exactByTable = new Map<string, string[]>();
    for (const [fixture, column, myType, pgType, outcome] of rows) {
      const f = fixtureOf(fixture);
      const where = `${fixture} ${column}`;
      if (covered.has(where)) problems.push(`${where}: listed twice`);
      covered.add(where);
      const isColumn = !column.includes('(');
      if (outcome.startsWith('not supported')) {
        if (!special[where]) {
          problems.push(`${where}: a "not supported" line needs a check in the test`);
          continue;
        }
        await special[where]().catch((e: Error) => problems.push(`${where}: ${e.message}`));
        if (!isColumn) continue;
      } else if (!isColumn) {
        problems.push(`${where}: only "not supported" lines may name something else than a column`);
        continue;
      }
      const dot = column.lastIndexOf('.');
      const table = column.slice(0, dot);
      const name = column.slice(dot + 1);
      const mc = myCols.find((x) => x.s === f.db && x.t === table && x.c === name);
      if (!mc) {
        problems.push(`${where}: no such MySQL column`);
        continue;
      }
      const labels = /^(enum|set) \((\d+) labels?\)$/.exec(myType);
      const actualMy = mc.ct.toLowerCase();
      const myOk = labels
        ? actualMy.startsWith(`${labels[1]}(`) && (actualMy.match(/'(?:[^']|'')*'/g) ?? []).length === Number(labels[2])
        : actualMy === myType;
      if (!myOk) problems.push(`${where}: MySQL type is ${actualMy}, the doc says ${myType}`);
      const pc = pgCols.find((x) => x.s === pgSchema(f) && x.t === table && x.c === name);
      if (pc?.ty !== pgType) problems.push(`${where}: PostgreSQL type is ${pc?.ty}, the doc says ${pgType}`);
      const policy = /^policy (\w+)=(\w+) \((\d+) values?\)$/.exec(outcome);
      if (outcome === 'exact' || outcome.startsWith('not supported')) {
        const k = `${fixture}|${table}`;
        exactByTable.set(k, [...(exactByTable.get(k) ?? []), name]);
      } else if (policy) {
        const [, pol, value, n] = policy;
        const l = ledger.streams.find((s) => s.stream.replace(/"/g, '') === `${f.db}.${table}`)!;
        if (l.policyCounts[pol] !== Number(n))
          problems.push(`${where}: ledger ${JSON.stringify(l.policyCounts)}, doc ${pol} ${n}`);
        if (pol !== 'invalid_dates' || value !== 'null') {
          problems.push(`${where}: the test checks only invalid_dates=null`);
          continue;
        }
        // Zero, partial and impossible dates are NULL on the target; the other values are exact.
        const key = await primaryKey(f.db, table);
        const src = await myQuery<{ k: string; v: string | null }>(
          f.db,
          `SELECT CAST(\`${key[0]}\` AS CHAR) AS k, CAST(\`${name}\` AS CHAR) AS v FROM \`${table}\``,
        );
        const tgt = await pgRows<{ k: string; v: string | null }>(
          pgDb,
          `SELECT "${key[0]}"::text AS k, to_char("${name}", 'YYYY-MM-DD') AS v FROM "${pgSchema(f)}"."${table}"`,
        );
        const valid = (d: string) => {
          const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
          if (!m || Number(m[1]) === 0) return false;
          const dt = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
          return dt.toISOString().slice(0, 10) === d;
        };
        const want = Object.fromEntries(src.map((r) => [r.k, r.v !== null && valid(r.v) ? r.v : null]));
        const got = Object.fromEntries(tgt.map((r) => [r.k, r.v]));
        if (JSON.stringify(got) !== JSON.stringify(want))
          problems.push(`${where}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
        if (src.filter((r) => r.v !== null && !valid(r.v)).length !== Number(n))
          problems.push(`${where}: the source has not ${n} invalid dates`);
      } else {
        problems.push(`${where}: unknown outcome ${JSON.stringify(outcome)}`);
      }
    }
    // The exact columns, one independent comparison per table.
    for (const [k, names] of exactByTable) {
      const [fixture, table] = k.split('|');
      const f = fixtureOf(fixture);
      const d = await compareTables(
        { dialect: 'mysql', db: f.db, table },
        { dialect: 'postgres', db: pgDb, schema: pgSchema(f), table },
        await primaryKey(f.db, table),
        { only: names },
      );
      problems.push(...d.map((x) => `${fixture} ${table}: not exact: ${x}`));
    }
    // Every column of every fixture table has its line.
    for (const f of PGLOADER_FIXTURES) {
      const cols = await myQuery<{ t: string; c: string }>(
        null,
        `SELECT c.TABLE_NAME AS t, c.COLUMN_NAME AS c FROM information_schema.COLUMNS c
           JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
          WHERE c.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE'`,
        [f.db],
      );
      for (const c of cols)
        if (!covered.has(`${f.fixture} ${c.t}.${c.c}`)) problems.push(`${f.fixture} ${c.t}.${c.c}: not in the doc`);
    }
    expect(problems).toEqual([]);
    timed('pgloader MySQL fixtures (5 files, 20 tables)', t0, loads.some((l) => l.loaded) ? 'loaded' : 'cached');
  });
});
