import { describe, expect, it } from 'vitest';
import { castMatches, formatRule, parseLogical, parseNativeType } from '../../src/core/cast-rules.js';
import { ConfigError } from '../../src/core/errors.js';
import { formatLogical } from '../../src/core/logical-types.js';

describe('parseNativeType', () => {
  it('splits base, parameters and unsigned', () => {
    expect(parseNativeType('bigint(20) unsigned')).toEqual({ base: 'bigint', params: ['20'], unsigned: true });
    expect(parseNativeType('DECIMAL(10, 2)')).toEqual({ base: 'decimal', params: ['10', '2'], unsigned: false });
    expect(parseNativeType('tinyint(1)')).toEqual({ base: 'tinyint', params: ['1'], unsigned: false });
    expect(parseNativeType("enum('a','b c')").base).toBe('enum');
    expect(parseNativeType('double precision')).toEqual({ base: 'double precision', params: [], unsigned: false });
  });
});

describe('castMatches', () => {
  it('a type with parameters matches only those parameters; without, any', () => {
    expect(castMatches({ type: 'tinyint(1)' }, 't', 'c', 'tinyint(1)')).toBe(true);
    expect(castMatches({ type: 'tinyint(1)' }, 't', 'c', 'tinyint(4)')).toBe(false);
    expect(castMatches({ type: 'tinyint' }, 't', 'c', 'tinyint(4)')).toBe(true);
    expect(castMatches({ type: 'int' }, 't', 'c', 'bigint(20)')).toBe(false);
  });
  it('unsigned guards', () => {
    expect(castMatches({ type: 'bigint', unsigned: true }, 't', 'c', 'bigint(20) unsigned')).toBe(true);
    expect(castMatches({ type: 'bigint', unsigned: true }, 't', 'c', 'bigint(20)')).toBe(false);
    expect(castMatches({ type: 'bigint unsigned' }, 't', 'c', 'bigint(20)')).toBe(false);
  });
  it('precision and scale guards', () => {
    expect(castMatches({ type: 'decimal', precision: 65, scale: 30 }, 't', 'c', 'decimal(65,30)')).toBe(true);
    expect(castMatches({ type: 'decimal', precision: 65, scale: 30 }, 't', 'c', 'decimal(65,2)')).toBe(false);
  });
  it('column globs match table.column or column, case-insensitively', () => {
    expect(castMatches({ column: 'users.is_*' }, 'Users', 'is_active', 'tinyint(4)')).toBe(true);
    expect(castMatches({ column: 'users.is_*' }, 'orders', 'is_active', 'tinyint(4)')).toBe(false);
    expect(castMatches({ column: 'flag' }, 'any', 'FLAG', 'int')).toBe(true);
    expect(castMatches({ column: 'a.b' }, 'axb', 'c', 'int')).toBe(false); // dots are literal
  });
});

describe('parseLogical', () => {
  it('parses every logical type name and round-trips with formatLogical', () => {
    for (const name of [
      'boolean',
      'int16',
      'int32',
      'int64',
      'uint64',
      'decimal',
      'decimal(20,0)',
      'float32',
      'float64',
      'text',
      'text(12)',
      'bytes',
      'date',
      'time',
      'timestamp',
      'timestamptz',
      'uuid',
      'json',
      'interval',
      'array<int32>',
      'array<decimal(5,2)>',
    ]) {
      expect(formatLogical(parseLogical(name))).toBe(name);
    }
  });
  it('an unknown name is a ConfigError naming it', () => {
    expect(() => parseLogical('varchar', 'casts[0].to')).toThrow(ConfigError);
    expect(() => parseLogical('varchar', 'casts[0].to')).toThrow(/casts\[0\]\.to: unknown type "varchar"/);
  });
});

describe('formatRule', () => {
  it('prints the job-file syntax with the reason as a comment', () => {
    expect(formatRule({ match: { type: 'bit(1)' }, to: 'boolean', transform: 'bits-to-boolean', why: 'a flag' })).toBe(
      '{ match: { type: "bit(1)" }, to: boolean, transform: bits-to-boolean }  # a flag',
    );
  });
});
