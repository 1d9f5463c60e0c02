/** PostgreSQL COPY text codec: escaping, row splitting across chunk boundaries, arrays. No servers. */
import { describe, expect, it } from 'vitest';
import {
  CopyTextParser,
  decoderFor,
  escapeCopy,
  literalEncoderFor,
  unescapeCopy,
} from '../../src/connectors/postgres/postgres-copy-text.js';
import type { LogicalType } from '../../src/core/logical-types.js';

const T = (kind: Exclude<LogicalType['kind'], 'array'>): LogicalType => ({ kind }) as LogicalType;
const arrayOf = (element: LogicalType): LogicalType => ({ kind: 'array', element });

const ASCII = Array.from({ length: 0x7f }, (_, i) => String.fromCharCode(i + 1)); // 0x01..0x7f
const UNICODE = ['é', 'ß', '中文', '😀', '👩‍👩‍👧', 'e\u0301', '\u00a0', '\u2028', '\ufeff', '𝔘𝔫𝔦'];

/** One COPY text line of a row, as ferry's writer would encode it. */
function encodeLine(types: LogicalType[], row: unknown[]): string {
  return row
    .map((v, i) => (v === null ? '\\N' : escapeCopy(literalEncoderFor(types[i])(v))))
    .join('\t')
    .concat('\n');
}

describe('escapeCopy / unescapeCopy', () => {
  it('round-trips every character 0x01-0x7f alone, doubled and between letters', () => {
    for (const c of ASCII) {
      for (const s of [c, c + c, `a${c}b`, `${c}\\${c}`]) {
        expect(unescapeCopy(escapeCopy(s))).toBe(s);
      }
    }
  });

  it('round-trips all of 0x01-0x7f in one string, and unicode', () => {
    const all = ASCII.join('');
    expect(unescapeCopy(escapeCopy(all))).toBe(all);
    for (const u of UNICODE) expect(unescapeCopy(escapeCopy(`x${u}\t${u}\\`))).toBe(`x${u}\t${u}\\`);
  });

  it('escaped text never holds a raw tab, newline or carriage return (they separate fields and rows)', () => {
    const out = escapeCopy(ASCII.join(''));
    expect(out).not.toMatch(/[\t\n\r]/);
    expect(escapeCopy('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
  });

  it('text looking like the null marker is escaped so it stays text', () => {
    expect(escapeCopy('\\N')).toBe('\\\\N');
    expect(escapeCopy('\\N')).not.toBe('\\N');
    expect(unescapeCopy(escapeCopy('\\N'))).toBe('\\N');
  });

  it('leaves text without special characters alone (same string)', () => {
    expect(escapeCopy('plain text 123')).toBe('plain text 123');
    expect(unescapeCopy('plain text 123')).toBe('plain text 123');
  });

  it('decodes every escape PostgreSQL may send', () => {
    expect(unescapeCopy('\\b\\f\\n\\r\\t\\v')).toBe('\b\f\n\r\t\v');
    expect(unescapeCopy('\\101\\60\\0x')).toBe('A0\u0000x');
    expect(unescapeCopy('\\1012')).toBe('A2'); // at most three octal digits
    expect(unescapeCopy('\\x41\\x4a\\x7')).toBe('AJ\u0007');
    expect(unescapeCopy('\\x41F')).toBe('AF'); // at most two hex digits
    expect(unescapeCopy('\\xg')).toBe('xg'); // \x without a hex digit is a plain x
    expect(unescapeCopy('\\q\\\\\\.')).toBe('q\\.');
  });
});

describe('decoders and encoders of scalar values', () => {
  it('decodes booleans, integers, bigints, floats and bytea', () => {
    expect(decoderFor(T('boolean'))('t')).toBe(true);
    expect(decoderFor(T('boolean'))('f')).toBe(false);
    expect(decoderFor(T('int32'))('-2147483648')).toBe(-2147483648);
    expect(decoderFor(T('int64'))('9223372036854775807')).toBe(9223372036854775807n);
    expect(decoderFor(T('float64'))('NaN')).toBeNaN();
    expect(decoderFor(T('float64'))('-Infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(decoderFor(T('float64'))('-0'), -0)).toBe(true);
    expect(decoderFor(T('bytes'))('\\x00ff10')).toEqual(Buffer.from([0, 0xff, 0x10]));
    expect(decoderFor(T('decimal'))('12.30')).toBe('12.30');
  });

  it('encodes then decodes to the same value for each scalar kind', () => {
    const cases: [LogicalType, unknown][] = [
      [T('boolean'), true],
      [T('boolean'), false],
      [T('int16'), -32768],
      [T('int64'), -9223372036854775808n],
      [T('float64'), -0],
      [T('float64'), Number.NaN],
      [T('float64'), Number.POSITIVE_INFINITY],
      [T('float32'), 1.5],
      [T('bytes'), Buffer.from([0, 1, 0xfe, 0xff])],
      [T('text'), 'tab\there\\back'],
      [T('decimal'), '-0.000100'],
    ];
    for (const [t, v] of cases) {
      const back = decoderFor(t)(unescapeCopy(escapeCopy(literalEncoderFor(t)(v))));
      expect(back, `${t.kind} ${String(v)}`).toEqual(v);
      if (typeof v === 'number') expect(Object.is(back, v)).toBe(true);
    }
  });
});

describe('arrays', () => {
  const texts = arrayOf(T('text'));
  const ints = arrayOf(T('int32'));

  it('decodes the text forms PostgreSQL prints', () => {
    expect(decoderFor(ints)('{1,2,NULL,-4}')).toEqual([1, 2, null, -4]);
    expect(decoderFor(ints)('{}')).toEqual([]);
    expect(decoderFor(ints)('{{1,2},{3,4}}')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(decoderFor(ints)('[0:2]={7,8,9}')).toEqual([7, 8, 9]);
    expect(decoderFor(ints)('[0:1][1:2]={{1,2},{3,4}}')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(decoderFor(texts)('{"a\\"b","c\\\\d","NULL",NULL,"",plain,"x,y","{z}"," s "}')).toEqual([
      'a"b',
      'c\\d',
      'NULL',
      null,
      '',
      'plain',
      'x,y',
      '{z}',
      ' s ',
    ]);
  });

  it('encodes NULL elements bare and every other element quoted', () => {
    expect(literalEncoderFor(texts)(['a', null, 'NULL', ''])).toBe('{"a",NULL,"NULL",""}');
    expect(literalEncoderFor(texts)(['q"uo\\te'])).toBe('{"q\\"uo\\\\te"}');
    expect(literalEncoderFor(ints)([])).toBe('{}');
    expect(
      literalEncoderFor(ints)([
        [1, null],
        [3, 4],
      ]),
    ).toBe('{{"1",NULL},{"3","4"}}');
  });

  const roundTrips: [string, LogicalType, unknown[]][] = [
    [
      'text with nulls, quotes, backslashes, braces, commas',
      texts,
      ['a', null, '"', '\\', '{}', 'a,b', 'NULL', '', ' '],
    ],
    ['text with control characters and unicode', texts, ['\t', '\n', '\r\n', '\\N', ...UNICODE]],
    [
      'nested text',
      texts,
      [
        ['a', null],
        ['"b"', '\\c'],
      ],
    ],
    [
      'three levels',
      ints,
      [
        [
          [1, 2],
          [3, 4],
        ],
        [
          [5, null],
          [null, 8],
        ],
      ],
    ],
    ['all-null', ints, [null, null]],
    ['empty', ints, []],
    ['bigint', arrayOf(T('int64')), [9223372036854775807n, -1n, null]],
    ['float specials', arrayOf(T('float64')), [Number.NaN, Number.NEGATIVE_INFINITY, -0, 0.1]],
    ['booleans', arrayOf(T('boolean')), [true, false, null]],
    ['bytea', arrayOf(T('bytes')), [Buffer.from([0, 0xff]), null, Buffer.alloc(0)]],
  ];
  for (const [name, type, value] of roundTrips) {
    it(`round-trips through the literal and COPY escaping: ${name}`, () => {
      const literal = literalEncoderFor(type)(value);
      expect(decoderFor(type)(literal)).toEqual(value);
      const rows: unknown[][] = [];
      const p = new CopyTextParser([type]);
      p.push(encodeLine([type], [value]), rows);
      p.end();
      expect(rows).toEqual([[value]]);
    });
  }

  it('keeps -0 inside a float array', () => {
    const t = arrayOf(T('float64'));
    const back = decoderFor(t)(literalEncoderFor(t)([-0])) as number[];
    expect(Object.is(back[0], -0)).toBe(true);
  });
});

describe('CopyTextParser', () => {
  const types: LogicalType[] = [T('int64'), T('text'), T('bytes'), arrayOf(T('text')), T('float64'), T('boolean')];
  const rows: unknown[][] = [
    [1n, 'plain', Buffer.from([1, 2]), ['a', null], 1.5, true],
    [2n, 'tab\there\nnewline\r\\back', Buffer.alloc(0), [], Number.NaN, false],
    [3n, null, null, null, null, null],
    [4n, '', Buffer.from([0x0a, 0x09, 0x5c]), ['\t', '\n', '"', '\\', 'NULL', ''], -0, true],
    [
      5n,
      '\\N',
      Buffer.from([0xff]),
      [
        ['x', 'y'],
        ['z', null],
      ],
      Number.NEGATIVE_INFINITY,
      false,
    ],
    [6n, `😀${ASCII.join('')}中`, Buffer.from('ü'), UNICODE, 0, true],
  ];
  const text = rows.map((r) => encodeLine(types, r)).join('');

  function parse(pieces: string[]): unknown[][] {
    const out: unknown[][] = [];
    const p = new CopyTextParser(types);
    for (const piece of pieces) p.push(piece, out);
    p.end();
    return out;
  }

  it('parses the whole stream at once', () => {
    const out = parse([text]);
    expect(out).toEqual(rows);
    expect(Object.is(out[3][4], -0)).toBe(true);
  });

  it('gives the same rows when the stream is split in two at every position', () => {
    for (let i = 0; i <= text.length; i++) {
      expect(parse([text.slice(0, i), text.slice(i)]), `split at ${i}`).toEqual(rows);
    }
  });

  it('gives the same rows fed one character at a time, and in pieces of every size up to 17', () => {
    expect(parse([...text.split('')])).toEqual(rows);
    for (let size = 2; size <= 17; size++) {
      const pieces: string[] = [];
      for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
      expect(parse(pieces), `pieces of ${size}`).toEqual(rows);
    }
  });

  it('returns rows as soon as they are complete, and nothing for a partial row', () => {
    const p = new CopyTextParser(types);
    const out: unknown[][] = [];
    const firstNl = text.indexOf('\n');
    p.push(text.slice(0, firstNl), out);
    expect(out).toEqual([]);
    p.push('\n', out);
    expect(out).toEqual([rows[0]]);
  });

  it('an empty stream is no rows', () => {
    expect(parse([])).toEqual([]);
    expect(parse(['', ''])).toEqual([]);
  });

  it('fails when the stream ends in the middle of a row', () => {
    const p = new CopyTextParser(types);
    p.push(text.slice(0, -1), []);
    expect(() => p.end()).toThrow(/ended in the middle of a row/);
  });

  it('fails on a row with the wrong number of fields', () => {
    const p = new CopyTextParser([T('int32'), T('text')]);
    expect(() => p.push('1\ta\tb\n', [])).toThrow(/3 fields, expected 2/);
    expect(() => new CopyTextParser([T('int32'), T('text')]).push('1\n', [])).toThrow(/1 fields, expected 2/);
  });

  it('reads \\N as null but an escaped \\\\N as the text \\N', () => {
    const out: unknown[][] = [];
    new CopyTextParser([T('text'), T('text')]).push('\\N\t\\\\N\n', out);
    expect(out).toEqual([[null, '\\N']]);
  });
});
