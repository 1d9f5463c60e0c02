/** canonicalValue / RowSetDigest: the forms `ferry verify` compares. No servers. */
import { describe, expect, it } from 'vitest';
import { canonicalFloat, canonicalValue, RowSetDigest } from '../../src/core/canonical.js';
import type { LogicalType } from '../../src/core/logical-types.js';

const T = (kind: Exclude<LogicalType['kind'], 'array'>): LogicalType => ({ kind }) as LogicalType;
const text = T('text');
const int64 = T('int64');

function digest(types: LogicalType[], rows: unknown[][]): RowSetDigest {
  const d = new RowSetDigest();
  for (const r of rows) d.add(types, r);
  return d;
}

describe('canonicalValue', () => {
  it('null and undefined are null; the empty string is not', () => {
    expect(canonicalValue(text, null)).toBeNull();
    expect(canonicalValue(text, undefined)).toBeNull();
    expect(canonicalValue(text, '')).toBe('');
  });

  it('booleans are t/f whatever the driver returned', () => {
    expect(canonicalValue(T('boolean'), true)).toBe('t');
    expect(canonicalValue(T('boolean'), false)).toBe('f');
    expect(canonicalValue(T('boolean'), 1n)).toBe('t');
    expect(canonicalValue(T('boolean'), 0n)).toBe('f');
  });

  it('integers: number and bigint forms agree, beyond 2^53 exactly', () => {
    expect(canonicalValue(int64, 42)).toBe('42');
    expect(canonicalValue(int64, 42n)).toBe('42');
    expect(canonicalValue(int64, 9007199254740993n)).toBe('9007199254740993');
    expect(canonicalValue(T('uint64'), 18446744073709551615n)).toBe('18446744073709551615');
    expect(canonicalValue(T('int16'), -7)).toBe('-7');
  });

  it('floats: -0, NaN and infinities have their own forms', () => {
    const f = T('float64');
    expect(canonicalValue(f, -0)).toBe('-0');
    expect(canonicalValue(f, 0)).toBe('0');
    expect(canonicalValue(f, Number.NaN)).toBe('NaN');
    expect(canonicalValue(f, Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(canonicalValue(f, Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(canonicalValue(f, 1.5)).toBe('1.5');
    expect(canonicalValue(T('float32'), -0)).toBe('-0');
    expect(canonicalFloat(0.1 + 0.2)).toBe('0.30000000000000004');
  });

  it('bytes are lower-case hex', () => {
    expect(canonicalValue(T('bytes'), Buffer.from([0, 0xab, 0xff]))).toBe('00abff');
    expect(canonicalValue(T('bytes'), Buffer.alloc(0))).toBe('');
  });

  it('uuids compare case-insensitively', () => {
    expect(canonicalValue(T('uuid'), 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe(
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    );
  });

  it('timestamps: the same instant written differently has one form', () => {
    const tz = T('timestamptz');
    const forms = [
      '2024-01-02 03:04:05.5+00',
      '2024-01-02T03:04:05.500000Z',
      '2024-01-02T03:04:05.5+00:00',
      '2024-01-02 03:04:05.500+0000',
    ];
    const canon = forms.map((f) => canonicalValue(tz, f));
    expect(new Set(canon).size).toBe(1);
    expect(canon[0]).toBe('2024-01-02T03:04:05.500000Z');
  });

  it('timestamps: different instants and different zones stay different', () => {
    const tz = T('timestamptz');
    expect(canonicalValue(tz, '2024-01-02 03:04:05.5+00')).not.toBe(canonicalValue(tz, '2024-01-02 03:04:05.05+00'));
    expect(canonicalValue(tz, '2024-01-02 03:04:05+00')).not.toBe(canonicalValue(tz, '2024-01-02 03:04:05+01'));
    expect(canonicalValue(tz, '2024-01-02 03:04:05+00')).not.toBe(canonicalValue(tz, '2024-01-02 03:04:05+00 BC'));
  });

  it('timestamps without zone and times: fraction padded to microseconds', () => {
    expect(canonicalValue(T('timestamp'), '2024-01-02 03:04:05')).toBe('2024-01-02T03:04:05.000000');
    expect(canonicalValue(T('timestamp'), '2024-01-02T03:04:05.000000')).toBe('2024-01-02T03:04:05.000000');
    expect(canonicalValue(T('time'), '23:59:59.1')).toBe('23:59:59.100000');
    expect(canonicalValue(T('time'), '23:59:59')).toBe(canonicalValue(T('time'), '23:59:59.000'));
  });

  it('special timestamps pass through', () => {
    expect(canonicalValue(T('timestamp'), 'infinity')).toBe('infinity');
    expect(canonicalValue(T('timestamp'), '-infinity')).toBe('-infinity');
  });

  it('decimals and text are kept exactly (no float rounding)', () => {
    expect(canonicalValue(T('decimal'), '12345678901234567890.123456789')).toBe('12345678901234567890.123456789');
    expect(canonicalValue(text, ' a\tb\n')).toBe(' a\tb\n');
  });

  it('arrays: element-wise, with nulls; multi-dimensional values nest under one element type', () => {
    const flat: LogicalType = { kind: 'array', element: T('float64') };
    expect(canonicalValue(flat, [1, null, -0, Number.NaN])).toBe('["1",null,"-0","NaN"]');
    expect(canonicalValue(flat, [[1], [2]])).toBe('[["1"],["2"]]');
    expect(canonicalValue(flat, [[1, 2]])).not.toBe(canonicalValue(flat, [[1], [2]]));
    const texts: LogicalType = { kind: 'array', element: text };
    expect(canonicalValue(texts, [null])).not.toBe(canonicalValue(texts, ['']));
    expect(canonicalValue(texts, ['NULL'])).not.toBe(canonicalValue(texts, [null]));
  });
});

describe('RowSetDigest', () => {
  const types = [int64, text];

  it('is independent of row order', () => {
    const rows = [
      [1n, 'a'],
      [2n, 'b'],
      [3n, null],
      [4n, ''],
    ];
    const a = digest(types, rows);
    const b = digest(types, [...rows].reverse());
    const c = digest(types, [rows[2], rows[0], rows[3], rows[1]]);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toBe(c.hash);
    expect(a.count).toBe(4);
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('an empty set has count 0 and the zero hash', () => {
    const d = new RowSetDigest();
    expect(d.count).toBe(0);
    expect(d.hash).toBe('0000000000000000');
  });

  it('number and bigint forms of a key hash the same', () => {
    expect(digest(types, [[7, 'x']]).hash).toBe(digest(types, [[7n, 'x']]).hash);
  });

  it('null differs from the empty string', () => {
    expect(digest([text], [[null]]).hash).not.toBe(digest([text], [['']]).hash);
    expect(digest([text], [['\u0000N;']]).hash).not.toBe(digest([text], [[null]]).hash);
  });

  it('("ab","c") differs from ("a","bc") and from ("abc","")', () => {
    const two = [text, text];
    const h1 = digest(two, [['ab', 'c']]).hash;
    const h2 = digest(two, [['a', 'bc']]).hash;
    const h3 = digest(two, [['abc', '']]).hash;
    expect(new Set([h1, h2, h3]).size).toBe(3);
  });

  it('a value containing the separators cannot fake a field boundary', () => {
    const two = [text, text];
    expect(digest(two, [['a;1:b', 'c']]).hash).not.toBe(digest(two, [['a', 'b;1:c']]).hash);
  });

  it('is a multiset: a duplicated row changes the digest, a swapped value too', () => {
    const one = digest(types, [[1n, 'a']]);
    const twice = digest(types, [
      [1n, 'a'],
      [1n, 'a'],
    ]);
    expect(twice.hash).not.toBe(one.hash);
    expect(twice.count).toBe(2);
    const swapped = digest(types, [
      [1n, 'b'],
      [2n, 'a'],
    ]);
    const straight = digest(types, [
      [1n, 'a'],
      [2n, 'b'],
    ]);
    expect(swapped.hash).not.toBe(straight.hash);
  });

  it('the same instant in two text forms digests the same; -0 and 0 do not', () => {
    const tz = [T('timestamptz')];
    expect(digest(tz, [['2024-01-02 03:04:05.5+00']]).hash).toBe(digest(tz, [['2024-01-02T03:04:05.500000Z']]).hash);
    const f = [T('float64')];
    expect(digest(f, [[-0]]).hash).not.toBe(digest(f, [[0]]).hash);
    expect(digest(f, [[Number.NaN]]).hash).toBe(digest(f, [[Number.NaN]]).hash);
    expect(digest(f, [[Number.POSITIVE_INFINITY]]).hash).not.toBe(digest(f, [[Number.NEGATIVE_INFINITY]]).hash);
  });
});
