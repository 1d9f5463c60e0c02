/** Type maps kept as data: SQLite and PostgreSQL native <-> logical. No servers. */
import { describe, expect, it } from 'vitest';
import { pgLogicalFor, pgTypeFor } from '../../src/connectors/postgres/postgres-types.js';
import { sqliteLogicalFor, sqliteTypeFor } from '../../src/connectors/sqlite/sqlite-types.js';
import { formatLogical, type LogicalType } from '../../src/core/logical-types.js';

/** One value of every logical kind (and the parameterised variants). */
const SCALARS: LogicalType[] = [
  { kind: 'boolean' },
  { kind: 'int16' },
  { kind: 'int32' },
  { kind: 'int64' },
  { kind: 'uint64' },
  { kind: 'decimal' },
  { kind: 'decimal', precision: 12, scale: 2 },
  { kind: 'decimal', precision: 38, scale: 0 },
  { kind: 'float32' },
  { kind: 'float64' },
  { kind: 'text' },
  { kind: 'text', length: 20 },
  { kind: 'bytes' },
  { kind: 'date' },
  { kind: 'time' },
  { kind: 'timestamp' },
  { kind: 'timestamptz' },
  { kind: 'uuid' },
  { kind: 'json' },
  { kind: 'interval' },
];
const ALL_KINDS = new Set<string>([...SCALARS.map((t) => t.kind), 'array']);

it('the list above covers every logical kind', () => {
  // Adding a kind to LogicalType without a row here makes the switch-based maps untested.
  expect(ALL_KINDS).toEqual(
    new Set([
      'boolean',
      'int16',
      'int32',
      'int64',
      'uint64',
      'decimal',
      'float32',
      'float64',
      'text',
      'bytes',
      'date',
      'time',
      'timestamp',
      'timestamptz',
      'uuid',
      'json',
      'interval',
      'array',
    ]),
  );
});

describe('SQLite: sqliteTypeFor then sqliteLogicalFor', () => {
  /** Where the round trip is knowingly not the identity. */
  const expectedBack = (t: LogicalType): LogicalType =>
    // SQLite has no unsigned 64-bit type: stored as exact decimal text, read back as decimal(20,0).
    t.kind === 'uint64' ? { kind: 'decimal', precision: 20, scale: 0 } : t;

  for (const t of SCALARS) {
    it(`round-trips ${formatLogical(t)} (declared ${sqliteTypeFor(t)}) without a note`, () => {
      const back = sqliteLogicalFor(sqliteTypeFor(t));
      expect(back.logical).toEqual(expectedBack(t));
      expect(back.note).toBeUndefined();
    });
  }

  for (const t of SCALARS) {
    const arr: LogicalType = { kind: 'array', element: t };
    it(`round-trips array<${formatLogical(t)}> up to the element's parameters`, () => {
      const declared = sqliteTypeFor(arr);
      expect(declared.endsWith('[]')).toBe(true);
      const back = sqliteLogicalFor(declared).logical;
      expect(back.kind).toBe('array');
      const el = (back as { element: LogicalType }).element;
      // Array declarations drop parameters: decimal(12,2)[] comes back as decimal[], text(20)[] as text[].
      const want = expectedBack(t);
      const bare = want.kind === 'decimal' ? { kind: 'decimal' } : want.kind === 'text' ? { kind: 'text' } : want;
      expect(el).toEqual(bare);
    });
  }

  it('declares decimals and JSON with TEXT affinity names (values stay exact)', () => {
    expect(sqliteTypeFor({ kind: 'decimal', precision: 12, scale: 2 })).toBe('DECIMAL_TEXT(12,2)');
    expect(sqliteTypeFor({ kind: 'decimal' })).toBe('DECIMAL_TEXT');
    expect(sqliteTypeFor({ kind: 'json' })).toBe('JSON_TEXT');
    expect(sqliteTypeFor({ kind: 'uint64' })).toBe('DECIMAL_TEXT(20,0)');
  });

  it('reads declared types written by people, by name then by affinity rules', () => {
    const cases: [string, LogicalType, boolean][] = [
      ['integer', { kind: 'int64' }, false],
      ['INT', { kind: 'int64' }, false],
      ['varchar(255)', { kind: 'text', length: 255 }, false],
      ['VARCHAR ( 10 )', { kind: 'text', length: 10 }, false],
      ['TEXT(5)', { kind: 'text' }, false],
      ['double precision', { kind: 'float64' }, false],
      ['unsigned big int', { kind: 'uint64' }, false],
      ['NUMERIC(10,3)', { kind: 'decimal', precision: 10, scale: 3 }, true],
      ['DECIMAL', { kind: 'decimal' }, false],
      ['datetime', { kind: 'timestamp' }, false],
      ['BIGSERIALINTEGERISH', { kind: 'int64' }, false],
      ['NATIVE CHARACTER(70)', { kind: 'text' }, false],
      ['MEDIUMBLOB', { kind: 'bytes' }, false],
      ['DOUBLE FLOAT', { kind: 'float64' }, false],
      // SQLite's rule 1 (contains INT) wins: the manual's own example of INTEGER affinity.
      ['FLOATING POINT', { kind: 'int64' }, false],
      ['', { kind: 'text' }, true],
      ['WEIRDTYPE', { kind: 'decimal' }, true],
      ['int[]', { kind: 'array', element: { kind: 'int64' } }, false],
    ];
    for (const [declared, logical, noted] of cases) {
      const r = sqliteLogicalFor(declared);
      expect(r.logical, declared).toEqual(logical);
      expect(r.note !== undefined, `${declared} note`).toBe(noted);
    }
  });
});

describe('PostgreSQL: pgLogicalFor on format_type() output', () => {
  const cases: [string, string, LogicalType][] = [
    ['numeric(12,2)', 'N', { kind: 'decimal', precision: 12, scale: 2 }],
    ['numeric(5)', 'N', { kind: 'decimal', precision: 5, scale: 0 }],
    ['numeric', 'N', { kind: 'decimal' }],
    ['character varying(20)', 'S', { kind: 'text', length: 20 }],
    ['character varying', 'S', { kind: 'text' }],
    ['character(1)', 'S', { kind: 'text', length: 1 }],
    ['text', 'S', { kind: 'text' }],
    ['timestamp(3) with time zone', 'D', { kind: 'timestamptz' }],
    ['timestamp with time zone', 'D', { kind: 'timestamptz' }],
    ['timestamp(0) without time zone', 'D', { kind: 'timestamp' }],
    ['timestamp without time zone', 'D', { kind: 'timestamp' }],
    ['time(3) without time zone', 'D', { kind: 'time' }],
    ['interval', 'T', { kind: 'interval' }],
    ['interval second(3)', 'T', { kind: 'interval' }],
    ['interval day to second', 'T', { kind: 'interval' }],
    ['integer[]', 'A', { kind: 'array', element: { kind: 'int32' } }],
    ['character varying(5)[]', 'A', { kind: 'array', element: { kind: 'text', length: 5 } }],
    ['numeric(12,2)[]', 'A', { kind: 'array', element: { kind: 'decimal', precision: 12, scale: 2 } }],
    ['timestamp(3) with time zone[]', 'A', { kind: 'array', element: { kind: 'timestamptz' } }],
    ['double precision', 'N', { kind: 'float64' }],
    ['real', 'N', { kind: 'float32' }],
    ['smallint', 'N', { kind: 'int16' }],
    ['bigint', 'N', { kind: 'int64' }],
    ['boolean', 'B', { kind: 'boolean' }],
    ['bytea', 'U', { kind: 'bytes' }],
    ['uuid', 'U', { kind: 'uuid' }],
    ['jsonb', 'U', { kind: 'json' }],
    ['json', 'U', { kind: 'json' }],
    ['date', 'D', { kind: 'date' }],
  ];
  for (const [formatted, category, logical] of cases) {
    it(`${formatted} -> ${formatLogical(logical)}, no note`, () => {
      const r = pgLogicalFor(formatted, category);
      expect(r.logical).toEqual(logical);
      expect(r.note).toBeUndefined();
    });
  }

  it('types without a logical kind are read as text, with a note that names them', () => {
    for (const formatted of [
      'bit(8)',
      'bit varying(5)',
      'time with time zone',
      'inet',
      'money',
      '"MyType"',
      'public.citext',
    ]) {
      const r = pgLogicalFor(formatted, 'U');
      expect(r.logical, formatted).toEqual({ kind: 'text' });
      expect(r.note, formatted).toContain(formatted);
    }
    expect(pgLogicalFor('mood', 'E').note).toMatch(/^enum mood read as text/);
    const arr = pgLogicalFor('bit(8)[]', 'A');
    expect(arr.logical).toEqual({ kind: 'array', element: { kind: 'text' } });
    expect(arr.note).toContain('bit(8)');
  });

  for (const t of SCALARS) {
    const expected: LogicalType = t.kind === 'uint64' ? { kind: 'decimal', precision: 20, scale: 0 } : t; // numeric(20,0) has no unsigned kind
    it(`pgTypeFor then pgLogicalFor round-trips ${formatLogical(t)} (${pgTypeFor(t)}), also as an array`, () => {
      expect(pgLogicalFor(pgTypeFor(t), '').logical).toEqual(expected);
      expect(pgLogicalFor(pgTypeFor({ kind: 'array', element: t }), 'A').logical).toEqual({
        kind: 'array',
        element: expected,
      });
    });
  }
});
