/** toJson / fromJson: chunk bounds and plans keep bigints, Buffers and non-finite floats. No servers. */
import { describe, expect, it } from 'vitest';
import { fromJson, toJson } from '../../src/core/key-codec.js';

describe('key codec', () => {
  it('round-trips bigints beyond 2^53 exactly (not as numbers)', () => {
    const big = 2n ** 63n - 1n;
    const back = fromJson<bigint>(toJson(big));
    expect(typeof back).toBe('bigint');
    expect(back).toBe(big);
    expect(fromJson(toJson(-(2n ** 64n)))).toBe(-(2n ** 64n));
    expect(toJson(5n)).toBe('{"$bigint":"5"}');
  });

  it('round-trips Buffers, including empty and binary ones', () => {
    for (const b of [Buffer.alloc(0), Buffer.from([0, 1, 0x7f, 0x80, 0xff]), Buffer.from('ünïcödé')]) {
      const back = fromJson<Buffer>(toJson(b));
      expect(Buffer.isBuffer(back)).toBe(true);
      expect(back.equals(b)).toBe(true);
    }
    expect(toJson(Buffer.from([0xab]))).toBe('{"$bytes":"ab"}');
  });

  it('round-trips NaN and ±Infinity (plain JSON would turn them into null)', () => {
    const back = fromJson<number[]>(toJson([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5]));
    expect(Number.isNaN(back[0])).toBe(true);
    expect(back[1]).toBe(Number.POSITIVE_INFINITY);
    expect(back[2]).toBe(Number.NEGATIVE_INFINITY);
    expect(back[3]).toBe(1.5);
  });

  it('round-trips a chunk plan with mixed key tuples nested in objects and arrays', () => {
    const chunks = [
      { id: 'c00001', range: { lo: null, hi: [10n, 'm', Buffer.from([1, 2])] } },
      { id: 'c00002', range: { lo: [10n, 'm', Buffer.from([1, 2])], hi: [2.5, Number.NaN, null] } },
    ];
    const back = fromJson<typeof chunks>(toJson(chunks, 2));
    expect(back[0].range.lo).toBeNull();
    expect(back[0].range.hi).toEqual([10n, 'm', Buffer.from([1, 2])]);
    expect(back[1].range.lo?.[0]).toBe(10n);
    expect(Buffer.isBuffer(back[1].range.lo?.[2])).toBe(true);
    expect(back[1].range.hi?.[0]).toBe(2.5);
    expect(Number.isNaN(back[1].range.hi?.[1])).toBe(true);
    expect(back[1].range.hi?.[2]).toBeNull();
  });

  it('keeps ordinary JSON values as they are', () => {
    const v = { a: 1, b: 'x', c: [true, null, { d: -2 }], e: '' };
    expect(toJson(v)).toBe(JSON.stringify(v));
    expect(fromJson(toJson(v))).toEqual(v);
  });

  it('a string that looks like a bigint stays a string', () => {
    expect(fromJson(toJson('123'))).toBe('123');
    expect(fromJson(toJson({ $bigint: 5 }))).toEqual({ $bigint: 5 });
  });

  it('indents when asked', () => {
    expect(toJson({ a: 1n }, 2)).toBe('{\n  "a": {\n    "$bigint": "1"\n  }\n}');
  });
});
