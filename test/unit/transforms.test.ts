import { describe, expect, it } from 'vitest';
import type { LogicalType } from '../../src/core/logical-types.js';
import { DEFAULT_POLICIES, InvalidText, type Policies, type ValueSupport } from '../../src/core/policies.js';
import {
  columnStage,
  isValidTemporal,
  type PolicyCounts,
  Rejection,
  stageRows,
  timeToInterval,
} from '../../src/engine/transforms.js';

const PERMISSIVE: ValueSupport = {
  nulInText: true,
  nonFiniteFloats: true,
  invalidDates: true,
  invalidUtf8: true,
  extremeDates: true,
};
const PG: ValueSupport = {
  nulInText: false,
  nonFiniteFloats: true,
  invalidDates: false,
  invalidUtf8: false,
  extremeDates: true,
};
const MYSQL: ValueSupport = {
  nulInText: true,
  nonFiniteFloats: false,
  invalidDates: true,
  invalidUtf8: true,
  extremeDates: false,
};
const T = (kind: string, extra: object = {}) => ({ kind, ...extra }) as LogicalType;

function apply(
  from: LogicalType,
  to: LogicalType,
  v: unknown,
  opts: {
    transform?: Parameters<typeof columnStage>[2];
    src?: ValueSupport;
    tgt?: ValueSupport;
    policies?: Partial<Policies>;
  } = {},
) {
  const stage = columnStage(from, to, opts.transform, opts.src ?? PERMISSIVE, opts.tgt ?? PG, {
    ...DEFAULT_POLICIES,
    ...opts.policies,
  });
  const counts: PolicyCounts = {};
  return { value: stage ? stage.apply(v, counts) : v, counts, stage };
}

describe('timeToInterval gives PostgreSQL iso_8601 output', () => {
  it.each([
    ['838:59:59', 'PT838H59M59S'],
    ['-12:30:00', 'PT-12H-30M'],
    ['24:00:00', 'PT24H'],
    ['00:00:00', 'PT0S'],
    ['00:00:00.500000', 'PT0.5S'],
    ['-00:00:01.25', 'PT-1.25S'],
  ])('%s -> %s', (mysql, pg) => expect(timeToInterval(mysql)).toBe(pg));
});

describe('isValidTemporal', () => {
  it('knows calendars', () => {
    expect(isValidTemporal('2024-02-29')).toBe(true);
    expect(isValidTemporal('2023-02-29')).toBe(false);
    expect(isValidTemporal('1900-02-29')).toBe(false);
    expect(isValidTemporal('2000-02-29 10:00:00')).toBe(true);
    expect(isValidTemporal('0000-00-00')).toBe(false);
    expect(isValidTemporal('2020-00-00')).toBe(false);
    expect(isValidTemporal('2020-01-00 00:00:00')).toBe(false);
    expect(isValidTemporal('infinity')).toBe(true);
    expect(isValidTemporal('-infinity')).toBe(true);
  });
  it('judges the same with and without the character-code fast path', () => {
    // Years of five digits, short or odd text take the regex path; both must agree on the calendar.
    expect(isValidTemporal('12024-02-29 00:00:00')).toBe(true);
    expect(isValidTemporal('10001-02-29')).toBe(false);
    expect(isValidTemporal('2024-13-01')).toBe(false);
    expect(isValidTemporal('2024-04-31 23:59:59.999999')).toBe(false);
    expect(isValidTemporal('2024-04-30T23:59:59+02:00')).toBe(true);
    expect(isValidTemporal('2024-4-30')).toBe(true); // not a form judged here
    expect(isValidTemporal('2024-04-3')).toBe(true);
    expect(isValidTemporal('0001-01-01 BC')).toBe(true);
    expect(isValidTemporal('')).toBe(true);
  });
});

describe('policies apply only where the source can hold what the target cannot', () => {
  it('PostgreSQL -> PostgreSQL has no stage at all (stays on the hot path)', () => {
    for (const k of ['text', 'date', 'float64', 'int64', 'json'] as const) {
      expect(columnStage(T(k), T(k), undefined, PG, PG, DEFAULT_POLICIES)).toBeNull();
    }
  });
  it('zero dates: null by default (counted), reject on demand', () => {
    const d = apply(T('date'), T('date'), '0000-00-00', { src: MYSQL });
    expect(d.value).toBeNull();
    expect(d.counts).toEqual({ invalid_dates: 1 });
    expect(apply(T('date'), T('date'), '2020-01-31', { src: MYSQL }).value).toBe('2020-01-31');
    const r = apply(T('timestamp'), T('timestamp'), '2020-00-00 00:00:00', {
      src: MYSQL,
      policies: { invalid_dates: 'reject' },
    });
    expect(r.value).toBeInstanceOf(Rejection);
    expect((r.value as Rejection).policy).toBe('invalid_dates');
  });
  it('NUL into PostgreSQL: strip (default), replace, reject', () => {
    expect(apply(T('text'), T('text'), 'a\u0000b', { src: MYSQL }).value).toBe('ab');
    expect(apply(T('text'), T('text'), 'a\u0000b', { src: MYSQL, policies: { nul_bytes: 'replace' } }).value).toBe(
      'a\uFFFDb',
    );
    expect(
      apply(T('text'), T('text'), 'a\u0000b', { src: MYSQL, policies: { nul_bytes: 'reject' } }).value,
    ).toBeInstanceOf(Rejection);
    // Into MySQL (which holds NUL) nothing changes.
    expect(apply(T('text'), T('text'), 'a\u0000b', { src: PERMISSIVE, tgt: MYSQL }).value).toBe('a\u0000b');
  });
  it('invalid UTF-8: reject (default), replace, cp1252', () => {
    const bad = new InvalidText(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x80]));
    expect(apply(T('text'), T('text'), bad, { src: MYSQL }).value).toBeInstanceOf(Rejection);
    expect(apply(T('text'), T('text'), bad, { src: MYSQL, policies: { invalid_utf8: 'replace' } }).value).toBe(
      'caf\uFFFD', // one U+FFFD for the truncated sequence E9 80
    );
    expect(apply(T('text'), T('text'), bad, { src: MYSQL, policies: { invalid_utf8: 'cp1252' } }).value).toBe('café€');
  });
  it('±infinity, BC and 5-digit years into MySQL: out_of_range', () => {
    expect(apply(T('timestamptz'), T('timestamptz'), 'infinity', { src: PG, tgt: MYSQL }).value).toBeInstanceOf(
      Rejection,
    );
    expect(
      apply(T('date'), T('date'), '0044-03-15 BC', { src: PG, tgt: MYSQL, policies: { out_of_range: 'null' } }).value,
    ).toBeNull();
    expect(apply(T('date'), T('date'), '2024-03-15', { src: PG, tgt: MYSQL }).value).toBe('2024-03-15');
  });
  it('NaN/Infinity into MySQL: reject (default) or null', () => {
    expect(apply(T('float64'), T('float64'), Number.NaN, { tgt: MYSQL }).value).toBeInstanceOf(Rejection);
    expect(
      apply(T('float64'), T('float64'), Number.POSITIVE_INFINITY, {
        tgt: MYSQL,
        policies: { non_finite_floats: 'null' },
      }).value,
    ).toBeNull();
    expect(apply(T('float64'), T('float64'), 1.5, { tgt: MYSQL }).value).toBe(1.5);
  });
  it('out of range: decimals, integers and text lengths; guards only where the source can overflow', () => {
    const dec = T('decimal', { precision: 5, scale: 2 });
    expect(apply(T('decimal'), dec, '123.45').value).toBe('123.45');
    expect(apply(T('decimal'), dec, '1234.5').value).toBeInstanceOf(Rejection);
    expect(apply(T('decimal'), dec, '1.234').value).toBeInstanceOf(Rejection);
    expect(apply(T('decimal'), dec, '1.230').value).toBe('1.230'); // trailing zeros fit
    expect(apply(T('int64'), T('int32'), 2n ** 31n).value).toBeInstanceOf(Rejection);
    expect(apply(T('int64'), T('int32'), 2n ** 31n, { policies: { out_of_range: 'clamp' } }).value).toBe(2147483647);
    expect(apply(T('text'), T('text', { length: 3 }), 'abcd', { policies: { out_of_range: 'clamp' } }).value).toBe(
      'abc',
    );
    expect(apply(T('text'), T('text', { length: 3 }), '😀😀😀').value).toBe('😀😀😀'); // characters, not UTF-16 units
    expect(columnStage(T('int16'), T('int32'), undefined, PG, PG, DEFAULT_POLICIES)).toBeNull();
    expect(columnStage(T('decimal', { precision: 4, scale: 1 }), dec, undefined, PG, PG, DEFAULT_POLICIES)).toBeNull();
  });
});

describe('cast-rule transforms', () => {
  it('int-to-boolean, bits-to-integer, bits-to-boolean, binary16-to-uuid, time-to-interval', () => {
    expect(apply(T('int16'), T('boolean'), 1, { transform: 'int-to-boolean' }).value).toBe(true);
    expect(apply(T('int16'), T('boolean'), 0, { transform: 'int-to-boolean' }).value).toBe(false);
    expect(apply(T('bytes'), T('int64'), Buffer.from([0x01, 0x00]), { transform: 'bits-to-integer' }).value).toBe(256n);
    expect(apply(T('bytes'), T('boolean'), Buffer.from([0x01]), { transform: 'bits-to-boolean' }).value).toBe(true);
    const u = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(apply(T('bytes'), T('uuid'), u, { transform: 'binary16-to-uuid' }).value).toBe(
      '00112233-4455-6677-8899-aabbccddeeff',
    );
    expect(apply(T('bytes'), T('uuid'), Buffer.alloc(3), { transform: 'binary16-to-uuid' }).value).toBeInstanceOf(
      Rejection,
    );
    expect(apply(T('time'), T('interval'), '-838:59:59', { transform: 'time-to-interval' }).value).toBe(
      'PT-838H-59M-59S',
    );
    expect(apply(T('int16'), T('boolean'), null, { transform: 'int-to-boolean' }).value).toBeNull();
  });
});

describe('stageRows', () => {
  it('drops rejected rows, reports them with the column, keeps the rest transformed', () => {
    const stages = [
      null,
      columnStage(T('date'), T('date'), undefined, MYSQL, PG, { ...DEFAULT_POLICIES, invalid_dates: 'reject' }),
    ];
    const rejected: [unknown[], number][] = [];
    const out = stageRows(
      stages,
      [
        [1, '2020-01-01'],
        [2, '0000-00-00'],
        [3, null],
      ],
      {},
      (row, col) => rejected.push([row, col]),
    );
    expect(out).toEqual([
      [1, '2020-01-01'],
      [3, null],
    ]);
    expect(rejected).toEqual([[[2, '0000-00-00'], 1]]);
  });
});
