/**
 * MySQL/MariaDB conformance: ferry copies every row and every value exactly MySQL -> PostgreSQL,
 * PostgreSQL -> MySQL and MySQL -> MySQL, with the type mapping its cast rules promise, and applies
 * each value policy (zero dates, NUL, invalid UTF-8, NaN/±Infinity, out of range) as documented.
 *
 * Real servers only: MariaDB at 127.0.0.1:3306 and PostgreSQL at 127.0.0.1:5432, databases
 * `ferry_my_*`. Both sides are read independently of ferry with the drivers (helpers/mysql.ts says
 * how each kind of value is compared, and why that can never merge two different values); ferry's
 * ledger, plan and `verify` must agree on top of that.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobFromObject, type Ledger, type Plan, plan, run, verify } from '../src/index.js';
import { diffTables, type Row, withPg } from './helpers/compare.js';
import { freshPgDatabase, pgUrl, tempDir } from './helpers/env.js';
import { blnsStrings } from './helpers/fixtures.js';
import {
  type Cell,
  cp1252,
  doubleBits,
  freshMyDatabase,
  type MyCol,
  myColumnTypes,
  myPrimaryKey,
  myQuery,
  myStageTables,
  myUrl,
  readMy,
  readMyRaw,
  readPgAs,
  withMy,
} from './helpers/mysql.js';
import {
  BAD_UTF8_BAD,
  BAD_UTF8_ROWS,
  BITS_ROWS,
  BLNS_MY_COLS,
  buildMySource,
  buildPgSource,
  CP1252_HIGH,
  DOUBLES_COLS,
  KEYED_COLS,
  LONG_64,
  LONG_64_B,
  LONG_64_MB,
  MY_TYPES_COLS,
  MY_TYPES_PG_TYPES,
  NUL_ROWS,
  PG_NAME_63,
  PG_NAMES_COLS,
  PG_TYPES_COLS,
  PG_TYPES_MY_TYPES,
  randomDoubles,
  randomFloats,
  ZERO_DATES_BAD,
  ZERO_DATES_COLS,
  ZERO_DATES_INVALID,
  ZERO_DATES_REJECTS,
  ZERO_DATES_ROWS,
} from './helpers/mysql-fixtures.js';

const MY_SRC = 'ferry_my_src';
const PG_SRC = 'ferry_my_pgsrc';
const CHUNK_ROWS = 7;
const PARALLEL = 3;
const N_DOUBLES = 2000;

type Dialect = 'mysql' | 'postgres';

interface Table {
  name: string;
  cols: MyCol[];
  pk: string[];
  /** Stream settings of its own (bigger chunks for the big tables). */
  settings?: Record<string, unknown>;
}

let work: string;
let doubles: number[];
let floats: number[];

const url = (d: Dialect, db: string) => (d === 'mysql' ? myUrl(db) : pgUrl(db));

async function freshDb(d: Dialect, name: string): Promise<string> {
  const db = `ferry_my_${name}`;
  if (d === 'mysql') await freshMyDatabase(db);
  else await freshPgDatabase(db);
  return db;
}

interface JobOptions {
  mode?: 'full-refresh' | 'append';
  policies?: Record<string, string>;
  maxRejects?: number;
  casts?: unknown[];
}

let jobNo = 0;
function makeJob(from: Dialect, srcDb: string, to: Dialect, tgtDb: string, tables: Table[], o: JobOptions = {}) {
  const name = `job${++jobNo}`;
  return jobFromObject(
    {
      source: url(from, srcDb),
      target: url(to, tgtDb),
      state: path.join(work, 'state', name),
      defaults: {
        mode: o.mode ?? 'full-refresh',
        chunk_rows: CHUNK_ROWS,
        parallel: PARALLEL,
        ...(o.policies ? { policies: o.policies } : {}),
        ...(o.maxRejects !== undefined ? { max_rejects: o.maxRejects } : {}),
      },
      ...(o.casts ? { casts: o.casts } : {}),
      streams: Object.fromEntries(
        tables.map((t) => [from === 'postgres' ? `public.${t.name}` : t.name, t.settings ?? null]),
      ),
    },
    '<inline>',
    work,
    process.env,
    name,
  );
}

const asSpecs = (cols: readonly MyCol[]) => cols.map((c) => ({ name: c.name, kind: 'text' as const }));

function expectNoDiff(
  cols: readonly MyCol[],
  pk: readonly string[],
  expected: Cell[][],
  actual: Cell[][],
  what: string,
) {
  expect(expected.length, `${what}: the source is not empty`).toBeGreaterThan(0);
  expect(diffTables(asSpecs(cols), pk, expected as Row[], actual as Row[]).slice(0, 20), what).toEqual([]);
}

/** Reads a table on either side; on the target, renamed columns are read under their new name. */
async function readSide(d: Dialect, db: string, t: Table, side: 'source' | 'target'): Promise<Cell[][]> {
  return d === 'mysql' ? readMy(db, t.name, t.cols, t.pk, side) : readPgAs(db, t.name, t.cols, t.pk, side);
}

function streamOf(ledger: Ledger, table: string) {
  const s = ledger.streams.find((x) => x.stream.endsWith(table) && x.stream.split('.').pop() === table);
  expect(s, `ledger line of ${table}`).toBeDefined();
  return s!;
}

function planStream(p: Plan, table: string) {
  const s = p.streams.find((x) => x.source.name === table);
  expect(s, `plan of ${table}`).toBeDefined();
  return s!;
}

function ledgerMessage(l: Ledger): string {
  return JSON.stringify(l.streams.map((s) => [s.stream, s.status, s.error]));
}

async function assertVerifyEqual(job: ReturnType<typeof makeJob>, n: number): Promise<void> {
  const report = await verify(job);
  expect(
    report.status,
    JSON.stringify(report.streams.map((s) => [s.stream, s.status, s.error, s.mismatches.slice(0, 3)])),
  ).toBe('equal');
  expect(report.streams).toHaveLength(n);
}

/** The ledger says ok, every source row written, in several chunks (composite keys too). */
async function assertLedger(ledger: Ledger, from: Dialect, srcDb: string, tables: Table[]): Promise<void> {
  expect(ledger.status, ledgerMessage(ledger)).toBe('ok');
  for (const t of tables) {
    const sl = streamOf(ledger, t.name);
    const n = (await readSide(from, srcDb, { ...t, cols: t.cols.filter((c) => t.pk.includes(c.name)) }, 'source'))
      .length;
    expect(sl.status).toBe('ok');
    expect(sl.sourceRows).toBe(n);
    expect(sl.rowsWritten).toBe(n);
    expect(sl.rejects).toBe(0);
    const chunkRows = (t.settings?.chunk_rows as number | undefined) ?? CHUNK_ROWS;
    expect(sl.chunks, `${t.name}: chunks`).toBeGreaterThanOrEqual(Math.ceil(n / chunkRows));
  }
}

const TYPES: Table = { name: 'types', cols: MY_TYPES_COLS, pk: ['id'] };
const DOUBLES: Table = { name: 'doubles', cols: DOUBLES_COLS, pk: ['id'], settings: { chunk_rows: 300 } };
const KEYED: Table = { name: 'keyed', cols: KEYED_COLS, pk: ['region', 'n'] };
const BLNS: Table = { name: 'blns', cols: BLNS_MY_COLS, pk: ['id'], settings: { chunk_rows: 60 } };
const LONG_NAMES: Table = {
  name: 'long_names',
  cols: [
    { name: LONG_64, kind: 'int' },
    { name: LONG_64_B, kind: 'text' },
    { name: LONG_64_MB, kind: 'text' },
    { name: 'short', kind: 'text' },
  ],
  pk: [LONG_64],
};
const PG_TYPES: Table = { name: 'types', cols: PG_TYPES_COLS, pk: ['id'] };
const PG_NAMES: Table = { name: 'names', cols: PG_NAMES_COLS, pk: ['id'] };

beforeAll(async () => {
  work = tempDir('ferry-my-conf-');
  doubles = randomDoubles(N_DOUBLES);
  floats = randomFloats(N_DOUBLES);
  await Promise.all([buildMySource(MY_SRC, doubles, floats), buildPgSource(PG_SRC, doubles, floats)]);
});

describe('fixtures are what they claim', () => {
  it('MariaDB and PostgreSQL hold every random double and float bit for bit, and the awkward bytes as given', async () => {
    const want = doubles.map((d, i) => [
      String(i + 1),
      doubleBits(d),
      i < floats.length ? doubleBits(floats[i]) : null,
    ]);
    expect(await readMy(MY_SRC, 'doubles', DOUBLES_COLS, ['id'])).toEqual(want);
    expect(await readPgAs(PG_SRC, 'doubles', DOUBLES_COLS, ['id'], 'source')).toEqual(want);
    // A good share of subnormals is in the mix.
    expect(doubles.filter((d) => d !== 0 && Math.abs(d) < 2.2250738585072014e-308).length).toBeGreaterThan(50);

    const bytes = await myQuery<{ id: number; d: string; dt: string; ts: string }[]>(
      MY_SRC,
      'SELECT id, CAST(d AS CHAR) AS d, CAST(dt AS CHAR) AS dt, CAST(ts AS CHAR) AS ts FROM zero_dates ORDER BY id',
    );
    expect(bytes.map((r) => [r.id, r.d, r.dt, r.ts])).toEqual(ZERO_DATES_ROWS);
    const nul = await myQuery<{ id: number; h: string | null }[]>(
      MY_SRC,
      'SELECT id, HEX(s) AS h FROM nul_text ORDER BY id',
    );
    expect(nul.map((r) => [r.id, r.h === null ? null : Buffer.from(r.h, 'hex').toString('utf8')])).toEqual(NUL_ROWS);
    const bad = await myQuery<{ id: number; u: string | null; m: string | null }[]>(
      MY_SRC,
      'SELECT id, HEX(u) AS u, HEX(m) AS m FROM bad_utf8 ORDER BY id',
    );
    expect(bad.map((r) => [r.id, r.u?.toLowerCase() ?? null, r.m?.toLowerCase() ?? null])).toEqual(
      BAD_UTF8_ROWS.map(([id, u, m]) => [id, u?.toString('hex') ?? null, m?.toString('hex') ?? null]),
    );
    const l1 = await myQuery<{ h: string; cs: string }[]>(
      MY_SRC,
      'SELECT HEX(l1) AS h, CHARSET(l1) AS cs FROM types WHERE id = 1',
    );
    expect(l1[0]).toEqual({ h: CP1252_HIGH.toString('hex').toUpperCase(), cs: 'latin1' });
    // The server's own latin1 -> utf8mb4 conversion agrees with the Windows-1252 table the comparison uses.
    const conv = await myQuery<{ t: string }[]>(
      MY_SRC,
      'SELECT CONVERT(l1 USING utf8mb4) AS t FROM types WHERE id = 1',
    );
    expect(conv[0].t).toBe(cp1252(CP1252_HIGH));
    expect(conv[0].t.slice(0, 1)).toBe('€');
  });
});

describe('MySQL -> PostgreSQL', () => {
  const tables = [TYPES, DOUBLES, KEYED, BLNS, LONG_NAMES];

  for (const mode of ['full-refresh', 'append'] as const) {
    it(`${mode}: every value of every table, the type each cast rule promises, ledger and verify`, async () => {
      const tgt = await freshDb('postgres', `my_pg_${mode === 'append' ? 'app' : 'full'}`);
      const job = makeJob('mysql', MY_SRC, 'postgres', tgt, tables, { mode });
      const p = await plan(job);
      const ledger = await run(job);
      await assertLedger(ledger, 'mysql', MY_SRC, tables);

      // Which rule decided each data-dependent column, with the counts profiling found.
      // Tables without a transform go as PostgreSQL binary COPY made from MySQL's bytes (full
      // refresh); 'types' has transforms (tinyint(1) -> boolean, bit, time -> interval): rows.
      for (const t of tables) {
        const raw = mode === 'full-refresh' && t !== TYPES ? 'postgres-binary' : null;
        expect(planStream(p, t.name).passThrough, t.name).toBe(raw);
      }
      const cols = planStream(p, 'types').columns;
      const col = (n: string) => cols.find((c) => c.source.name === n)!;
      expect(col('b01').rule).toMatch(/when: values-0-1, to: boolean, transform: int-to-boolean/);
      expect(col('b01').found).toEqual({ 'values-0-1': 0 });
      expect(col('b2').rule).toMatch(/^\{ match: \{ type: "tinyint\(1\)" \}, to: int16 \}/);
      expect(col('b2').found).toEqual({ 'values-0-1': 1 });
      expect(col('tm').rule).toMatch(/when: within-day, to: time/);
      expect(col('tm').found).toMatchObject({ 'within-day': 0 });
      expect(col('tmx').rule).toMatch(/to: interval, transform: time-to-interval/);
      expect(col('bu').rule).toMatch(/to: decimal\(20,0\)/);
      expect(col('bit1').transform).toBe('bits-to-boolean');
      expect(col('bit64').transform).toBe('bits-to-integer');

      // The target types, as PostgreSQL reports them.
      const types = await withPg(tgt, async (c) =>
        Object.fromEntries(
          (
            await c.query<{ n: string; t: string }>(
              `SELECT attname AS n, format_type(atttypid, atttypmod) AS t FROM pg_attribute
                WHERE attrelid = 'public.types'::regclass AND attnum > 0 ORDER BY attnum`,
            )
          ).rows.map((r) => [r.n, r.t]),
        ),
      );
      expect(types).toEqual(MY_TYPES_PG_TYPES);

      // Every value, read independently on both sides.
      for (const t of tables) {
        const pk = t.pk.map((k) => planStream(p, t.name).columns.find((c) => c.source.name === k)!.target.name);
        expectNoDiff(
          t.cols,
          t.pk,
          await readMy(MY_SRC, t.name, t.cols, t.pk),
          await readPgAs(
            tgt,
            t.name,
            t.cols.map((c) => ({ ...c, targetName: targetName(p, t.name, c.name) })),
            pk,
            'target',
          ),
          `${t.name}: MySQL -> PostgreSQL ${mode}`,
        );
        const got = await withPg(tgt, async (c) =>
          (
            await c.query<{ a: string }>(
              `SELECT a.attname AS a FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY k.ord`,
              [`public."${t.name}"`],
            )
          ).rows.map((r) => r.a),
        );
        expect(got, `${t.name}: primary key`).toEqual(pk);
      }
      // The random doubles against the generated numbers themselves, too.
      const d = await readPgAs(tgt, 'doubles', DOUBLES_COLS, ['id'], 'target');
      expect(d.map((r) => r[1])).toEqual(doubles.map(doubleBits));
      expect(d.map((r) => r[2])).toEqual(doubles.map((_x, i) => (i < floats.length ? doubleBits(floats[i]) : null)));
      // The naughty strings, against blns.json.
      const b = await withPg(tgt, async (c) => (await c.query('SELECT s FROM public.blns ORDER BY id')).rows);
      expect(b.map((r) => r.s)).toEqual(blnsStrings());
      expect(
        await withPg(
          tgt,
          async (c) =>
            (await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE '\\_ferry\\_stage%'`)).rows[0]
              .n,
        ),
      ).toBe(0);
      await assertVerifyEqual(job, tables.length);
    });
  }

  it('a 64-character MySQL column name is renamed for PostgreSQL (63 bytes), deterministically; the key follows', async () => {
    const tgt = await freshDb('postgres', 'my_pg_names');
    const job = makeJob('mysql', MY_SRC, 'postgres', tgt, [LONG_NAMES]);
    const p1 = await plan(job);
    const p2 = await plan(job);
    const cols = planStream(p1, 'long_names').columns;
    expect(cols.map((c) => c.target.name)).toEqual(planStream(p2, 'long_names').columns.map((c) => c.target.name));
    for (const c of cols.slice(0, 3)) {
      expect(c.renamed, c.source.name).toMatch(/longer than 63 bytes: renamed/);
      expect(Buffer.byteLength(c.target.name)).toBeLessThanOrEqual(63);
    }
    expect(cols[3].renamed).toBeUndefined();
    // Two names equal in their first 63 bytes get two different names.
    expect(cols[0].target.name).not.toBe(cols[1].target.name);
    expect(planStream(p1, 'long_names').primaryKey).toEqual([cols[0].target.name]);
  });

  it('binary(16) -> bytea by default, and -> uuid with a user cast rule', async () => {
    const uuids: Table = {
      name: 'uuids',
      cols: [
        { name: 'id', kind: 'int' },
        { name: 'u', kind: 'uuid' },
        { name: 'other', kind: 'uuid' },
      ],
      pk: ['id'],
    };
    const tgt = await freshDb('postgres', 'my_pg_uuid');
    const casts = [{ match: { type: 'binary(16)' }, to: 'uuid', transform: 'binary16-to-uuid' }];
    const job = makeJob('mysql', MY_SRC, 'postgres', tgt, [uuids], { casts });
    const p = await plan(job);
    expect(planStream(p, 'uuids').columns[1].rule).toMatch(/to: uuid, transform: binary16-to-uuid/);
    const ledger = await run(job);
    await assertLedger(ledger, 'mysql', MY_SRC, [uuids]);
    expect(
      await withPg(
        tgt,
        async (c) =>
          (
            await c.query(
              `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'public.uuids'::regclass AND attname = 'u'`,
            )
          ).rows[0].t,
      ),
    ).toBe('uuid');
    expectNoDiff(
      uuids.cols,
      uuids.pk,
      await readMy(MY_SRC, 'uuids', uuids.cols, ['id']),
      await readPgAs(tgt, 'uuids', uuids.cols, ['id'], 'target'),
      'uuids',
    );
    await assertVerifyEqual(job, 1);
    // Without the rule (the types table above): bytea, compared as bytes.
  });
});

function targetName(p: Plan, table: string, column: string): string {
  return planStream(p, table).columns.find((c) => c.source.name === column)?.target.name ?? column;
}

describe('PostgreSQL -> MySQL', () => {
  const tables = [PG_TYPES, DOUBLES, KEYED, BLNS];

  it('full-refresh: every value of every table, the MySQL types, ledger and verify', async () => {
    const tgt = await freshDb('mysql', 'pg_my_full');
    const job = makeJob('postgres', PG_SRC, 'mysql', tgt, tables);
    const p = await plan(job);
    const ledger = await run(job);
    await assertLedger(ledger, 'postgres', PG_SRC, tables);
    const types = Object.fromEntries(
      (await myColumnTypes(tgt, 'types')).map((s) => s.split(' ')).map(([n, t]) => [n, t]),
    );
    expect(types).toEqual(PG_TYPES_MY_TYPES);
    for (const t of tables) {
      expectNoDiff(
        t.cols,
        t.pk,
        await readPgAs(PG_SRC, t.name, t.cols, t.pk, 'source'),
        await readMy(
          tgt,
          t.name,
          t.cols.map((c) => ({ ...c, targetName: targetName(p, t.name, c.name) })),
          t.pk,
          'target',
        ),
        `${t.name}: PostgreSQL -> MySQL`,
      );
      expect(await myPrimaryKey(tgt, t.name), `${t.name}: primary key`).toEqual(t.pk);
    }
    const d = await readMy(tgt, 'doubles', DOUBLES_COLS, ['id']);
    expect(d.map((r) => r[1])).toEqual(doubles.map(doubleBits));
    expect(d.map((r) => r[2])).toEqual(doubles.map((_x, i) => (i < floats.length ? doubleBits(floats[i]) : null)));
    const b = await myQuery<{ s: string }[]>(tgt, 'SELECT s FROM blns ORDER BY id');
    expect(b.map((r) => r.s)).toEqual(blnsStrings());
    expect(await myStageTables(tgt)).toEqual([]);
    await assertVerifyEqual(job, tables.length);
  });

  it('column names that collide in MySQL ("name", "Name", "NAME") are renamed deterministically; data intact', async () => {
    const tgt = await freshDb('mysql', 'pg_my_names');
    const job = makeJob('postgres', PG_SRC, 'mysql', tgt, [PG_NAMES]);
    const p = await plan(job);
    const cols = planStream(p, 'names').columns;
    expect(cols.map((c) => c.renamed === undefined)).toEqual([true, true, false, false, true]);
    expect(cols[2].renamed).toMatch(/"Name" collides with another column on mysql: renamed "Name_[0-9a-f]{8}"/);
    expect(cols[3].renamed).toMatch(/"NAME" collides with another column on mysql: renamed "NAME_[0-9a-f]{8}"/);
    // A 63-byte name (PostgreSQL's longest) fits MySQL's 64 characters: kept.
    expect(cols[4].target.name).toBe(PG_NAME_63);
    expect((await plan(job)).streams[0].columns.map((c) => c.target.name)).toEqual(cols.map((c) => c.target.name));
    const ledger = await run(job);
    await assertLedger(ledger, 'postgres', PG_SRC, [PG_NAMES]);
    const named = PG_NAMES.cols.map((c) => ({ ...c, targetName: targetName(p, 'names', c.name) }));
    expect((await myColumnTypes(tgt, 'names')).map((s) => s.split(' ')[0])).toEqual(named.map((c) => c.targetName));
    expectNoDiff(
      PG_NAMES.cols,
      ['id'],
      await readPgAs(PG_SRC, 'names', PG_NAMES.cols, ['id'], 'source'),
      await readMy(tgt, 'names', named, ['id'], 'target'),
      'names',
    );
    await assertVerifyEqual(job, 1);
  });
});

describe('MySQL -> MySQL', () => {
  it('full-refresh: the same column types and the same bytes in every value (zero dates, NUL and non-UTF-8 too)', async () => {
    const tables = [TYPES, DOUBLES, KEYED, BLNS, LONG_NAMES];
    const extra: Table[] = [
      { name: 'zero_dates', cols: ZERO_DATES_COLS, pk: ['id'] },
      {
        name: 'nul_text',
        cols: [
          { name: 'id', kind: 'int' },
          { name: 's', kind: 'text' },
        ],
        pk: ['id'],
      },
      {
        name: 'bad_utf8',
        cols: [
          { name: 'id', kind: 'int' },
          { name: 'u', kind: 'text' },
          { name: 'm', kind: 'text' },
        ],
        pk: ['id'],
      },
    ];
    const tgt = await freshDb('mysql', 'my_my');
    const job = makeJob('mysql', MY_SRC, 'mysql', tgt, [...tables, ...extra]);
    const ledger = await run(job);
    expect(ledger.status, ledgerMessage(ledger)).toBe('ok');
    // Same types on both sides: the rows travel as the source's LOAD DATA text, never decoded.
    const passed = ledger.streams.filter((s) => s.passThrough === 'mysql-text').map((s) => s.stream);
    expect(passed).toHaveLength(tables.length + extra.length);
    for (const t of [...tables, ...extra]) {
      expect(streamOf(ledger, t.name).status).toBe('ok');
      const cols = await myColumnTypes(MY_SRC, t.name);
      expect(await myColumnTypes(tgt, t.name), `${t.name}: column types`).toEqual(
        // The target is created utf8mb4: a latin1 column keeps its type, its text is converted.
        cols,
      );
      expect(await myPrimaryKey(tgt, t.name)).toEqual(t.pk);
      const src = await readMyRaw(MY_SRC, t.name, t.pk);
      const got = await readMyRaw(tgt, t.name, t.pk);
      expect(got.length, t.name).toBe(src.length);
      expect(got, `${t.name}: MySQL -> MySQL`).toEqual(src);
    }
    await assertVerifyEqual(job, tables.length + extra.length);
  });
});

interface RejectLine {
  stream: string;
  chunk: string;
  key: (string | null)[];
  column: string;
  value: string | null;
  reason: string;
  policy: string;
}

function readRejects(file: string | null | undefined): RejectLine[] {
  expect(file, 'rejects file').toBeTruthy();
  expect(existsSync(file!)).toBe(true);
  return readFileSync(file!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RejectLine);
}

/** Reject records a failed run left in its chunk files (the stream failed: no joined file). */
function chunkRejects(job: ReturnType<typeof makeJob>): RejectLine[] {
  const root = path.join(job.stateDir, 'rejects');
  const out: RejectLine[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (f.endsWith('.jsonl')) out.push(...readRejects(f));
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

const one = (t: string, cols: MyCol[]): Table => ({ name: t, cols, pk: ['id'] });
const ZERO: Table = one('zero_dates', ZERO_DATES_COLS);
const NUL: Table = one('nul_text', [
  { name: 'id', kind: 'int' },
  { name: 's', kind: 'text' },
]);

describe('policies: MySQL -> PostgreSQL', () => {
  it('zero and partial dates: plan counts them; NULL by default (counted in the ledger); verify equal', async () => {
    const tgt = await freshDb('postgres', 'pol_dates_null');
    const job = makeJob('mysql', MY_SRC, 'postgres', tgt, [ZERO]);
    const p = await plan(job);
    // Planned as binary COPY from MySQL's bytes: each chunk meets a zero date and goes back to rows.
    expect(planStream(p, 'zero_dates').passThrough).toBe('postgres-binary');
    const found = Object.fromEntries(planStream(p, 'zero_dates').columns.map((c) => [c.source.name, c.found]));
    expect(found).toEqual({
      id: undefined,
      d: { 'invalid-dates': ZERO_DATES_BAD.d },
      dt: { 'invalid-dates': ZERO_DATES_BAD.dt },
      ts: { 'invalid-dates': ZERO_DATES_BAD.ts },
    });
    const ledger = await run(job);
    expect(ledger.status, ledgerMessage(ledger)).toBe('ok');
    const sl = streamOf(ledger, 'zero_dates');
    expect(sl.policyCounts.invalid_dates).toBe(ZERO_DATES_BAD.d + ZERO_DATES_BAD.dt + ZERO_DATES_BAD.ts);
    expect(sl.rejects).toBe(0);
    expect(sl.rowsWritten).toBe(ZERO_DATES_ROWS.length);
    const expected = (await readMy(MY_SRC, 'zero_dates', ZERO_DATES_COLS, ['id'])).map((r) =>
      r.map((v, i) => (i > 0 && v !== null && ZERO_DATES_INVALID.has(v.replace(/\+00$/, '')) ? null : v)),
    );
    expect(expected.flat().filter((v) => v === null).length).toBeGreaterThan(8);
    expectNoDiff(
      ZERO_DATES_COLS,
      ['id'],
      expected,
      await readPgAs(tgt, 'zero_dates', ZERO_DATES_COLS, ['id'], 'target'),
      'zero dates -> NULL',
    );
    await assertVerifyEqual(job, 1);
  });

  it('zero and partial dates with invalid_dates: reject: over max_rejects the stream fails; within it the good rows load', async () => {
    const tgt = await freshDb('postgres', 'pol_dates_rej');
    const failing = makeJob('mysql', MY_SRC, 'postgres', tgt, [ZERO], {
      policies: { invalid_dates: 'reject' },
      maxRejects: 5,
    });
    const l1 = await run(failing);
    expect(l1.status).toBe('failed');
    expect(streamOf(l1, 'zero_dates').error).toMatch(/more than max_rejects \(5\) rows rejected.*invalid date/);
    expect(chunkRejects(failing).length).toBeGreaterThan(0);
    // Full refresh: nothing was swapped in.
    expect(
      await withPg(tgt, async (c) => (await c.query(`SELECT to_regclass('public.zero_dates') AS r`)).rows[0].r),
    ).toBeNull();

    const bad = Object.keys(ZERO_DATES_REJECTS).map(Number);
    const job = makeJob('mysql', MY_SRC, 'postgres', tgt, [ZERO], {
      policies: { invalid_dates: 'reject' },
      maxRejects: bad.length,
    });
    const ledger = await run(job);
    expect(ledger.status, ledgerMessage(ledger)).toBe('ok');
    const sl = streamOf(ledger, 'zero_dates');
    expect(sl.rejects).toBe(bad.length);
    expect(sl.rowsWritten).toBe(ZERO_DATES_ROWS.length - bad.length);
    const rejects = readRejects(sl.rejectsFile).sort((a, b) => Number(a.key[0]) - Number(b.key[0]));
    expect(rejects.map((r) => [Number(r.key[0]), r.column])).toEqual(bad.map((id) => [id, ZERO_DATES_REJECTS[id]]));
    for (const r of rejects) {
      expect(r.stream).toBe(sl.stream);
      expect(r.chunk).toMatch(/^c\d{5}$/);
      expect(r.reason).toMatch(/^invalid date /);
      expect(r.policy).toBe('invalid_dates');
      const row = ZERO_DATES_ROWS.find((x) => x[0] === Number(r.key[0]))!;
      const raw = row[['id', 'd', 'dt', 'ts'].indexOf(r.column)] as string;
      expect(r.value?.slice(0, 10)).toBe(raw.slice(0, 10));
    }
    const expected = (await readMy(MY_SRC, 'zero_dates', ZERO_DATES_COLS, ['id'])).filter(
      (r) => !bad.includes(Number(r[0])),
    );
    expectNoDiff(
      ZERO_DATES_COLS,
      ['id'],
      expected,
      await readPgAs(tgt, 'zero_dates', ZERO_DATES_COLS, ['id'], 'target'),
      'good rows',
    );
    await assertVerifyEqual(job, 1);
  });

  it('NUL in text: stripped by default, U+FFFD with replace, rejected with reject', async () => {
    const nulRows = NUL_ROWS.filter(([, s]) => s?.includes('\u0000')).map(([id]) => id);
    for (const [policy, fix] of [
      ['strip', (s: string) => s.replace(/\u0000/g, '')],
      ['replace', (s: string) => s.replace(/\u0000/g, '\uFFFD')],
      ['reject', null],
    ] as const) {
      const tgt = await freshDb('postgres', `pol_nul_${policy}`);
      const job = makeJob('mysql', MY_SRC, 'postgres', tgt, [NUL], {
        ...(policy === 'strip' ? {} : { policies: { nul_bytes: policy } }),
        maxRejects: policy === 'reject' ? nulRows.length : 0,
      });
      const p = await plan(job);
      expect(planStream(p, 'nul_text').columns[1].found).toMatchObject({ 'nul-bytes': nulRows.length });
      const ledger = await run(job);
      expect(ledger.status, ledgerMessage(ledger)).toBe('ok');
      const sl = streamOf(ledger, 'nul_text');
      const src = await readMy(MY_SRC, 'nul_text', NUL.cols, ['id']);
      let expected: Cell[][];
      if (fix) {
        expect(sl.policyCounts.nul_bytes).toBe(nulRows.length);
        expected = src.map(([id, s]) => [id, s === null ? null : fix(s)]);
      } else {
        expect(sl.rejects).toBe(nulRows.length);
        const rj = readRejects(sl.rejectsFile);
        expect(rj.map((r) => Number(r.key[0])).sort()).toEqual(nulRows);
        expect(rj.every((r) => r.column === 's' && r.policy === 'nul_bytes' && /NUL/.test(r.reason))).toBe(true);
        expected = src.filter(([id]) => !nulRows.includes(Number(id)));
      }
      expectNoDiff(
        NUL.cols,
        ['id'],
        expected,
        await readPgAs(tgt, 'nul_text', NUL.cols, ['id'], 'target'),
        `nul_bytes: ${policy}`,
      );
      await assertVerifyEqual(job, 1);
    }
  });

  it('text that is not UTF-8 in utf8mb4/utf8mb3 columns: rejected by default, U+FFFD with replace, decoded with cp1252', async () => {
    const t = one('bad_utf8', [
      { name: 'id', kind: 'int' },
      { name: 'u', kind: 'text' },
      { name: 'm', kind: 'text' },
    ]);
    const bad = Object.keys(BAD_UTF8_BAD).map(Number);
    const bytes = new Map(BAD_UTF8_ROWS.map(([id, u, m]) => [id, [u, m]]));
    const failing = makeJob('mysql', MY_SRC, 'postgres', await freshDb('postgres', 'pol_utf8_fail'), [t]);
    const p = await plan(failing);
    expect(
      planStream(p, 'bad_utf8')
        .columns.slice(1)
        .map((c) => c.found?.['invalid-utf8']),
    ).toEqual([3, 1]);
    const l1 = await run(failing);
    expect(l1.status).toBe('failed');
    expect(streamOf(l1, 'bad_utf8').error).toMatch(/max_rejects \(0\).*invalid UTF-8/);

    const decoders = {
      reject: null,
      replace: (b: Buffer) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(b),
      cp1252: (b: Buffer) => cp1252(b),
    };
    for (const [policy, decode] of Object.entries(decoders)) {
      const tgt = await freshDb('postgres', `pol_utf8_${policy}`);
      const job = makeJob('mysql', MY_SRC, 'postgres', tgt, [t], {
        policies: { invalid_utf8: policy },
        maxRejects: policy === 'reject' ? bad.length : 0,
      });
      const ledger = await run(job);
      expect(ledger.status, ledgerMessage(ledger)).toBe('ok');
      const sl = streamOf(ledger, 'bad_utf8');
      let expected: Cell[][];
      if (decode) {
        expect(sl.policyCounts.invalid_utf8).toBe(4);
        const utf8 = new TextDecoder('utf-8', { fatal: true });
        const text = (b: Buffer | null) => {
          if (b === null) return null;
          try {
            return utf8.decode(b);
          } catch {
            return decode(b);
          }
        };
        expected = BAD_UTF8_ROWS.map(([id, u, m]) => [String(id), text(u), text(m)]);
        // The replacement really is there (and the cp1252 text really is something else).
        expect(expected.flat().some((v) => v?.includes(policy === 'replace' ? '\uFFFD' : 'í'))).toBe(true);
      } else {
        expect(sl.rejects).toBe(bad.length);
        const rj = readRejects(sl.rejectsFile).sort((a, b) => Number(a.key[0]) - Number(b.key[0]));
        expect(rj.map((r) => [Number(r.key[0]), r.column])).toEqual(bad.map((id) => [id, BAD_UTF8_BAD[id]]));
        for (const r of rj) {
          const [u, m] = bytes.get(Number(r.key[0]))!;
          expect(r.value).toBe(`\\x${(r.column === 'u' ? u : m)!.toString('hex')}`);
          expect(r.policy).toBe('invalid_utf8');
        }
        expected = BAD_UTF8_ROWS.filter(([id]) => !bad.includes(id)).map(([id, u, m]) => [
          String(id),
          u === null ? null : u.toString('utf8'),
          m === null ? null : m.toString('utf8'),
        ]);
      }
      expectNoDiff(
        t.cols,
        ['id'],
        expected,
        await readPgAs(tgt, 'bad_utf8', t.cols, ['id'], 'target'),
        `invalid_utf8: ${policy}`,
      );
      await assertVerifyEqual(job, 1);
    }
  });

  it('bit(64) above 2^63-1: numeric(20,0) by default (exact); cast to int64 -> out_of_range (reject by default, null)', async () => {
    const t = one('bits', [
      { name: 'id', kind: 'int' },
      { name: 'b', kind: 'bits' },
    ]);
    const over = BITS_ROWS.filter(([, v]) => v !== null && BigInt(v) > 2n ** 63n - 1n).map(([id]) => id);
    expect(over.length).toBeGreaterThan(0);
    const src = await readMy(MY_SRC, 'bits', t.cols, ['id']);

    // The default rule: bit(64) -> decimal(20,0), every value exact.
    const tgt0 = await freshDb('postgres', 'pol_bits_default');
    const dflt = makeJob('mysql', MY_SRC, 'postgres', tgt0, [t]);
    const l0 = await run(dflt);
    expect(l0.status, ledgerMessage(l0)).toBe('ok');
    expectNoDiff(
      t.cols,
      ['id'],
      src,
      await readPgAs(tgt0, 'bits', t.cols, ['id'], 'target'),
      'bits: default numeric(20,0)',
    );
    await assertVerifyEqual(dflt, 1);

    // A user rule narrowing it to int64: values above 2^63-1 fall under out_of_range.
    const toInt64 = [{ match: { type: 'bit(64)' }, to: 'int64', transform: 'bits-to-integer' as const }];
    const failing = makeJob('mysql', MY_SRC, 'postgres', await freshDb('postgres', 'pol_bits_fail'), [t], {
      casts: toInt64,
    });
    const l1 = await run(failing);
    expect(l1.status).toBe('failed');
    expect(streamOf(l1, 'bits').error).toMatch(
      /max_rejects \(0\).*9223372036854775808 is outside int64|max_rejects \(0\).*18446744073709551615 is outside int64/,
    );
    const rj = chunkRejects(failing);
    expect(rj.length).toBeGreaterThan(0);
    expect(rj[0]).toMatchObject({ column: 'b', policy: 'out_of_range' });

    const tgt = await freshDb('postgres', 'pol_bits_null');
    const job = makeJob('mysql', MY_SRC, 'postgres', tgt, [t], { casts: toInt64, policies: { out_of_range: 'null' } });
    const ledger = await run(job);
    expect(ledger.status, ledgerMessage(ledger)).toBe('ok');
    expect(streamOf(ledger, 'bits').policyCounts.out_of_range).toBe(over.length);
    expectNoDiff(
      t.cols,
      ['id'],
      src.map(([id, b]) => [id, over.includes(Number(id)) ? null : b]),
      await readPgAs(tgt, 'bits', t.cols, ['id'], 'target'),
      'bits: null',
    );
    await assertVerifyEqual(job, 1);
  });
});

describe('policies: PostgreSQL -> MySQL', () => {
  const NONFINITE: Table = one('nonfinite', [
    { name: 'id', kind: 'int' },
    { name: 'r', kind: 'float4' },
    { name: 'd', kind: 'float8' },
  ]);

  it('NaN and ±Infinity: rejected by default (the stream fails over max_rejects), NULL with non_finite_floats: null', async () => {
    const src = await readPgAs(PG_SRC, 'nonfinite', NONFINITE.cols, ['id'], 'source');
    const nonFinite = (v: Cell) => v !== null && !Number.isFinite(Buffer.from(v, 'hex').readDoubleBE(0));
    const badRows = src.filter((r) => r.slice(1).some(nonFinite)).map((r) => Number(r[0]));
    expect(badRows).toEqual([2, 3, 4, 6]);

    const failing = makeJob('postgres', PG_SRC, 'mysql', await freshDb('mysql', 'pol_nan_fail'), [NONFINITE]);
    const l1 = await run(failing);
    expect(l1.status).toBe('failed');
    expect(streamOf(l1, 'nonfinite').error).toMatch(/max_rejects \(0\).*(NaN|Infinity) cannot be stored/);

    const tgt = await freshDb('mysql', 'pol_nan_rej');
    const rejecting = makeJob('postgres', PG_SRC, 'mysql', tgt, [NONFINITE], { maxRejects: badRows.length });
    const l2 = await run(rejecting);
    expect(l2.status, ledgerMessage(l2)).toBe('ok');
    const sl2 = streamOf(l2, 'nonfinite');
    expect(sl2.rejects).toBe(badRows.length);
    const rj = readRejects(sl2.rejectsFile);
    expect(rj.map((r) => Number(r.key[0])).sort()).toEqual(badRows);
    expect(
      rj.every((r) => r.policy === 'non_finite_floats' && ['NaN', 'Infinity', '-Infinity'].includes(r.value!)),
    ).toBe(true);
    expectNoDiff(
      NONFINITE.cols,
      ['id'],
      src.filter((r) => !badRows.includes(Number(r[0]))),
      await readMy(tgt, 'nonfinite', NONFINITE.cols, ['id']),
      'non-finite rejected',
    );
    await assertVerifyEqual(rejecting, 1);

    const tgt2 = await freshDb('mysql', 'pol_nan_null');
    const nulling = makeJob('postgres', PG_SRC, 'mysql', tgt2, [NONFINITE], {
      policies: { non_finite_floats: 'null' },
    });
    const l3 = await run(nulling);
    expect(l3.status, ledgerMessage(l3)).toBe('ok');
    expect(streamOf(l3, 'nonfinite').policyCounts.non_finite_floats).toBe(
      src.flatMap((r) => r.slice(1)).filter(nonFinite).length,
    );
    expectNoDiff(
      NONFINITE.cols,
      ['id'],
      src.map((r) => r.map((v, i) => (i > 0 && nonFinite(v) ? null : v))),
      await readMy(tgt2, 'nonfinite', NONFINITE.cols, ['id']),
      'non-finite -> NULL',
    );
    await assertVerifyEqual(nulling, 1);
  });

  it('a reject over max_rejects before the server asks for the LOAD DATA file: the chunk fails at once, cleanly', async () => {
    // The target table is locked while the run starts, so the server asks for the file only after
    // the first batch (NaN in its first row) has already failed the chunk.
    const tgt = await freshDb('mysql', 'pol_nan_lock');
    await myQuery(tgt, 'CREATE TABLE nonfinite (id int NOT NULL PRIMARY KEY, r float, d double)');
    const job = makeJob('postgres', PG_SRC, 'mysql', tgt, [NONFINITE], { mode: 'append' });
    const t0 = Date.now();
    const ledger = await withMy(tgt, async (lock) => {
      await lock.query('LOCK TABLES nonfinite WRITE');
      const running = run(job);
      await new Promise((r) => setTimeout(r, 1500));
      await lock.query('UNLOCK TABLES');
      return running;
    });
    expect(ledger.status).toBe('failed');
    expect(streamOf(ledger, 'nonfinite').error).toMatch(/max_rejects \(0\)/);
    expect(Date.now() - t0, 'no wait for the server to give up on the file').toBeLessThan(15_000);
    expect(await myQuery<unknown[]>(tgt, 'SELECT * FROM nonfinite')).toEqual([]);
  });

  it('numeric without precision -> decimal(65,30): 40 digits that fit arrive exactly; 40 integer digits are out_of_range', async () => {
    const t = one('numerics', [
      { name: 'id', kind: 'int' },
      { name: 'n', kind: 'decimal' },
    ]);
    const tgt = await freshDb('mysql', 'pol_numeric');
    const job = makeJob('postgres', PG_SRC, 'mysql', tgt, [t], { maxRejects: 2 });
    const p = await plan(job);
    expect(planStream(p, 'numerics').columns[1].target.nativeType).toBe('decimal(65,30)');
    expect(planStream(p, 'numerics').columns[1].lossy).toMatch(/decimal\(65,30\)/);
    const ledger = await run(job);
    expect(ledger.status, ledgerMessage(ledger)).toBe('ok');
    const sl = streamOf(ledger, 'numerics');
    expect(sl.rejects).toBe(2);
    const rj = readRejects(sl.rejectsFile).sort((a, b) => Number(a.key[0]) - Number(b.key[0]));
    expect(rj.map((r) => [r.key[0], r.column, r.policy, r.value])).toEqual([
      ['3', 'n', 'out_of_range', '1234567890123456789012345678901234567890'],
      ['7', 'n', 'out_of_range', '0.1234567890123456789012345678901'],
    ]);
    // decimal(65,30) prints 30 decimals: the same number with the scale's zeros after it.
    const src = await readPgAs(PG_SRC, 'numerics', t.cols, ['id'], 'source');
    const pad = (v: Cell) => {
      if (v === null) return null;
      const [i, f = ''] = v.split('.');
      return `${i}.${f.padEnd(30, '0')}`;
    };
    expectNoDiff(
      t.cols,
      ['id'],
      src.filter((r) => !['3', '7'].includes(r[0]!)).map(([id, n]) => [id, pad(n)]),
      await readMy(tgt, 'numerics', t.cols, ['id']),
      'numerics',
    );
    await assertVerifyEqual(job, 1);
  });
});

describe('a MariaDB server with local_infile off and a time zone that is not UTC', () => {
  it('ferry loads with multi-row INSERTs instead of LOAD DATA, exactly, and never shifts a TIMESTAMP', async () => {
    const [saved] = await myQuery<{ li: number | string; tz: string }[]>(
      null,
      'SELECT @@GLOBAL.local_infile AS li, @@GLOBAL.time_zone AS tz',
    );
    expect(Number(saved.li)).toBe(1);
    const pgTables = [PG_TYPES, DOUBLES, KEYED];
    const myTables = [TYPES, KEYED, ZERO, NUL, one('bad_utf8', [])];
    const pgToMy = makeJob('postgres', PG_SRC, 'mysql', await freshDb('mysql', 'noinfile_pg_my'), pgTables);
    const myToMy = makeJob('mysql', MY_SRC, 'mysql', await freshDb('mysql', 'noinfile_my_my'), myTables);
    const myToPg = makeJob('mysql', MY_SRC, 'postgres', await freshDb('postgres', 'noinfile_my_pg'), [TYPES]);
    try {
      await myQuery(null, 'SET GLOBAL local_infile = 0');
      await myQuery(null, `SET GLOBAL time_zone = '+05:30'`);
      const [now] = await myQuery<{ li: number | string; tz: string }[]>(
        null,
        'SELECT @@GLOBAL.local_infile AS li, @@GLOBAL.time_zone AS tz',
      );
      expect([Number(now.li), now.tz]).toEqual([0, '+05:30']);
      const ledgers = [await run(pgToMy), await run(myToMy), await run(myToPg)];
      for (const l of ledgers) expect(l.status, ledgerMessage(l)).toBe('ok');
      await assertLedger(ledgers[0], 'postgres', PG_SRC, pgTables);
      await assertVerifyEqual(pgToMy, pgTables.length);
      await assertVerifyEqual(myToMy, myTables.length);
      await assertVerifyEqual(myToPg, 1);
    } finally {
      await myQuery(null, `SET GLOBAL local_infile = ${Number(saved.li)}`);
      await myQuery(null, `SET GLOBAL time_zone = ?`, [saved.tz]);
    }
    const p = await plan(pgToMy);
    for (const t of pgTables) {
      expectNoDiff(
        t.cols,
        t.pk,
        await readPgAs(PG_SRC, t.name, t.cols, t.pk, 'source'),
        await readMy(
          'ferry_my_noinfile_pg_my',
          t.name,
          t.cols.map((c) => ({ ...c, targetName: targetName(p, t.name, c.name) })),
          t.pk,
          'target',
        ),
        `${t.name}: PostgreSQL -> MySQL with INSERTs`,
      );
    }
    for (const t of myTables) {
      expect(
        await readMyRaw('ferry_my_noinfile_my_my', t.name, t.pk),
        `${t.name}: MySQL -> MySQL with INSERTs`,
      ).toEqual(await readMyRaw(MY_SRC, t.name, t.pk));
    }
    expectNoDiff(
      TYPES.cols,
      TYPES.pk,
      await readMy(MY_SRC, 'types', TYPES.cols, ['id']),
      await readPgAs('ferry_my_noinfile_my_pg', 'types', TYPES.cols, ['id'], 'target'),
      'types: MySQL -> PostgreSQL',
    );
    // The TIMESTAMP values as UTC instants: 1970-01-01 00:00:01 UTC is epoch 1, whatever the zones.
    const epochs = await withPg('ferry_my_noinfile_my_pg', async (c) =>
      (
        await c.query(
          `SELECT extract(epoch FROM ts)::numeric::text AS e FROM public.types WHERE id IN (1, 3, 4) ORDER BY id`,
        )
      ).rows.map((r) => r.e),
    );
    expect(epochs.map(Number)).toEqual([Date.UTC(2024, 2, 31, 1, 30, 0) / 1000 + 0.5, 2147483647.999999, 1]);
  });
});

describe('the checks can fail', () => {
  it('a value changed by one ulp, one microsecond or one byte in a target is reported by the comparison and by verify', async () => {
    const tgt = await freshDb('mysql', 'canary');
    const tables = [PG_TYPES, DOUBLES];
    const job = makeJob('postgres', PG_SRC, 'mysql', tgt, tables);
    expect((await run(job)).status).toBe('ok');
    const f8 = new Float64Array(1);
    const u64 = new BigUint64Array(f8.buffer);
    f8[0] = doubles[10];
    u64[0] += 1n; // the next double
    const damages: [string, string, unknown[], RegExp][] = [
      ['double one ulp', 'UPDATE doubles SET d = ? WHERE id = 11', [f8[0]], /key \["11"\] column d/],
      ['float one ulp', 'UPDATE types SET r = ? WHERE id = 1', [0.3333333730697632], /key \["1"\] column r/],
      [
        'timestamptz 1 µs',
        'UPDATE types SET tstz = tstz + INTERVAL 1 MICROSECOND WHERE id = 4',
        [],
        /key \["4"\] column tstz/,
      ],
      ['trailing space', `UPDATE types SET t = CONCAT(t, ' ') WHERE id = 5`, [], /key \["5"\] column t/],
      [
        'one byte',
        `UPDATE types SET \`by\` = CONCAT(X'01', SUBSTRING(\`by\`, 2)) WHERE id = 1`,
        [],
        /key \["1"\] column by/,
      ],
      ['true -> false', 'UPDATE types SET b = 0 WHERE id = 1', [], /key \["1"\] column b/],
    ];
    for (const [what, sql, values, expected] of damages) {
      await myQuery(tgt, sql, values);
      const t = sql.includes('doubles') ? DOUBLES : PG_TYPES;
      const diff = diffTables(
        asSpecs(t.cols),
        t.pk,
        (await readPgAs(PG_SRC, t.name, t.cols, t.pk, 'source')) as Row[],
        (await readMy(tgt, t.name, t.cols, t.pk)) as Row[],
      );
      expect(diff.join('\n'), what).toMatch(expected);
      const report = await verify(job);
      expect(report.status, what).toBe('mismatch');
      expect(await run(job).then((l) => l.status)).toBe('ok'); // restore the target
    }
    await assertVerifyEqual(job, tables.length);
  });
});
