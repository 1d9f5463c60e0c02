/**
 * The binary COPY encoders (core/pg-copy-binary.ts) against PostgreSQL's own text input: the same
 * values loaded once as binary and once as text must read back identical, for every type the
 * encoders claim; the values they must not guess at throw RawUnfit. Real server, no mock.
 */
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeCopy } from '../src/connectors/postgres/postgres-copy-text.js';
import { RawUnfit } from '../src/core/errors.js';
import {
  BinaryOut,
  binaryFieldFor,
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
  CopyBinaryEncoder,
} from '../src/core/pg-copy-binary.js';
import { freshPgDatabase } from './helpers/env.js';

/** Columns: name, type, values (JS values as readers hand them over; text for text COPY). */
const COLUMNS: { name: string; type: string; values: unknown[]; text?: (v: unknown) => string }[] = [
  { name: 'b', type: 'boolean', values: [true, false], text: (v) => (v ? 't' : 'f') },
  { name: 'i2', type: 'smallint', values: [0, -1, 32767, -32768, 12345n] },
  { name: 'i4', type: 'integer', values: [0, -1, 2147483647, -2147483648, 1234567, -7654321] },
  {
    name: 'i8',
    type: 'bigint',
    values: [
      0,
      -1,
      9007199254740991,
      -9007199254740991,
      9223372036854775807n,
      -9223372036854775808n,
      4294967296,
      -4294967297,
    ],
  },
  {
    name: 'f4',
    type: 'real',
    values: [0, -0, 1.5, 3.4028234663852886e38, 1.401298464324817e-45, Number.NaN, Number.POSITIVE_INFINITY, 0.1],
    text: (v) =>
      Number.isNaN(v) ? 'NaN' : v === Number.POSITIVE_INFINITY ? 'Infinity' : Object.is(v, -0) ? '-0' : String(v),
  },
  {
    name: 'f8',
    type: 'double precision',
    values: [0, -0, 602.3124980450339, 5e-324, 1.7976931348623157e308, Number.NEGATIVE_INFINITY, Number.NaN, 0.1 + 0.2],
    text: (v) =>
      Number.isNaN(v) ? 'NaN' : v === Number.NEGATIVE_INFINITY ? '-Infinity' : Object.is(v, -0) ? '-0' : String(v),
  },
  {
    name: 'n',
    type: 'numeric',
    values: [
      '0',
      '-0',
      '0.000',
      '1',
      '-1.5',
      '10000',
      '123456789012345678901234567890.0123456789',
      '0.0001',
      '-0.00012300',
      '.5',
      '5.',
      9,
      18446744073709551615n,
    ],
  },
  { name: 'n2', type: 'numeric(20,0)', values: ['18446744073709551615', '0', '-42'] },
  { name: 'n3', type: 'numeric(10,2)', values: ['1.5', '12345678.99', '-0.01', '3'] },
  {
    name: 't',
    type: 'text',
    values: ['', 'a', 'é ü 日本 \u{1F600}', 'tab\there\nnewline\\back', 'x'.repeat(100), 'ü'.repeat(70)],
  },
  { name: 'vc', type: 'character varying(5)', values: ['abc', 'ééééé', ''] },
  { name: 'ch', type: 'character(4)', values: ['ab', 'abcd'] },
  { name: 'j', type: 'json', values: ['{"a": [1, 2, {"b": null}]}', '"ü"'] },
  { name: 'jb', type: 'jsonb', values: ['{"a": [1, 2, {"b": null}]}', '[]', '"日本"'] },
  {
    name: 'by',
    type: 'bytea',
    values: [Buffer.from([0, 1, 255, 92, 10]), Buffer.alloc(0)],
    text: (v) => `\\x${(v as Buffer).toString('hex')}`,
  },
  {
    name: 'u',
    type: 'uuid',
    values: [
      'eb634943-8ea5-4751-a0c2-202df0f72fb1',
      'EB634943-8EA5-4751-A0C2-202DF0F72FB1',
      '00000000-0000-0000-0000-000000000000',
    ],
  },
  {
    name: 'd',
    type: 'date',
    values: ['2000-01-01', '1999-12-31', '0001-01-01', '9999-12-31', '2024-02-29', '1900-03-01'],
  },
  {
    name: 'tm',
    type: 'time without time zone',
    values: ['00:00:00', '23:59:59.999999', '12:34:56.5', '01:02:03.000001'],
  },
  {
    name: 'ts',
    type: 'timestamp without time zone',
    values: [
      '2000-01-01 00:00:00',
      '2024-05-25 17:21:00.164101',
      '0001-01-01 00:00:00',
      '9999-12-31 23:59:59.999999',
      '1969-12-31T23:59:59.5',
      '1600-02-29 12:00:00.1',
    ],
  },
  {
    name: 'tz',
    type: 'timestamp with time zone',
    values: [
      '2024-05-25 17:21:00.164101+00',
      '2024-05-25 17:21:00+00:00',
      '2024-05-25T17:21:00Z',
      '2024-05-25 19:21:00+02',
      '2024-05-25 12:51:00.25-04:30',
      '2024-05-25 17:21:00+0530',
      '2024-05-25 17:21:00',
      '0001-01-01 00:00:00+00',
      '9999-12-31 23:59:59.999999+00',
      new Date(Date.UTC(2021, 0, 2, 3, 4, 5, 678)),
    ],
    text: (v) => (v instanceof Date ? v.toISOString() : String(v)),
  },
];

/** One row per value index; shorter columns are NULL there. */
const ROWS: unknown[][] = Array.from({ length: Math.max(...COLUMNS.map((c) => c.values.length)) + 1 }, (_r, i) =>
  COLUMNS.map((c) => (i < c.values.length ? c.values[i] : null)),
);

let db: string;
let client: pg.Client;

async function copyInto(table: string, format: 'binary' | 'text', data: Buffer | string): Promise<void> {
  const copy = client.query(copyFrom(`COPY ${table} FROM STDIN${format === 'binary' ? ' (FORMAT binary)' : ''}`));
  copy.end(data);
  await finished(copy);
}

async function readBack(table: string): Promise<string[][]> {
  const cols = COLUMNS.map((c) => `${c.name}::text`).join(', ');
  const r = await client.query({ text: `SELECT ${cols} FROM ${table} ORDER BY ord`, rowMode: 'array' });
  return r.rows;
}

const failOnNul = (column: string): never => {
  throw new Error(`NUL in ${column}`);
};

beforeAll(async () => {
  db = await freshPgDatabase('ferry_test_pg_binary');
  client = new pg.Client({ connectionString: db, options: '-c TimeZone=UTC -c extra_float_digits=1' });
  await client.connect();
  const defs = COLUMNS.map((c) => `${c.name} ${c.type}`).join(', ');
  await client.query(`CREATE TABLE via_binary (ord serial, ${defs})`);
  await client.query(`CREATE TABLE via_text (ord serial, ${defs})`);
});

afterAll(async () => {
  await client?.end();
});

describe('binary COPY encoders', () => {
  it('every supported type reads back exactly as the same values loaded as text', async () => {
    const fields = COLUMNS.map((c) => binaryFieldFor(c.type.replace(/\(.*\)/, ''), c.name, failOnNul));
    expect(fields.every((f) => f !== null)).toBe(true);
    const enc = new CopyBinaryEncoder(fields as NonNullable<(typeof fields)[number]>[]);
    // Two batches, the header with the first only, as the writer sends them.
    const body = Buffer.concat([
      enc.encode(ROWS.slice(0, 3), true),
      enc.encode(ROWS.slice(3), false),
      COPY_BINARY_TRAILER,
    ]);
    const names = COLUMNS.map((c) => c.name).join(', ');
    await copyInto(`via_binary (${names})`, 'binary', body);
    const text = ROWS.map(
      (row) => `${row.map((v, i) => (v === null ? '\\N' : escapeCopy((COLUMNS[i].text ?? String)(v)))).join('\t')}\n`,
    ).join('');
    await copyInto(`via_text (${names})`, 'text', text);
    const got = await readBack('via_binary');
    const want = await readBack('via_text');
    expect(got).toHaveLength(ROWS.length);
    for (let i = 0; i < COLUMNS.length; i++) {
      expect(
        got.map((r) => r[i]),
        `${COLUMNS[i].name} ${COLUMNS[i].type}`,
      ).toEqual(want.map((r) => r[i]));
    }
    // Spot checks against known text, so that a shared mistake on both sides cannot pass.
    const first = got[1];
    expect(first[COLUMNS.findIndex((c) => c.name === 'i8')]).toBe('-1');
    expect(got[2][COLUMNS.findIndex((c) => c.name === 'tz')]).toBe('2024-05-25 17:21:00+00');
    expect(got[3][COLUMNS.findIndex((c) => c.name === 'tz')]).toBe('2024-05-25 17:21:00+00');
    expect(got[5][COLUMNS.findIndex((c) => c.name === 'ts')]).toBe('1600-02-29 12:00:00.1');
    expect(got[6][COLUMNS.findIndex((c) => c.name === 'n')]).toBe('123456789012345678901234567890.0123456789');
  });

  it('an empty COPY (header and trailer) loads nothing', async () => {
    await copyInto('via_binary (b)', 'binary', Buffer.concat([COPY_BINARY_HEADER, COPY_BINARY_TRAILER]));
    expect((await client.query('SELECT count(*)::int AS n FROM via_binary')).rows[0].n).toBe(ROWS.length);
  });

  it('values with no certain binary form throw RawUnfit (the writer then copies them as text)', () => {
    const cases: [string, unknown][] = [
      ['integer', 1.5],
      ['integer', 2147483648],
      ['integer', '12'],
      ['smallint', 32768],
      ['bigint', 2n ** 63n],
      ['bigint', 2 ** 53],
      ['bigint', '1'],
      ['double precision', '1.5'],
      ['real', 1e39],
      ['real', 1e-50],
      ['boolean', 1],
      ['numeric', '1e5'],
      ['numeric', 'NaN'],
      ['numeric', ''],
      ['numeric', '.'],
      ['text', 12],
      ['bytea', 'ab'],
      ['uuid', 'eb6349438ea54751a0c2202df0f72fb1'],
      ['uuid', '{eb634943-8ea5-4751-a0c2-202df0f72fb1}'],
      ['uuid', 'gb634943-8ea5-4751-a0c2-202df0f72fb1'],
      ['date', '0000-00-00'],
      ['date', '2023-02-29'],
      ['date', '2024-13-01'],
      ['date', 'infinity'],
      ['date', '12024-01-01'],
      ['date', '2024-1-1'],
      ['time without time zone', '24:00:00'],
      ['time without time zone', '838:59:59'],
      ['time without time zone', '-01:00:00'],
      ['timestamp without time zone', '2024-01-01 00:00:00+02'],
      ['timestamp without time zone', '2024-01-01'],
      ['timestamp without time zone', '2024-01-01 00:00:60'],
      ['timestamp without time zone', '2024-01-01 00:00:00.1234567'],
      ['timestamp without time zone', '2024-01-01 00:00:00.'],
      ['timestamp with time zone', 'infinity'],
      ['timestamp with time zone', '2024-01-01 00:00:00 Europe/Paris'],
      ['timestamp with time zone', '2024-01-01 00:00:00+2'],
      ['timestamp with time zone', '0000-00-00 00:00:00'],
      ['timestamp with time zone', '2024-01-01 00:00:00 BC'],
    ];
    for (const [type, v] of cases) {
      const f = binaryFieldFor(type, 'c', failOnNul)!;
      expect(() => f(new BinaryOut(), v), `${type} ${String(v)}`).toThrow(RawUnfit);
    }
  });

  it('a NUL in text is the caller’s error, not a fallback (PostgreSQL cannot store it either way)', () => {
    const f = binaryFieldFor('text', 'c', failOnNul)!;
    expect(() => f(new BinaryOut(), 'a\u0000b')).toThrow('NUL in c');
  });

  it('types without an encoder are left to text', () => {
    for (const t of ['interval', 'integer[]', 'inet', 'money', 'citext', 'time with time zone', 'mood']) {
      expect(binaryFieldFor(t, 'c', failOnNul), t).toBeNull();
    }
  });
});
