// biome-ignore-all lint/suspicious/noTemplateCurlyInString: job files use ${VAR} syntax, written literally here
/**
 * Bad input, end to end: the real CLI (built, in dist/) as a child process against the real
 * PostgreSQL on 127.0.0.1 (databases `ferry_bad_*`) and real SQLite files.
 *
 * Every case asserts (1) the documented exit code (2 bad usage/job file, 3 cannot connect),
 * (2) that stderr names the culprit (file, key path, stream, variable, host, ...), and (3) that
 * NOTHING was written: the job's folder holds only what the test put there (no target SQLite file,
 * no `.ferry` state folder), and the PostgreSQL target database still has no table at all (no target
 * table, no staging table, no `_ferry_chunks`). No password ever appears in stdout or stderr.
 *
 * Needs `npm run build` first.
 */

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CliResult,
  FERRY_BIN,
  freshPgDatabase,
  PG_BASE,
  pgQuery,
  pgUrl,
  ROOT,
  runCli,
  tempDir,
  writeJob,
} from './helpers/env.js';
import { startPasswordCluster } from './helpers/pg-cluster.js';

const SRC_DB = 'ferry_bad_src';
const TGT_DB = 'ferry_bad_tgt';
const MISSING_DB = 'ferry_bad_no_such_db';
const ROLE = 'ferry_bad_user';

/** Distinctive passwords: none of them may ever be printed. */
const URL_PW = 'UrlPw-7f3kq9-zz';
const ENV_PW = 'EnvPw-2m8xz4-yy';
const PARAM_PW = 'ParamPw-5n1vw6-xx';
const ROLE_PW = 'RolePw-9c4ht2-ww';

const base = new URL(PG_BASE);
/** `127.0.0.1:5432` of the test server. */
const HOST_PORT = base.host;
const PG_USER = decodeURIComponent(base.username || 'postgres');
/**
 * The password of the test user where the server needs one (FERRY_TEST_PG_URL carries it); with
 * `trust` (the default server here) any password is accepted, so a distinctive one is used instead.
 */
const REAL_PW = decodeURIComponent(base.password);
const pw = (distinctive: string) => REAL_PW || distinctive;
const SECRETS = [URL_PW, ENV_PW, PARAM_PW, ROLE_PW, ...(REAL_PW.length >= 3 ? [REAL_PW] : [])];
/** A user that does not exist: `role ... does not exist` with trust, a failed password otherwise. */
const NO_ROLE = /role "nobody_ferry" does not exist|password authentication failed for user "nobody_ferry"/;

/** A SQLite source shared by the cases, outside their folders (so folder listings stay exact). */
const srcDir = tempDir('ferry-bad-src-');
const sqliteSrc = path.join(srcDir, 'src.db');

const folders: string[] = [srcDir];
/** A fresh temporary folder, removed after the file's tests. */
function scratch(): string {
  const dir = tempDir('ferry-bad-');
  folders.push(dir);
  return dir;
}

/** Runs the CLI; asserts that no secret leaked on either stream. */
async function ferry(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const r = await runCli(args, opts);
  for (const s of SECRETS) {
    expect(r.stdout, `secret on stdout of ferry ${args.join(' ')}`).not.toContain(s);
    expect(r.stderr, `secret on stderr of ferry ${args.join(' ')}`).not.toContain(s);
  }
  return r;
}

/** A fresh folder with one job file in it. */
function jobDir(job: unknown, name = 'job.yaml'): { dir: string; file: string } {
  const dir = scratch();
  return { dir, file: writeJob(dir, job, name) };
}

/** Tables (of any kind) and non-default schemas in the PostgreSQL target. */
async function pgTargetObjects(): Promise<string[]> {
  const rows = await pgQuery<{ name: string }>(
    TGT_DB,
    `SELECT n.nspname || '.' || c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
     UNION ALL
     SELECT 'schema ' || nspname FROM pg_namespace
      WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'`,
  );
  return rows.map((r) => r.name).sort();
}

/** Nothing written: the folder holds exactly `files`, and the PostgreSQL target is empty. */
async function expectNothingWritten(dir: string, files: string[] = ['job.yaml']): Promise<void> {
  expect(readdirSync(dir).sort(), `contents of ${dir}`).toEqual([...files].sort());
  expect(existsSync(path.join(dir, '.ferry'))).toBe(false);
  expect(await pgTargetObjects(), `objects in ${TGT_DB}`).toEqual([]);
}

/** Exit code, a `ferry:` message on stderr matching every pattern, nothing on stdout. */
function expectFailure(r: CliResult, code: number, ...patterns: (RegExp | string)[]): void {
  const shown = `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.code, shown).toBe(code);
  expect(r.signal, shown).toBeNull();
  expect(r.stdout, shown).toBe('');
  for (const p of patterns) {
    if (typeof p === 'string') expect(r.stderr, shown).toContain(p);
    else expect(r.stderr, shown).toMatch(p);
  }
}

const pgSrc = () => pgUrl(SRC_DB);
const pgTgt = () => pgUrl(TGT_DB);

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'ferry.js'))) {
    throw new Error(`dist/ is missing: run \`npm run build\` before this test (${FERRY_BIN} imports dist/)`);
  }
  await freshPgDatabase(SRC_DB);
  await freshPgDatabase(TGT_DB);
  await pgQuery(
    SRC_DB,
    `CREATE TABLE public.orders (id bigint PRIMARY KEY, note text);
     INSERT INTO public.orders SELECT g, 'n' || g FROM generate_series(1, 50) g;
     CREATE TABLE public.customers (id int PRIMARY KEY, name text);
     INSERT INTO public.customers VALUES (1, 'a'), (2, 'b');
     CREATE SCHEMA sales;
     CREATE TABLE sales."Order Items" (id int PRIMARY KEY);`,
  );
  await pgQuery('postgres', `DROP DATABASE IF EXISTS ${MISSING_DB}`);
  await pgQuery('postgres', `DROP ROLE IF EXISTS ${ROLE}`);
  await pgQuery('postgres', `CREATE ROLE ${ROLE} LOGIN PASSWORD '${ROLE_PW}'`);
  const db = new Database(sqliteSrc);
  db.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT);
           INSERT INTO orders VALUES (1, 'a'), (2, 'b'), (3, NULL);
           CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);`);
  db.close();
});

// A case that wrongly wrote into the target fails itself, not every case after it.
beforeEach(async () => {
  if ((await pgTargetObjects()).length > 0) await freshPgDatabase(TGT_DB);
});

afterAll(async () => {
  await pgQuery('postgres', `DROP DATABASE IF EXISTS ${TGT_DB} WITH (FORCE)`).catch(() => {});
  await pgQuery('postgres', `DROP DATABASE IF EXISTS ${SRC_DB} WITH (FORCE)`).catch(() => {});
  await pgQuery('postgres', `DROP ROLE IF EXISTS ${ROLE}`).catch(() => {});
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('sanity: a good job works, so the failures below are about the input', () => {
  it('plan --json of a PostgreSQL job parses as JSON and writes nothing', async () => {
    const { dir, file } = jobDir({ source: pgSrc(), target: pgTgt(), streams: { 'public.orders': null } });
    const r = await ferry(['plan', '--json', file]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.sourceDialect).toBe('postgres');
    expect(plan.streams.map((s: { name: string }) => s.name)).toEqual(['public.orders']);
    expect(plan.streams[0].chunkKey).toEqual(['id']);
    expect(plan.streams[0].chunks.length).toBeGreaterThan(0);
    await expectNothingWritten(dir);
  });

  it('plan --json of a SQLite -> SQLite job parses as JSON and never creates the target file', async () => {
    const { dir, file } = jobDir({ source: `sqlite:${sqliteSrc}`, target: 'sqlite:out.db', streams: { orders: null } });
    const r = await ferry(['plan', '--json', file]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.targetDialect).toBe('sqlite');
    expect(plan.streams[0].target).toEqual({ schema: null, name: 'orders' });
    expect(plan.streams[0].chunkRows).toBe(500000);
    await expectNothingWritten(dir);
  });

  it('plan --json hides the URL password', async () => {
    const url = `postgres://${PG_USER}:${pw(URL_PW)}@${HOST_PORT}/${SRC_DB}`;
    const { file } = jobDir({ source: url, target: 'sqlite:out.db', streams: { orders: null } });
    const r = await ferry(['plan', '--json', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).source).toBe(`postgres://${PG_USER}:***@${HOST_PORT}/${SRC_DB}`);
  });

  it('--help and --version exit 0 (not every exit is 2)', async () => {
    expect((await ferry(['--help'])).code).toBe(0);
    const v = await ferry(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('unknown tables (exit 2)', () => {
  it('PostgreSQL source -> SQLite target: names the stream; no target file, no state folder', async () => {
    const { dir, file } = jobDir({
      source: pgSrc(),
      target: 'sqlite:out.db',
      streams: { 'public.orders': null, 'public.no_such_table': null },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'stream "public.no_such_table": table does not exist in the source', 'hint:');
    await expectNothingWritten(dir);
  });

  it('PostgreSQL -> PostgreSQL: nothing in the target, not even the good stream or _ferry_chunks', async () => {
    const { dir, file } = jobDir({
      source: pgSrc(),
      target: pgTgt(),
      streams: { 'public.orders': null, 'public.customers': null, 'public.nope': null },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'stream "public.nope": table does not exist in the source');
    await expectNothingWritten(dir);
    const ledger = await pgQuery<{ t: string | null }>(TGT_DB, "SELECT to_regclass('public._ferry_chunks')::text AS t");
    expect(ledger[0].t).toBeNull();
  });

  it('suggests a near name', async () => {
    const { dir, file } = jobDir({ source: pgSrc(), target: pgTgt(), streams: { 'public.order': null } });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'stream "public.order": table does not exist', /hint: did you mean .*public\.orders/);
    await expectNothingWritten(dir);
  });

  it('a quoted name matches exactly: "Orders" is not orders', async () => {
    const { dir, file } = jobDir(`source: ${pgSrc()}\ntarget: ${pgTgt()}\nstreams:\n  'public."Orders"': {}\n`);
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'stream "public.\\"Orders\\"": table does not exist in the source');
    await expectNothingWritten(dir);
  });

  it('a schema that does not exist, and a wildcard over it', async () => {
    for (const selector of ['nosuch.orders', 'nosuch.*']) {
      const { dir, file } = jobDir({ source: pgSrc(), target: pgTgt(), streams: { [selector]: null } });
      const r = await ferry(['run', '--no-progress', file]);
      expectFailure(r, 2, `stream "${selector}"`);
      await expectNothingWritten(dir);
    }
  });

  it('SQLite source -> SQLite target: names the stream; the target file is not created', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: 'sqlite:out.db',
      streams: { orders: null, no_such_table: null },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'stream "no_such_table": table does not exist in the source');
    await expectNothingWritten(dir);
  });

  it('SQLite source -> PostgreSQL target: nothing in the target', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: pgTgt(),
      streams: { orders: null, nope: null },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'stream "nope": table does not exist in the source');
    await expectNothingWritten(dir);
  });

  it('a schema-qualified name on a SQLite source', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: 'sqlite:out.db',
      streams: { 'public.orders': null },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(
      r,
      2,
      'stream "public.orders": the sqlite source has no schema public',
      'hint: write the table name alone',
    );
    await expectNothingWritten(dir);
  });

  it('plan, verify and status say the same (exit 2) and write nothing', async () => {
    const { dir, file } = jobDir({ source: pgSrc(), target: pgTgt(), streams: { 'public.nope': null } });
    for (const cmd of ['plan', 'verify']) {
      const r = await ferry([cmd, file]);
      expectFailure(r, 2, 'stream "public.nope": table does not exist in the source');
    }
    await expectNothingWritten(dir);
  });

  it('a column or key column that does not exist', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ columns: ['id', 'nope'] }, 'columns: no column "nope" in the source table'],
      [{ primary_key: ['nope'] }, 'primary_key: no column "nope"'],
      [{ columns: ['note'] }, 'columns must include the key column "id"'],
    ];
    for (const [settings, message] of cases) {
      const { dir, file } = jobDir({ source: pgSrc(), target: pgTgt(), streams: { 'public.orders': settings } });
      const r = await ferry(['run', '--no-progress', file]);
      expectFailure(r, 2, 'stream public.orders', message);
      await expectNothingWritten(dir);
    }
  });
});

describe('connection failures (exit 3)', () => {
  it('a role that does not exist (28000): names the role, hints, hides the password', async () => {
    const url = `postgres://nobody_ferry:${URL_PW}@${HOST_PORT}/${SRC_DB}`;
    const { dir, file } = jobDir({ source: url, target: pgTgt(), streams: { 'public.orders': null } });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(
      r,
      3,
      `cannot connect to postgres://nobody_ferry:***@${HOST_PORT}/${SRC_DB}`,
      NO_ROLE,
      'hint: check the user and password',
    );
    await expectNothingWritten(dir);
  });

  it('a database that does not exist (3D000), password from ${FERRY_TEST_PASSWORD}', async () => {
    const { dir, file } = jobDir({
      source: `postgres://${PG_USER}:\${FERRY_TEST_PASSWORD}@${HOST_PORT}/${MISSING_DB}`,
      target: 'sqlite:out.db',
      streams: { orders: null },
    });
    const r = await ferry(['run', '--no-progress', file], { env: { FERRY_TEST_PASSWORD: pw(ENV_PW) } });
    expectFailure(
      r,
      3,
      `database "${MISSING_DB}" does not exist`,
      `postgres://${PG_USER}:***@${HOST_PORT}/${MISSING_DB}`,
      'hint: create the database first',
    );
    await expectNothingWritten(dir);
  });

  it('the target side: a missing target database, password from a variable whose name is not secret-looking', async () => {
    const { dir, file } = jobDir({
      source: pgSrc(),
      target: `postgres://${PG_USER}:\${FERRY_TEST_DB_PW}@${HOST_PORT}/${MISSING_DB}`,
      streams: { 'public.orders': null },
    });
    // The URL's password is masked whatever the variable is called.
    const r = await ferry(['plan', file], { env: { FERRY_TEST_DB_PW: pw(ENV_PW) } });
    expectFailure(r, 3, `database "${MISSING_DB}" does not exist`);
    await expectNothingWritten(dir);
  });

  it('a password given as a URL parameter is hidden too', async () => {
    const url = `postgres://${HOST_PORT}/${SRC_DB}?user=nobody_ferry&password=${PARAM_PW}`;
    const { dir, file } = jobDir({ source: url, target: 'sqlite:out.db', streams: { orders: null } });
    const r = await ferry(['plan', file]);
    expectFailure(r, 3, NO_ROLE, 'password=***');
    await expectNothingWritten(dir);
  });

  it('a wrong password (28P01): exit 3, a hint, and the password never printed', async () => {
    // The main test server trusts loopback, so a throwaway cluster that asks for passwords is started.
    const cluster = startPasswordCluster(55433, `right-${ROLE_PW}`);
    try {
      const { dir, file } = jobDir({
        source: `postgres://postgres:\${FERRY_TEST_PASSWORD}@127.0.0.1:${cluster.port}/postgres`,
        target: 'sqlite:out.db',
        streams: { orders: null },
      });
      const r = await ferry(['run', '--no-progress', file], { env: { FERRY_TEST_PASSWORD: `wrong-${ROLE_PW}` } });
      expectFailure(r, 3, 'password authentication failed for user "postgres"', 'hint: check the user and password');
      expect(r.stderr).not.toContain(`wrong-${ROLE_PW}`);
      await expectNothingWritten(dir);
    } finally {
      cluster.stop();
    }
  });

  it('a closed port: exit 3 quickly, naming host and port', async () => {
    for (const side of ['source', 'target'] as const) {
      const closed = `postgres://${PG_USER}:${URL_PW}@127.0.0.1:1/${SRC_DB}`;
      const job =
        side === 'source'
          ? { source: closed, target: pgTgt(), streams: { 'public.orders': null } }
          : { source: pgSrc(), target: closed, streams: { 'public.orders': null } };
      const { dir, file } = jobDir(job);
      const started = Date.now();
      const r = await ferry(['run', '--no-progress', file]);
      const took = Date.now() - started;
      expectFailure(
        r,
        3,
        `cannot connect to postgres://${PG_USER}:***@127.0.0.1:1/${SRC_DB}`,
        'ECONNREFUSED',
        'hint: check host and port',
      );
      expect(took, `${side}: ${took} ms`).toBeLessThan(20_000);
      await expectNothingWritten(dir);
    }
  });

  it('a host name that does not resolve', async () => {
    const { dir, file } = jobDir({
      source: `postgres://u:${URL_PW}@no-such-host.invalid:5432/x`,
      target: 'sqlite:out.db',
      streams: { orders: null },
    });
    const r = await ferry(['plan', file]);
    expectFailure(r, 3, 'no-such-host.invalid', 'hint: check host and port');
    await expectNothingWritten(dir);
  });

  it('a SQLite source file that does not exist: names the path', async () => {
    const { dir, file } = jobDir({ source: 'sqlite:missing.db', target: 'sqlite:out.db', streams: { orders: null } });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 3, `SQLite database ${path.join(dir, 'missing.db')} does not exist`, 'hint: check the path');
    await expectNothingWritten(dir);
  });

  it('a SQLite source that is not a database', async () => {
    const { dir, file } = jobDir({ source: 'sqlite:junk.db', target: 'sqlite:out.db', streams: { orders: null } });
    writeFileSync(path.join(dir, 'junk.db'), 'this is not a database, just text\n'.repeat(200));
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 3, path.join(dir, 'junk.db'), 'file is not a database');
    await expectNothingWritten(dir, ['job.yaml', 'junk.db']);
  });

  it('a SQLite target in a folder that does not exist: names the folder', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: 'sqlite:no/such/dir/out.db',
      streams: { orders: null },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 3, `folder ${path.join(dir, 'no', 'such', 'dir')}`);
    await expectNothingWritten(dir);
  });
});

describe('job file errors (exit 2)', () => {
  const good = () => ({ source: `sqlite:${sqliteSrc}`, target: 'sqlite:out.db' });

  it('a missing job file names the path', async () => {
    const dir = scratch();
    const file = path.join(dir, 'nope.yaml');
    const r = await ferry(['run', '--no-progress', file], { cwd: dir });
    expectFailure(r, 2, `${file}: cannot read the job file (ENOENT)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a folder given as the job file', async () => {
    const dir = scratch();
    mkdirSync(path.join(dir, 'job.yaml'));
    const r = await ferry(['plan', path.join(dir, 'job.yaml')]);
    expectFailure(r, 2, 'cannot read the job file (EISDIR)');
  });

  const malformed: [string, string, RegExp][] = [
    ['a duplicated key', `source: a\nsource: b\ntarget: c\nstreams:\n  t: {}\n`, /job\.yaml:2:1: malformed YAML/],
    [
      'an unclosed flow mapping',
      `source: a\ntarget: b\nstreams:\n  t: {\n  x: [1,\n`,
      /job\.yaml:\d+:\d+: malformed YAML/,
    ],
    ['bad indentation', `source: a\n  target: b\nstreams:\n t: {}\n`, /job\.yaml:1:\d+: malformed YAML/],
    ['a tab as indentation', `source: a\ntarget: b\nstreams:\n\tt: {}\n`, /job\.yaml:\d+:\d+: malformed YAML/],
    ['an unterminated quoted string', `source: "a\ntarget: b\nstreams: {}\n`, /job\.yaml:\d+:\d+: malformed YAML/],
  ];
  for (const [what, text, message] of malformed) {
    it(`malformed YAML (${what}) gives file:line:col`, async () => {
      const { dir, file } = jobDir(text);
      const r = await ferry(['run', '--no-progress', file]);
      expectFailure(r, 2, message, file);
      await expectNothingWritten(dir);
    });
  }

  it('an empty file and a list are not jobs', async () => {
    for (const text of ['', '- a\n- b\n', 'just a string\n']) {
      const { dir, file } = jobDir(text);
      const r = await ferry(['plan', file]);
      expectFailure(r, 2, `${file}: the job file must be a YAML mapping`);
      await expectNothingWritten(dir);
    }
  });

  const unknownKeys: [string, Record<string, unknown>, string][] = [
    ['top level', { ...good(), surce: 'x', streams: { orders: null } }, ': unknown key "surce"'],
    [
      'defaults',
      { ...good(), defaults: { chunk_row: 5 }, streams: { orders: null } },
      ': defaults: unknown key "chunk_row"',
    ],
    [
      'a stream',
      { ...good(), streams: { orders: { primary_keys: ['id'] } } },
      ': streams.orders: unknown key "primary_keys"',
    ],
    [
      'a stream (parallel is only a default)',
      { ...good(), streams: { orders: { parallel: 2 } } },
      ': streams.orders: unknown key "parallel"',
    ],
  ];
  for (const [where, job, message] of unknownKeys) {
    it(`an unknown key in ${where} names the key path`, async () => {
      const { dir, file } = jobDir(job);
      const r = await ferry(['run', '--no-progress', file]);
      expectFailure(r, 2, `${file}${message}`, 'docs/job-file.md');
      await expectNothingWritten(dir);
    });
  }

  it('wrong value types name the key path, what is expected and what was given', async () => {
    const { dir, file } = jobDir({
      ...good(),
      defaults: { chunk_rows: 'abc', parallel: 0, max_attempts: 2.5 },
      streams: { orders: { mode: 'merge', columns: [] } },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(
      r,
      2,
      /defaults\.chunk_rows: .*expected number.*\(got "abc"\)/,
      /defaults\.parallel: .*>0.*\(got 0\)/,
      /defaults\.max_attempts: .*int.*\(got 2\.5\)/,
      /streams\.orders\.mode: .*"full-refresh"\|"append".*\(got "merge"\)/,
      /streams\.orders\.columns: .*\(got \[\]\)/,
    );
    await expectNothingWritten(dir);
  });

  it('missing required keys and an empty streams mapping', async () => {
    const { dir, file } = jobDir({ source: `sqlite:${sqliteSrc}`, streams: {} });
    const r = await ferry(['plan', file]);
    expectFailure(r, 2, /target: .*\(got nothing\)/, 'streams: at least one stream is required');
    await expectNothingWritten(dir);
  });

  it('an unset ${VAR} names the variable and the key path', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: 'sqlite:${FERRY_BAD_UNSET_VAR}/out.db',
      streams: { orders: null },
    });
    const r = await ferry(['run', '--no-progress', file], { env: { FERRY_BAD_UNSET_VAR: undefined } });
    expectFailure(
      r,
      2,
      `${file}: target: environment variable FERRY_BAD_UNSET_VAR is not set`,
      'hint: export FERRY_BAD_UNSET_VAR=',
    );
    await expectNothingWritten(dir);
  });

  it('an unset ${VAR} inside a stream setting names the full key path', async () => {
    const { dir, file } = jobDir({ ...good(), streams: { orders: { columns: ['id', '${FERRY_BAD_UNSET_COL}'] } } });
    const r = await ferry(['plan', file], { env: { FERRY_BAD_UNSET_COL: undefined } });
    expectFailure(r, 2, 'streams.orders.columns[1]: environment variable FERRY_BAD_UNSET_COL is not set');
    await expectNothingWritten(dir);
  });

  it('${VAR:-default} supplies the value when the variable is unset (the job then works)', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: 'sqlite:${FERRY_BAD_UNSET_OUT:-out.db}',
      streams: { orders: null },
    });
    const r = await ferry(['plan', '--json', file], { env: { FERRY_BAD_UNSET_OUT: undefined } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).target).toBe('sqlite:out.db');
    await expectNothingWritten(dir);
  });

  const schemes: [string, Record<string, unknown>, (string | RegExp)[]][] = [
    [
      'oracle:// (unsupported)',
      { source: `oracle://scott:${URL_PW}@db.example:1521/ORCL`, target: 'sqlite:out.db' },
      [
        'source oracle://scott:***@db.example:1521/ORCL',
        'unsupported URL scheme "oracle:"',
        'supported: postgres:, postgresql:, mysql:, mariadb:, sqlite:, sqlite3:, file:, s3:',
      ],
    ],
    [
      'mssql:// (planned, not built)',
      { source: `sqlite:${sqliteSrc}`, target: `mssql://sa:${URL_PW}@127.0.0.1:1433/x` },
      ['target mssql://sa:***@127.0.0.1:1433/x', 'the mssql: connector is not available in this version'],
    ],
    [
      's3:// with credentials in the URL',
      { source: `sqlite:${sqliteSrc}`, target: `s3://AKIAEXAMPLE:${URL_PW}@bucket/prefix` },
      ['s3: credentials do not go in the URL', 'AWS_ACCESS_KEY_ID'],
    ],
    [
      's3:// with an unknown option',
      { source: `sqlite:${sqliteSrc}`, target: 's3://bucket/prefix?regoin=eu-west-1' },
      ['s3 URL: unknown option regoin', 'options: endpoint, region, path_style'],
    ],
    [
      'a lake source whose stream matches no file',
      { source: 'file:./lake', target: 'sqlite:out.db' },
      ['stream orders: no file matches orders/** in file:'],
    ],
    [
      'no scheme at all',
      { source: 'just-a-file.db', target: 'sqlite:out.db' },
      ['source just-a-file.db: unsupported URL scheme (supported:'],
    ],
    [
      'sqlite::memory:',
      { source: `sqlite:${sqliteSrc}`, target: 'sqlite::memory:' },
      ['sqlite::memory: cannot be a source or target'],
    ],
    [
      'a malformed PostgreSQL URL (port is not a number)',
      { source: `postgres://u:${URL_PW}@127.0.0.1:notaport/db`, target: 'sqlite:out.db' },
      ['postgres://u:***@127.0.0.1:notaport/db: not a valid PostgreSQL URL'],
    ],
  ];
  for (const [what, urls, patterns] of schemes) {
    it(`a URL scheme error: ${what}`, async () => {
      const { dir, file } = jobDir({ ...urls, streams: { orders: null } });
      const r = await ferry(['run', '--no-progress', file]);
      expectFailure(r, 2, ...patterns);
      await expectNothingWritten(dir);
    });
  }
});

describe('stream names and targets (exit 2)', () => {
  const syntax: [string, string][] = [
    ['public."unterminated', 'unterminated quoted identifier'],
    ['a.b.c.d', 'expected schema.table'],
    ['a..b', 'is not a valid identifier'],
    ['sales.*.x', '"*" must be the last part'],
    ['order items', 'quote it ("...") if it has spaces or symbols'],
    ['"a"b', 'expected "." after an identifier'],
  ];
  for (const [selector, message] of syntax) {
    for (const side of ['PostgreSQL', 'SQLite'] as const) {
      it(`${side} source: ${JSON.stringify(selector)} is a syntax error naming the stream`, async () => {
        const source = side === 'PostgreSQL' ? pgSrc() : `sqlite:${sqliteSrc}`;
        // Written by hand so that the YAML key is exactly the selector.
        const { dir, file } = jobDir(
          `source: ${JSON.stringify(source)}\ntarget: ${JSON.stringify(pgTgt())}\nstreams:\n  ${JSON.stringify(selector)}: {}\n`,
        );
        const r = await ferry(['run', '--no-progress', file]);
        expectFailure(r, 2, `stream ${JSON.stringify(selector)}: `, message);
        await expectNothingWritten(dir);
      });
    }
  }

  it('a bad target name names the stream and the target', async () => {
    const { dir, file } = jobDir({
      source: pgSrc(),
      target: pgTgt(),
      streams: { 'public.orders': { target: 'x.y.z' } },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'stream "public.orders": target "x.y.z": expected schema.table');
    await expectNothingWritten(dir);
  });

  it('a wildcard target', async () => {
    const { dir, file } = jobDir({
      source: pgSrc(),
      target: pgTgt(),
      streams: { 'public.orders': { target: 'public.*' } },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'stream "public.orders": target cannot be a wildcard');
    await expectNothingWritten(dir);
  });

  it('a schema in a SQLite target name', async () => {
    const { dir, file } = jobDir({
      source: pgSrc(),
      target: 'sqlite:out.db',
      streams: { 'public.orders': { target: 'crm.orders' } },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'target crm.orders: the sqlite target has no schemas', 'hint: write target: orders');
    await expectNothingWritten(dir);
  });

  it('two streams writing the same PostgreSQL target table', async () => {
    const { dir, file } = jobDir({
      source: pgSrc(),
      target: pgTgt(),
      streams: { 'public.orders': null, 'public.customers': { target: 'public.orders' } },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'streams public.orders and public.customers both write public.orders');
    await expectNothingWritten(dir);
  });

  it('two streams writing the same SQLite target table, spelled in another case', async () => {
    // SQLite table names ignore case: "ORDERS" and orders are one table.
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: 'sqlite:out.db',
      streams: { orders: null, customers: { target: 'ORDERS' } },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, /streams orders and customers both write "?ORDERS"?/);
    await expectNothingWritten(dir);
  });

  it('two PostgreSQL streams landing on one SQLite table by default (public.x and sales.x -> x)', async () => {
    await pgQuery(SRC_DB, 'CREATE TABLE IF NOT EXISTS sales.orders (id int PRIMARY KEY)');
    try {
      const { dir, file } = jobDir({
        source: pgSrc(),
        target: 'sqlite:out.db',
        streams: { 'public.orders': null, 'sales.orders': null },
      });
      const r = await ferry(['run', '--no-progress', file]);
      expectFailure(r, 2, 'streams public.orders and sales.orders both write orders');
      await expectNothingWritten(dir);
    } finally {
      await pgQuery(SRC_DB, 'DROP TABLE sales.orders');
    }
  });

  it('one table selected by two streams', async () => {
    const { dir, file } = jobDir({
      source: pgSrc(),
      target: pgTgt(),
      streams: { orders: null, 'public.orders': null },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'table public.orders is selected by two streams');
    await expectNothingWritten(dir);
  });
});

describe('bad CLI usage (exit 2)', () => {
  const usage: [string[], (string | RegExp)[]][] = [
    [[], [/Usage: ferry/]],
    [['run'], ["missing required argument 'job'"]],
    [['plan'], ["missing required argument 'job'"]],
    [['frobnicate'], ["unknown command 'frobnicate'"]],
    [['plan', '--bogus', 'job.yaml'], ["unknown option '--bogus'"]],
    [['plan', 'a.yaml', 'b.yaml'], ["too many arguments for 'plan'"]],
    [['demo', '--rows', 'abc'], ['--rows: expected a positive integer, got abc']],
    [['demo', '--rows', '0'], ['--rows: expected a positive integer, got 0']],
  ];
  for (const [args, patterns] of usage) {
    it(`ferry ${args.join(' ') || '(nothing)'}`, async () => {
      const dir = scratch();
      const r = await ferry(args, { cwd: dir });
      expect(r.code, r.stderr).toBe(2);
      for (const p of patterns) {
        if (typeof p === 'string') expect(r.stderr).toContain(p);
        else expect(r.stderr).toMatch(p);
      }
      expect(readdirSync(dir), 'nothing written in the working folder').toEqual([]);
    });
  }
});

describe('lake targets (files)', () => {
  it('an S3 endpoint that refuses connections: exit 3, nothing written, no secret printed', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: 's3://bucket/prefix?endpoint=http://127.0.0.1:1',
      streams: { orders: null },
    });
    const r = await ferry(['run', '--no-progress', file], {
      env: { AWS_ACCESS_KEY_ID: 'AKIAFERRYTEST', AWS_SECRET_ACCESS_KEY: URL_PW, AWS_PROFILE: undefined },
    });
    expectFailure(r, 3, 'bucket bucket');
    expect(r.stderr).not.toContain(URL_PW);
    await expectNothingWritten(dir);
  });

  it('a file: target under a regular file: exit 3 before anything is written', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: 'file:./job.yaml/lake',
      streams: { orders: null },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 3, 'cannot write to', 'job.yaml');
    await expectNothingWritten(dir);
  });

  const layouts: [string, Record<string, unknown>, Record<string, unknown> | null, string[]][] = [
    ['snappy for CSV', { format: 'csv', compression: 'snappy' }, null, ['compression snappy is for Parquet only']],
    ['an unknown format', { format: 'xlsx' }, null, ['defaults.format', 'xlsx']],
    ['partition_by an unknown column', {}, { partition_by: ['nope'] }, ['partition_by: no column "nope"']],
    [
      'partition_by a cut of a text column',
      {},
      { partition_by: ['note:month'] },
      ['partition_by: note:month needs a date or timestamp column (note is text)'],
    ],
    [
      'a CSV delimiter equal to the quote',
      { format: 'csv', csv: { delimiter: '"' } },
      null,
      ['the delimiter must differ from the quote'],
    ],
  ];
  for (const [what, defaults, stream, patterns] of layouts) {
    it(`a file layout error: ${what} (exit 2)`, async () => {
      const { dir, file } = jobDir({
        source: `sqlite:${sqliteSrc}`,
        target: 'file:./lake',
        defaults,
        streams: { orders: stream },
      });
      const r = await ferry(['run', '--no-progress', file]);
      expectFailure(r, 2, ...patterns);
      await expectNothingWritten(dir);
    });
  }

  it('file settings with a database target are an error (exit 2)', async () => {
    const { dir, file } = jobDir({
      source: `sqlite:${sqliteSrc}`,
      target: pgTgt(),
      streams: { orders: { format: 'parquet', partition_by: ['customer'] } },
    });
    const r = await ferry(['run', '--no-progress', file]);
    expectFailure(r, 2, 'format, partition_by: only for a files target (file: or s3:)');
    await expectNothingWritten(dir);
  });
});
