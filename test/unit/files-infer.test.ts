import { describe, expect, it } from 'vitest';
import { parseColumnType, TypeGuesser, type TypeGuesserOptions } from '../../src/connectors/files/files-infer.js';
import { ConfigError } from '../../src/core/errors.js';
import { formatLogical } from '../../src/core/logical-types.js';

function guess(values: readonly unknown[], o?: TypeGuesserOptions): string {
  const g = new TypeGuesser(o);
  for (const v of values) g.add(v);
  return formatLogical(g.result().logical);
}

describe('TypeGuesser: numbers', () => {
  it('plain integers are int32, then int64, then decimal, by range', () => {
    expect(guess(['0', '-1', '2147483647', '-2147483648'])).toBe('int32');
    expect(guess(['1', '2147483648'])).toBe('int64');
    expect(guess(['-9223372036854775808', '9223372036854775807'])).toBe('int64');
    expect(guess(['1', '9223372036854775808'])).toBe('decimal');
  });
  it('leading zeros keep text (zip codes), "0" alone is a number', () => {
    expect(guess(['007'])).toBe('text');
    expect(guess(['12345', '02134'])).toBe('text');
    expect(guess(['0', '-0'])).toBe('int32');
    expect(guess(['01.5'])).toBe('text');
  });
  it('plain decimals are decimal without precision; exponents are float64', () => {
    const g = new TypeGuesser();
    g.add('1.50');
    expect(g.result().logical).toEqual({ kind: 'decimal' });
    expect(guess(['-0.001', '12'])).toBe('decimal');
    expect(guess(['1e3'])).toBe('float64');
    expect(guess(['-2.5E-3', '7'])).toBe('float64');
    expect(guess(['1.5', '1e3'])).toBe('float64');
  });
  it('forms neither database parses the same way stay text', () => {
    for (const s of ['+1', '.5', '5.', '1,5', 'NaN', 'Infinity', '0x10', '1e400', '1e-400', ' 1']) {
      expect(guess([s]), s).toBe('text');
    }
    expect(guess(['0e-400'])).toBe('float64'); // a true zero is fine
  });
  it("numbers beyond MySQL's decimal(65,30) stay text", () => {
    expect(guess(['9'.repeat(35)])).toBe('decimal');
    expect(guess(['9'.repeat(36)])).toBe('text');
    expect(guess([`1.${'5'.repeat(30)}`])).toBe('decimal');
    expect(guess([`1.${'5'.repeat(31)}`])).toBe('text');
  });
  it('JSON numbers: integers by range, above 2^53 decimal, fractions float64', () => {
    expect(guess([1, -5, 2147483647])).toBe('int32');
    expect(guess([1, 2 ** 40])).toBe('int64');
    expect(guess([2 ** 60])).toBe('decimal');
    expect(guess([1e40])).toBe('float64');
    expect(guess([1, 2.5])).toBe('float64');
    expect(guess([12345678901234567890n])).toBe('decimal');
  });
});

describe('TypeGuesser: other types', () => {
  it('booleans, any case, and JSON booleans', () => {
    expect(guess(['true', 'FALSE', 'True'])).toBe('boolean');
    expect(guess([true, false])).toBe('boolean');
    expect(guess(['true', 'yes'])).toBe('text');
    expect(guess(['1', 'true'])).toBe('text');
  });
  it('dates must be calendar dates', () => {
    expect(guess(['2023-01-31', '2024-02-29'])).toBe('date');
    expect(guess(['2023-02-30'])).toBe('text');
    expect(guess(['2023-02-29'])).toBe('text');
    expect(guess(['1900-02-29'])).toBe('text');
    expect(guess(['2000-02-29'])).toBe('date');
    expect(guess(['2023-13-01'])).toBe('text');
    expect(guess(['0000-01-01'])).toBe('text');
    expect(guess(['2023-1-1'])).toBe('text');
  });
  it('timestamps, with T or space, fractions up to 6 digits', () => {
    expect(guess(['2023-01-31 10:20:30', '2023-01-31T10:20:30.123456'])).toBe('timestamp');
    expect(guess(['2023-01-31 10:20:30.1234567'])).toBe('text');
    expect(guess(['2023-01-31 24:00:00'])).toBe('text');
    expect(guess(['2023-02-30 10:00:00'])).toBe('text');
  });
  it('every zone form makes timestamptz', () => {
    for (const z of ['Z', '+02:00', '-0530', '+05', '-12:45']) {
      expect(guess([`2023-01-31T10:20:30${z}`]), z).toBe('timestamptz');
    }
    expect(guess(['2023-01-31T10:20:30+25:00'])).toBe('text');
    expect(guess(['2023-01-31T10:20:30+02:75'])).toBe('text');
    expect(guess(['2023-01-31T10:20:30z'])).toBe('text');
  });
  it('times', () => {
    expect(guess(['00:00:00', '23:59:59.5'])).toBe('time');
    expect(guess(['24:00:00'])).toBe('text');
    expect(guess(['10:20'])).toBe('text');
  });
  it('canonical uuids in any case', () => {
    expect(guess(['123e4567-e89b-12d3-a456-426614174000', 'ABCDEF01-2345-6789-ABCD-EF0123456789'])).toBe('uuid');
    expect(guess(['{123e4567-e89b-12d3-a456-426614174000}'])).toBe('text');
    expect(guess(['123e4567e89b12d3a456426614174000'])).toBe('text');
  });
  it('JSON objects and arrays are json; JSON-looking CSV text is text', () => {
    expect(guess([{ a: 1 }, [1, 2]])).toBe('json');
    expect(guess(['{"a":1}'])).toBe('text');
    expect(guess([{ a: 1 }, 5])).toBe('text');
  });
});

describe('TypeGuesser: widening and nulls', () => {
  it('widens along the documented lattice', () => {
    expect(guess(['1', '3000000000'])).toBe('int64');
    expect(guess(['3000000000', '1.5'])).toBe('decimal');
    expect(guess(['1', '1.5', '1e2'])).toBe('float64');
    expect(guess(['2023-01-01', '2023-01-01 10:00:00'])).toBe('timestamp');
    expect(guess(['2023-01-01 10:00:00', '2023-01-01 10:00:00Z'])).toBe('text');
    expect(guess(['2023-01-01', '2023-01-01 10:00:00Z'])).toBe('text');
    expect(guess(['1', 'x'])).toBe('text');
    expect(guess(['x', '1'])).toBe('text');
    expect(guess(['true', '2023-01-01'])).toBe('text');
  });
  it('counts nulls; a column of only nulls is text', () => {
    const g = new TypeGuesser();
    for (const v of [null, undefined, '5', null]) g.add(v);
    expect(g.result()).toEqual({ logical: { kind: 'int32' }, sampled: 4, nulls: 3 });
    const empty = new TypeGuesser();
    empty.add(null);
    expect(empty.result()).toEqual({ logical: { kind: 'text' }, sampled: 1, nulls: 1 });
    expect(new TypeGuesser().result().logical).toEqual({ kind: 'text' });
  });
  it('the empty string is a value, and not a number', () => {
    expect(guess(['1', ''])).toBe('text');
  });
});

describe('TypeGuesser: JSONL strings', () => {
  const jsonl: TypeGuesserOptions = { source: 'jsonl' };
  it('strings holding numbers or booleans stay text', () => {
    expect(guess(['42', '7'], jsonl)).toBe('text');
    expect(guess(['1.5'], jsonl)).toBe('text');
    expect(guess(['true'], jsonl)).toBe('text');
    expect(guess([42, '42'], jsonl)).toBe('text');
  });
  it('strings holding dates, times, timestamps and uuids are typed', () => {
    expect(guess(['2023-01-31'], jsonl)).toBe('date');
    expect(guess(['10:00:00'], jsonl)).toBe('time');
    expect(guess(['2023-01-31T10:00:00Z'], jsonl)).toBe('timestamptz');
    expect(guess(['123e4567-e89b-12d3-a456-426614174000'], jsonl)).toBe('uuid');
  });
  it('JSON numbers and booleans are typed as in CSV', () => {
    expect(guess([42, null], jsonl)).toBe('int32');
    expect(guess([true], jsonl)).toBe('boolean');
  });
});

describe('parseColumnType', () => {
  const t = (s: string) => formatLogical(parseColumnType(s, 'job.yaml: columns.x'));
  it('reads parseLogical names', () => {
    for (const s of ['int32', 'float64', 'uuid', 'json', 'interval', 'decimal(12,2)', 'text(5)', 'array<int64>']) {
      expect(t(s)).toBe(s);
    }
    expect(t('numeric')).toBe('decimal');
  });
  it('reads SQL spellings', () => {
    const cases: Record<string, string> = {
      integer: 'int32',
      INT: 'int32',
      int4: 'int32',
      smallint: 'int16',
      int2: 'int16',
      bigint: 'int64',
      int8: 'int64',
      real: 'float32',
      float4: 'float32',
      double: 'float64',
      'Double  Precision': 'float64',
      float: 'float64',
      float8: 'float64',
      bool: 'boolean',
      'varchar(20)': 'text(20)',
      'character varying (20)': 'text(20)',
      'char(3)': 'text(3)',
      'character(3)': 'text(3)',
      char: 'text(1)',
      varchar: 'text',
      'character varying': 'text',
      jsonb: 'json',
      'timestamp with time zone': 'timestamptz',
      'timestamp without time zone': 'timestamp',
      datetime: 'timestamp',
      bytea: 'bytes',
      blob: 'bytes',
      'numeric(10, 2)': 'decimal(10,2)',
      'DECIMAL(5)': 'decimal(5,0)',
      'array<integer>': 'array<int32>',
    };
    for (const [input, want] of Object.entries(cases)) expect(t(input), input).toBe(want);
  });
  it('returns a fresh object each time', () => {
    const a = parseColumnType('int', 'x');
    expect(a).not.toBe(parseColumnType('int', 'x'));
  });
  it('rejects unknown names with a ConfigError listing the accepted ones', () => {
    for (const bad of ['varchar2', 'constructor', '__proto__', 'array<nope>', 'int(11)']) {
      expect(() => parseColumnType(bad, 'x'), bad).toThrow(ConfigError);
    }
    try {
      parseColumnType('money', 'job.yaml: columns.price');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.message).toBe('job.yaml: columns.price: unknown type "money"');
      expect(e.context.hint).toContain('bigint');
      expect(e.context.hint).toContain('timestamptz');
      expect(e.context.hint).toContain('varchar(n)');
    }
  });
});
