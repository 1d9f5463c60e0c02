/**
 * MySQL's binary-protocol rows made into PostgreSQL binary COPY (connectors/mysql/mysql-binary-rows.ts),
 * against the row path: a table of every wire type the raw path takes, at its extremes and NULL, is
 * loaded once by ferry's row path (append mode) and once by MysqlReader.readRaw('postgres-binary')
 * straight into a COPY; both must read back identical, value by value. The values a policy would
 * judge end the raw stream with RawUnfit, naming the column. Real servers, no mock.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnector } from '../src/connectors/registry.js';
import type { Connector } from '../src/core/connector.js';
import { RawUnfit } from '../src/core/errors.js';
import { jobFromObject, type Plan, plan, run } from '../src/index.js';
import { withPg } from './helpers/compare.js';
import { freshPgDatabase, pgUrl, tempDir } from './helpers/env.js';
import { freshMyDatabase, myUrl, withMy } from './helpers/mysql.js';

const MY = 'ferry_my_binrows';
const PG = 'ferry_my_binrows';

/** Column definitions and, per row, SQL literals (NULL included) in the same order. */
const COLS: [string, string][] = [
  ['id', 'int NOT NULL PRIMARY KEY'],
  ['ti', 'tinyint'],
  ['tu', 'tinyint unsigned'],
  ['si', 'smallint'],
  ['su', 'smallint unsigned'],
  ['mi', 'mediumint'],
  ['mu', 'mediumint unsigned'],
  ['ii', 'int'],
  ['iu', 'int unsigned'],
  ['bi', 'bigint'],
  ['bu', 'bigint unsigned'],
  ['yr', 'year'],
  ['fl', 'float'],
  ['db', 'double'],
  ['d1', 'decimal(65,30)'],
  ['d2', 'decimal(5,2)'],
  ['d3', 'decimal(20,0)'],
  ['dt', 'date'],
  ['ts0', 'datetime'],
  ['ts6', 'datetime(6)'],
  ['tz', 'timestamp(6) NULL'],
  ['tm', 'time(6)'],
  ['vc', 'varchar(40)'],
  ['ch', 'char(3)'],
  ['tx', 'mediumtext'],
  ['js', 'json'],
  ['en', "enum('a','b c','ü')"],
  ['st', "set('x','y','z')"],
  ['vb', 'varbinary(300)'],
  ['bl', 'mediumblob'],
  ['u8', 'char(36)'],
];

const ALL_BYTES = `X'${Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex')}'`;
const LONG_TEXT = (n: number) => `REPEAT('é', ${n})`;

const ROWS: string[][] = [
  // The lows.
  [
    '1',
    '-128',
    '0',
    '-32768',
    '0',
    '-8388608',
    '0',
    '-2147483648',
    '0',
    '-9223372036854775808',
    '0',
    '1901',
    '-3.40282e38',
    '-1.7976931348623157e308',
    `'-${'9'.repeat(35)}.${'9'.repeat(30)}'`,
    '-999.99',
    `'-${'9'.repeat(20)}'`,
    "'1000-01-01'",
    "'1000-01-01 00:00:00'",
    "'1000-01-01 00:00:00.000000'",
    "'1970-01-01 00:00:01.000000'",
    "'00:00:00'",
    "''",
    "''",
    "''",
    "'[]'",
    "'a'",
    "''",
    "X''",
    "X''",
    "'00000000-0000-0000-0000-000000000000'",
  ],
  // The highs, and text long enough for the 2- and 3-byte length forms.
  [
    '2',
    '127',
    '255',
    '32767',
    '65535',
    '8388607',
    '16777215',
    '2147483647',
    '4294967295',
    '9223372036854775807',
    '18446744073709551615',
    '2155',
    '3.40282e38',
    '1.7976931348623157e308',
    `'${'9'.repeat(35)}.${'9'.repeat(30)}'`,
    '999.99',
    `'${'9'.repeat(20)}'`,
    "'9999-12-31'",
    "'9999-12-31 23:59:59'",
    "'9999-12-31 23:59:59.999999'",
    "'2038-01-19 03:14:07.999999'",
    "'23:59:59.999999'",
    `'${'z'.repeat(40)}'`,
    "'abc'",
    LONG_TEXT(70000),
    `'{"k": [1, 2.5, "ü", null, {"x": true}]}'`,
    "'ü'",
    "'x,y,z'",
    ALL_BYTES,
    `REPEAT(${ALL_BYTES}, 300)`,
    "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
  ],
  // Everything else NULL (the bitmap spans several bytes).
  ['3', ...COLS.slice(1).map(() => 'NULL')],
  // Ordinary values: small and fractional, leap day, zero, -0, a double's shortest forms.
  [
    '4',
    '0',
    '1',
    '-1',
    '1',
    '0',
    '1',
    '-1',
    '1',
    '9007199254740993',
    '9007199254740993',
    '2000',
    '0.1',
    '-0',
    "'0.000000000000000000000000000001'",
    '-0.01',
    '0',
    "'2024-02-29'",
    "'2000-01-01 00:00:00'",
    "'1999-12-31 23:59:59.000001'",
    "'2024-02-29 12:34:56.5'",
    "'12:00:00.000001'",
    "'é ü 日本 \u{1F600} tab\there\\nnewline'",
    "'é'",
    LONG_TEXT(200),
    `'"text"'`,
    "'b c'",
    "'y'",
    "X'00ff'",
    "X'5c0a0d09'",
    "'0ab1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d'",
  ],
  [
    '5',
    '5',
    '6',
    '7',
    '8',
    '9',
    '10',
    '11',
    '12',
    '4294967296',
    '9007199254740992',
    '1999',
    '1.5e-38',
    '5e-324',
    "'123.456'",
    '1.5',
    "'42'",
    "'0001-01-01'",
    "'1583-10-15 01:02:03'",
    "'2262-04-11 23:47:16.854775'",
    "'2001-09-09 01:46:40'",
    "'00:00:00.5'",
    "'a'",
    "'ab'",
    LONG_TEXT(30000),
    "'{}'",
    "'a'",
    "'x,z'",
    "X'01'",
    "X'00'",
    "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
  ],
];

let work: string;
let source: Connector;
let p: Plan;

function jobFor(mode: 'append' | 'full-refresh') {
  return jobFromObject(
    {
      source: myUrl(MY),
      target: pgUrl(PG),
      state: `${work}/state-${mode}`,
      defaults: { mode },
      streams: { wire: null },
    },
    '<inline>',
    work,
    process.env,
    `binrows-${mode}`,
  );
}

beforeAll(async () => {
  work = tempDir('binrows');
  await freshMyDatabase(MY);
  await freshPgDatabase(PG);
  await withMy(MY, async (c) => {
    // Dates before 1970 and years like 0001 are stored only without the strict date checks.
    await c.query(`SET SESSION sql_mode = ''`);
    await c.query(`CREATE TABLE wire (${COLS.map(([n, t]) => `${n} ${t}`).join(', ')}) CHARACTER SET utf8mb4`);
    for (const r of ROWS) await c.query(`INSERT INTO wire VALUES (${r.join(', ')})`);
    // Values a policy would judge, one row each (see the RawUnfit test).
    await c.query(
      'CREATE TABLE unfit (id int NOT NULL PRIMARY KEY, dt date, tm time, vc varchar(10), bi bigint, lt text)',
    );
    await c.query(`INSERT INTO unfit VALUES (1, '0000-00-00', '00:00:00', 'ok', 1, 'x'),
      (2, '2020-00-10', '00:00:00', 'ok', 1, 'x'), (3, '2020-01-01', '24:00:00', 'ok', 1, 'x'),
      (4, '2020-01-01', '-00:00:01', 'ok', 1, 'x'), (5, '2020-01-01', '00:00:00', CONCAT('a', CHAR(0), 'b'), 1, 'x'),
      (6, '2020-01-01', '00:00:00', 'ok', 1, REPEAT('é', 100)),
      (7, '2020-01-01', '00:00:00', 'ok', 1, CONCAT(REPEAT('y', 100), CHAR(0)))`);
  });
  p = await plan(jobFor('full-refresh'));
  source = await openConnector(myUrl(MY), 'source', { maxConnections: 2, baseDir: work });
}, 120_000);

afterAll(async () => {
  await source?.close();
});

/** Copies the MySQL table `name` (all rows, or the key range) into PostgreSQL's `into` by the raw path. */
async function rawCopy(name: string, into: string, targetTypes: string[], range: [number, number] | null = null) {
  const sp = p.streams.find((s) => s.source.name === name);
  const columns = sp
    ? sp.columns.map((c) => c.source)
    : (await source.introspector.describe({ schema: MY, name })).columns;
  const key = columns.filter((c) => c.name === 'id');
  const raw = await source.reader.readRaw!(
    {
      table: { schema: MY, name },
      columns,
      key,
      range: range ? { lo: [range[0]], hi: [range[1]] } : null,
      targetTypes,
    },
    'postgres-binary',
  );
  const c = new pg.Client({ connectionString: pgUrl(PG) });
  await c.connect();
  try {
    await pipeline(raw, c.query(copyFrom(`COPY ${into} FROM STDIN (FORMAT binary)`)));
    return (raw as unknown as { rows: number }).rows;
  } finally {
    await c.end();
  }
}

describe('MySQL binary rows -> PostgreSQL binary COPY', () => {
  it('every wire type, at its extremes and NULL, reads back as the row path loaded it', async () => {
    const sp = p.streams.find((s) => s.source.name === 'wire')!;
    expect(sp.passThrough).toBe('postgres-binary');
    // The row path (append never goes raw) makes the reference table and its types.
    const ledger = await run(jobFor('append'));
    expect(ledger.streams[0].status, JSON.stringify(ledger.streams[0])).toBe('ok');
    expect(ledger.streams[0].passThrough).toBeNull();
    await withPg(PG, (c) => c.query('CREATE TABLE wire_raw (LIKE wire)'));
    const rows = await rawCopy(
      'wire',
      'wire_raw',
      sp.columns.map((c) => c.target.nativeType),
    );
    expect(rows).toBe(ROWS.length);
    const read = (t: string) =>
      withPg(PG, async (c) => (await c.query<{ r: string }>(`SELECT t::text AS r FROM ${t} t ORDER BY id`)).rows);
    const byRows = await read('wire');
    const byRaw = await read('wire_raw');
    expect(byRows.length).toBe(ROWS.length);
    for (let i = 0; i < byRows.length; i++) expect(byRaw[i].r, `row ${i + 1}`).toBe(byRows[i].r);
    // And the values are what MySQL holds, for a few that are easy to get wrong.
    const spot = await withPg(
      PG,
      async (c) => (await c.query('SELECT *, ts6::text AS ts6t FROM wire_raw WHERE id = 2')).rows[0],
    );
    expect(spot.bu).toBe('18446744073709551615');
    expect(spot.bi).toBe('9223372036854775807');
    expect(spot.ts6t).toBe('9999-12-31 23:59:59.999999');
    expect((spot.tx as string).length).toBe(70000);
    expect((spot.bl as Buffer).length).toBe(256 * 300);
  });

  it('a connection goes back to the pool flowing when the last piece met a full stream buffer', async () => {
    // 5 rows of 215,000 bytes: two pieces of two rows (under the stream's 1 MiB mark), then the
    // last row, pushed at the end of the result, takes the buffer over it and pauses the socket.
    await withMy(MY, async (c) => {
      await c.query('CREATE TABLE big (id int NOT NULL PRIMARY KEY, t mediumtext)');
      for (let i = 1; i <= 5; i++) await c.query(`INSERT INTO big VALUES (${i}, REPEAT('x', 215000))`);
    });
    const one = await openConnector(myUrl(MY), 'source', { maxConnections: 1, baseDir: work });
    try {
      const table = { schema: MY, name: 'big' };
      const { columns } = await one.introspector.describe(table);
      const raw = (await one.reader.readRaw!(
        { table, columns, key: [], range: null, targetTypes: ['integer', 'text'] },
        'postgres-binary',
      )) as Readable & { rows?: number };
      for (let i = 0; i < 500 && raw.rows === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      expect(raw.rows, 'the whole result arrived while nothing read the stream').toBe(5);
      // The only connection of the pool must answer the next query.
      const next = await Promise.race([
        one.introspector.count(table, [], null),
        new Promise((r) => setTimeout(() => r('no answer in 10 s'), 10_000)),
      ]);
      expect(next).toBe(5);
      let bytes = 0;
      for await (const piece of raw) bytes += (piece as Buffer).length;
      expect(bytes).toBeGreaterThan(5 * 215000);
    } finally {
      await one.close();
    }
  });

  it('MySQL -> MySQL LOAD DATA text straight from the row packets: every length prefix, NULL, escapes, BIT', async () => {
    await withMy(MY, async (c) => {
      await c.query(
        'CREATE TABLE textwire (id int NOT NULL PRIMARY KEY, n bigint, d double, b bit(64), t mediumtext, v varchar(300))',
      );
      // 250 bytes: one-byte length; 300: 0xfc and two bytes; 70,000: 0xfd and three bytes.
      await c.query(
        `INSERT INTO textwire VALUES
           (1, -9223372036854775808, -1.5e-300, b'1111111111111111111111111111111111111111111111111111111111111111', REPEAT('a', 250), REPEAT('é', 150)),
           (2, NULL, NULL, NULL, NULL, NULL),
           (3, 0, 0, b'0', CONCAT('tab\there', CHAR(10), 'nl', CHAR(13), 'cr', CHAR(0), 'nul', CHAR(92), 'bs', CHAR(26)), ''),
           (4, 42, 3.25, b'101', REPEAT('xy', 35000), REPEAT('z', 300))`,
      );
    });
    const table = { schema: MY, name: 'textwire' };
    const { columns } = await source.introspector.describe(table);
    const raw = await source.reader.readRaw!({ table, columns, key: [], range: null }, 'mysql-text');
    const chunks: Buffer[] = [];
    for await (const piece of raw) chunks.push(piece as Buffer);
    const esc = (s: string) =>
      s.replace(
        /[\\\t\n\r\0\x1a]/g,
        (ch) => `\\${{ '\\': '\\', '\t': 't', '\n': 'n', '\r': 'r', '\0': '0', '\x1a': 'Z' }[ch]}`,
      );
    const expected = [
      ['1', '-9223372036854775808', '-1.5e-300', '18446744073709551615', 'a'.repeat(250), 'é'.repeat(150)],
      ['2', '\\N', '\\N', '\\N', '\\N', '\\N'],
      ['3', '0', '0', '0', esc('tab\there\nnl\rcr\0nul\\bs\x1a'), ''],
      ['4', '42', '3.25', '5', 'xy'.repeat(35000), 'z'.repeat(300)],
    ]
      .map((r) => `${r.join('\t')}\n`)
      .join('');
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
  });

  it('values a policy would judge end the stream with RawUnfit naming the column', async () => {
    const types = ['integer', 'date', 'time without time zone', 'character varying(10)', 'smallint', 'text'];
    await withPg(PG, (c) =>
      c.query('CREATE TABLE unfit (id integer, dt date, tm time, vc varchar(10), bi smallint, lt text)'),
    );
    const cases: [number, string][] = [
      [1, 'dt'], // zero date
      [2, 'dt'], // zero month
      [3, 'tm'], // 24:00:00
      [4, 'tm'], // negative time
      [5, 'vc'], // NUL
      [7, 'lt'], // NUL in long text
    ];
    for (const [id, column] of cases) {
      const err = await rawCopy('unfit', 'unfit', types, [id - 1, id]).catch((e: unknown) => e);
      expect(err, `row ${id}`).toBeInstanceOf(RawUnfit);
      expect((err as RawUnfit).column, `row ${id}`).toBe(column);
    }
    // Text longer than the target, a number out of the target's range.
    for (const [t, column] of [
      [['integer', 'date', 'time without time zone', 'character varying(1)', 'smallint', 'text'], 'vc'],
      [['integer', 'date', 'time without time zone', 'character varying(10)', 'numeric(1,1)', 'text'], 'bi'],
      [
        ['integer', 'date', 'time without time zone', 'character varying(10)', 'smallint', 'character varying(99)'],
        'lt',
      ],
    ] as const) {
      const err = await rawCopy('unfit', 'unfit', [...t], [5, 6]).catch((e: unknown) => e);
      expect(err, column).toBeInstanceOf(RawUnfit);
      expect((err as RawUnfit).column).toBe(column);
    }
    // The clean row goes through.
    expect(await rawCopy('unfit', 'unfit', types, [5, 6])).toBe(1);
  });
});
