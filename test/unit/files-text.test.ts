import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SOURCE_ENCODINGS } from '../../src/config/job-schema.js';
import { type CsvField, CsvParser } from '../../src/connectors/files/files-csv.js';
import {
  csvRecords,
  decodeText,
  fieldValue,
  jsonLines,
  TEXT_ENCODINGS,
  type TextEncoding,
} from '../../src/connectors/files/files-text.js';
import { decodeCp1252, InvalidText } from '../../src/core/policies.js';

const SPECTRUM = fileURLToPath(new URL('../../../shared/datasets/csv-spectrum/', import.meta.url));
const PGLOADER = fileURLToPath(new URL('../../../shared/datasets/pgloader-tests/', import.meta.url));

async function* chunks(...pieces: Buffer[]): AsyncIterable<Buffer> {
  for (const p of pieces) yield p;
}

async function* strings(...pieces: string[]): AsyncIterable<string> {
  for (const p of pieces) yield p;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const decode = async (encoding: TextEncoding | undefined, ...pieces: Buffer[]): Promise<string> =>
  (await collect(decodeText(chunks(...pieces), encoding))).join('');

/** Every way of cutting `b` into two chunks, and into single bytes. */
function splits(b: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let i = 0; i <= b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push([...b].map((x) => Buffer.of(x)));
  return out;
}

async function expectEverySplit(b: Buffer, encoding: TextEncoding | undefined, want: string): Promise<void> {
  for (const pieces of splits(b)) expect(await decode(encoding, ...pieces)).toBe(want);
}

const bytesOf = (v: string | InvalidText): Buffer => {
  expect(v).toBeInstanceOf(InvalidText);
  return (v as InvalidText).bytes;
};

const records = async (
  o: { delimiter: string; quote: string; escape?: string },
  ...pieces: string[]
): Promise<{ fields: CsvField[]; line: number }[]> => (await collect(csvRecords(strings(...pieces), o))).flat();

const texts = (rs: { fields: CsvField[] }[]): string[][] => rs.map((r) => r.fields.map((f) => f.text));

const RFC = { delimiter: ',', quote: '"' };
const BACKSLASH = { delimiter: ',', quote: '"', escape: '\\' };

describe('TEXT_ENCODINGS', () => {
  it('lists the encodings the job file accepts', () => {
    expect([...TEXT_ENCODINGS]).toEqual([...SOURCE_ENCODINGS]);
  });
});

describe('decodeText: byte order marks', () => {
  it('drops a leading UTF-8 BOM, at every split', async () => {
    await expectEverySplit(Buffer.from('\ufeffa,b\n', 'utf8'), 'utf-8', 'a,b\n');
    await expectEverySplit(Buffer.from('\ufeffa,b\n', 'utf8'), undefined, 'a,b\n');
  });

  it('keeps a UTF-8 BOM that is not at the start', async () => {
    expect(await decode('utf-8', Buffer.from('a\ufeffb', 'utf8'))).toBe('a\ufeffb');
  });

  it('reads UTF-16LE and UTF-16BE by their BOM, also when told utf-8', async () => {
    const s = 'id,name\n1,Zoë 😀\n';
    const le = Buffer.concat([Buffer.of(0xff, 0xfe), Buffer.from(s, 'utf16le')]);
    const be = Buffer.from(le).swap16();
    expect(be.subarray(0, 4)).toEqual(Buffer.of(0xfe, 0xff, 0x00, 0x69));
    for (const enc of ['utf-8', 'utf-16', 'utf-16le', 'utf-16be'] as const) {
      await expectEverySplit(le, enc, s);
      await expectEverySplit(be, enc, s);
    }
  });

  it('reads UTF-16 without a BOM as its declared byte order (utf-16: little endian)', async () => {
    const s = 'a😀b';
    await expectEverySplit(Buffer.from(s, 'utf16le'), 'utf-16', s);
    await expectEverySplit(Buffer.from(s, 'utf16le'), 'utf-16le', s);
    await expectEverySplit(Buffer.from(s, 'utf16le').swap16(), 'utf-16be', s);
  });

  it('turns a dangling odd byte of UTF-16 into U+FFFD', async () => {
    expect(await decode('utf-16le', Buffer.of(0x61, 0x00, 0x62))).toBe('a\ufffd');
  });

  it('decodes short inputs (shorter than any BOM) and empty input', async () => {
    expect(await decode('utf-8')).toBe('');
    expect(await decode('utf-8', Buffer.from('a'))).toBe('a');
    expect(await decode('utf-8', Buffer.of(0xef, 0xbb, 0xbf))).toBe('');
    expect(await decode('utf-16', Buffer.of(0xff, 0xfe))).toBe('');
  });

  it('does not look for a BOM in single-byte encodings', async () => {
    expect(await decode('latin1', Buffer.of(0xff, 0xfe, 0x41))).toBe('ÿþA');
    expect(await decode('cp1252', Buffer.of(0xef, 0xbb, 0xbf))).toBe('ï»¿');
  });
});

describe('decodeText: single-byte encodings', () => {
  it('cp1252 maps 0x80-0x9F to their characters', async () => {
    expect(await decode('cp1252', Buffer.of(0x80, 0x20, 0x93, 0x71, 0x94, 0x85, 0x99))).toBe('€ “q”…™');
  });

  it('cp1252 matches core decodeCp1252 on all 256 bytes', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const s = await decode('cp1252', all);
    expect(s).toBe(decodeCp1252(all));
    expect(s.slice(0xa0)).toBe(all.subarray(0xa0).toString('latin1'));
    expect(s[0x9f]).toBe('Ÿ');
  });

  it('latin1 is ISO-8859-1 (0x80 stays U+0080)', async () => {
    expect(await decode('latin1', Buffer.of(0x80, 0xe9, 0xff))).toBe('\u0080éÿ');
  });
});

describe('decodeText: UTF-8', () => {
  it('decodes multi-byte characters split at every byte', async () => {
    const s = 'aé€😀z, 💀 💩';
    await expectEverySplit(Buffer.from(s, 'utf8'), 'utf-8', s);
  });

  it('a 4-byte emoji split at every boundary, alone and inside text', async () => {
    await expectEverySplit(Buffer.from('😀', 'utf8'), 'utf-8', '😀');
    await expectEverySplit(Buffer.from('x😀y', 'utf8'), 'utf-8', 'x😀y');
  });

  it('escapes the invalid byte of file\\x96name as U+DC96', async () => {
    const b = Buffer.concat([Buffer.from('file'), Buffer.of(0x96), Buffer.from('name.txt')]);
    await expectEverySplit(b, 'utf-8', 'file\udc96name.txt');
    expect(bytesOf(fieldValue(await decode('utf-8', b)))).toEqual(b);
  });

  it('escapes a multi-byte sequence truncated by the end of the stream', async () => {
    const b = Buffer.concat([Buffer.from('ab'), Buffer.from('€', 'utf8').subarray(0, 2)]);
    await expectEverySplit(b, 'utf-8', 'ab\udce2\udc82');
    expect(bytesOf(fieldValue(await decode('utf-8', b)))).toEqual(b);
  });

  it('escapes a truncated sequence followed by text', async () => {
    const b = Buffer.of(0x61, 0xf0, 0x9f, 0x98, 0x41, 0x80);
    await expectEverySplit(b, 'utf-8', 'a\udcf0\udc9f\udc98A\udc80');
  });

  it('escapes overlong C0 AF, surrogates ED A0 80 and bytes F5-FF', async () => {
    const overlong = Buffer.of(0x2f, 0xc0, 0xaf, 0x2f);
    await expectEverySplit(overlong, 'utf-8', '/\udcc0\udcaf/');
    expect(bytesOf(fieldValue(await decode('utf-8', overlong)))).toEqual(overlong);
    await expectEverySplit(Buffer.of(0xed, 0xa0, 0x80), 'utf-8', '\udced\udca0\udc80');
    await expectEverySplit(Buffer.of(0xe0, 0x80, 0x80), 'utf-8', '\udce0\udc80\udc80');
    await expectEverySplit(Buffer.of(0xf4, 0x90, 0x80, 0x80), 'utf-8', '\udcf4\udc90\udc80\udc80');
    await expectEverySplit(Buffer.of(0xf5, 0xff, 0x41), 'utf-8', '\udcf5\udcffA');
  });

  it('keeps a genuine U+FFFD (EF BF BD) a plain string', async () => {
    const b = Buffer.concat([Buffer.from('37\ufffd36', 'utf8'), Buffer.of(0xff), Buffer.from('\ufffd')]);
    await expectEverySplit(b, 'utf-8', '37\ufffd36\udcff\ufffd');
    expect(fieldValue('37\ufffd36')).toBe('37\ufffd36');
    expect(bytesOf(fieldValue(await decode('utf-8', b)))).toEqual(b);
  });

  it('round-trips all 256 bytes through escapes', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const s = await decode('utf-8', all);
    expect(bytesOf(fieldValue(s))).toEqual(all);
    expect(s.slice(0, 128)).toBe(all.subarray(0, 128).toString('latin1'));
  });
});

describe('fieldValue', () => {
  it('returns text without escapes unchanged', () => {
    expect(fieldValue('')).toBe('');
    expect(fieldValue('plain é € ✓')).toBe('plain é € ✓');
  });

  it('does not take the low half of a surrogate pair for an escape (U+1F480 is D83D DC80)', () => {
    expect('💀'.charCodeAt(1)).toBe(0xdc80);
    expect('💩'.charCodeAt(1)).toBe(0xdca9);
    expect(fieldValue('💀💩')).toBe('💀💩');
  });

  it('gives the exact bytes of text mixed with escapes and emoji', () => {
    const want = Buffer.concat([Buffer.from('💀'), Buffer.of(0x96), Buffer.from('é💩'), Buffer.of(0xc0, 0xaf)]);
    expect(bytesOf(fieldValue('💀\udc96é💩\udcc0\udcaf'))).toEqual(want);
  });
});

describe('csvRecords on csv-spectrum (bytes -> decodeText -> csvRecords)', () => {
  const names = readdirSync(`${SPECTRUM}csvs`)
    .filter((f) => f.endsWith('.csv'))
    .map((f) => f.slice(0, -4))
    .sort();

  it('has the 12 cases', () => {
    expect(names).toHaveLength(12);
  });

  const toObjects = (rs: { fields: CsvField[] }[]): Record<string, string>[] => {
    const [head, ...rest] = texts(rs);
    return rest.map((r) => Object.fromEntries(head.map((k, i) => [k, r[i]])));
  };

  it.each(names)('%s', async (name) => {
    const bytes = readFileSync(`${SPECTRUM}csvs/${name}.csv`);
    const expected = JSON.parse(readFileSync(`${SPECTRUM}json/${name}.json`, 'utf8'));
    const parse = async (...pieces: Buffer[]) => (await collect(csvRecords(decodeText(chunks(...pieces)), RFC))).flat();
    const got = await parse(bytes);
    for (const pieces of splits(bytes)) expect(await parse(...pieces)).toEqual(got);
    const objects = toObjects(got);
    if (name === 'location_coordinates') {
      // Upstream's JSON is a single object, not an array, and its phone number is not the CSV's.
      // The file holds genuine EF BF BD sequences: they stay U+FFFD, not escapes.
      expect(objects).toEqual([{ ...expected, 'Contact Phone Number': '2095257564' }]);
      expect(fieldValue(objects[0]['Location Coordinates'])).toBe('37\ufffd36\'37.8"N 121\ufffd2\'17.9"W');
      return;
    }
    expect(objects).toEqual(expected);
  });

  it('reports the line each record starts on (quoted line breaks counted)', async () => {
    const bytes = readFileSync(`${SPECTRUM}csvs/quotes_and_newlines.csv`);
    const got = (await collect(csvRecords(decodeText(chunks(bytes)), RFC))).flat();
    expect(got.map((r) => r.line)).toEqual([1, 2, 5]);
    const crlf = readFileSync(`${SPECTRUM}csvs/newlines_crlf.csv`);
    const got2 = (await collect(csvRecords(decodeText(chunks(crlf)), RFC))).flat();
    expect(got2.map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });
});

describe('csvRecords', () => {
  it('yields batches per chunk with start lines', async () => {
    const batches = await collect(csvRecords(strings('a,b\nc,', 'd\ne,f\n', 'g'), RFC));
    expect(batches.map((b) => b.map((r) => r.line))).toEqual([[1], [2, 3], [4]]);
  });

  it('throws naming the line of an unterminated quoted field', async () => {
    await expect(records(RFC, 'a,b\n', 'c,"d\ne')).rejects.toThrow(/unterminated quoted field starting on line 2/);
    await expect(records(BACKSLASH, 'a\n"b\\')).rejects.toThrow(/starting on line 2/);
  });
});

describe('CsvParser escape option', () => {
  const cases: [string, string, string[][]][] = [
    ['escaped quote', '"a\\"b",c\n', [['a"b', 'c']]],
    ['escaped escape', '"a\\\\b"\n', [['a\\b']]],
    ['escape before other char kept', '"a\\nb\\x"\n', [['a\\nb\\x']]],
    ['escape before a line break kept', '"a\\\nb"\n', [['a\\\nb']]],
    ['doubled quote still a quote', '"a""b"\n', [['a"b']]],
    ['escaped escape before closing quote', '"EN\\\\",x\n', [['EN\\', 'x']]],
    ['escaped quote at the end', '"say \\"hi\\""\n', [['say "hi"']]],
    ['escape outside quotes is literal', 'a\\"b,\\N,\\\\\n', [['a\\"b', '\\N', '\\\\']]],
    ['escape then escaped quote', '"\\\\\\""\n', [['\\"']]],
  ];

  it.each(cases)('%s', async (_name, csv, want) => {
    for (let i = 0; i <= csv.length; i++) {
      expect(texts(await records(BACKSLASH, csv.slice(0, i), csv.slice(i)))).toEqual(want);
    }
    expect(texts(await records(BACKSLASH, ...csv))).toEqual(want);
  });

  it('default (escape = quote) keeps RFC 4180 behaviour: backslash is literal', async () => {
    expect(texts(await records(RFC, '"a\\""b"\n'))).toEqual([['a\\"b']]);
    expect(texts(await records({ ...RFC, escape: '"' }, '"a\\""b"\n'))).toEqual([['a\\"b']]);
  });

  it('rejects an escape that is not one character', () => {
    expect(() => new CsvParser({ ...RFC, escape: '\\\\' })).toThrow(/one character/);
  });

  it('marks quoted fields and exposes start lines on push()/end() via lines', () => {
    const p = new CsvParser(BACKSLASH);
    expect(p.push('"x\\"\n",y\nz')).toEqual([
      [
        { text: 'x"\n', quoted: true },
        { text: 'y', quoted: false },
      ],
    ]);
    expect(p.lines).toEqual([1]);
    expect(p.end()).toEqual([[{ text: 'z', quoted: false }]]);
    expect(p.lines).toEqual([3]);
  });

  it('pgloader csv-escape-mode: backslash before the closing quote (EN\\\\")', async () => {
    const csv = readFileSync(`${PGLOADER}inline/csv-escape-mode.data`, 'utf8');
    const got = await records(BACKSLASH, csv);
    expect(got).toHaveLength(5);
    expect(got.every((r) => r.fields.length === 85)).toBe(true);
    expect(got.map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
    // expected/csv-escape-mode.out (COPY text, `\\` is one backslash): id and doctype (column 72).
    const expected = readFileSync(`${PGLOADER}expected/csv-escape-mode.out`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t').map((v) => v.replace(/\\\\/g, '\\')));
    expect(got.map((r) => [r.fields[0].text, r.fields[71].text])).toEqual(expected);
    expect(got[2].fields[71].text).toBe('HTML -//W3C//DTD HTML 4.01 Frameset//EN\\');
    expect(got[0].fields[14]).toEqual({ text: '\\N', quoted: false });
    for (let i = 0; i <= csv.length; i += 7) {
      expect(await records(BACKSLASH, csv.slice(0, i), csv.slice(i))).toEqual(got);
    }
  });

  it.each(['csv-nulls', 'csv-null-if'])('pgloader %s: unquoted \\N with a backslash escape', async (name) => {
    const csv = readFileSync(`${PGLOADER}inline/${name}.data`, 'utf8');
    const got = await records(BACKSLASH, csv);
    expect(got).toEqual([
      {
        line: 1,
        fields: [
          { text: '1', quoted: true },
          { text: '\\N', quoted: false },
          { text: 'testing nulls', quoted: true },
        ],
      },
      {
        line: 2,
        fields: [
          { text: '2', quoted: true },
          { text: '2', quoted: true },
          { text: 'another test', quoted: true },
        ],
      },
    ]);
  });
});

describe('jsonLines', () => {
  const lines = async (...pieces: string[]) => (await collect(jsonLines(strings(...pieces)))).flat();

  it('yields non-blank lines with 1-based numbers, blank lines counted', async () => {
    expect(await lines('{"a":1}\n\n{"a":2}\r\n  \n{"a":3}')).toEqual([
      { text: '{"a":1}', line: 1 },
      { text: '{"a":2}', line: 3 },
      { text: '{"a":3}', line: 5 },
    ]);
  });

  it('gives the same lines whatever the chunking', async () => {
    const s = '{"a":1}\r\n\n{"b":"x\\ny"}\n{"c":3}\r\n';
    const want = await lines(s);
    expect(want.map((l) => l.line)).toEqual([1, 3, 4]);
    for (let i = 0; i <= s.length; i++) {
      for (let j = i; j <= s.length; j++) expect(await lines(s.slice(0, i), s.slice(i, j), s.slice(j))).toEqual(want);
    }
  });

  it('handles empty input and a lone blank line', async () => {
    expect(await lines()).toEqual([]);
    expect(await lines('\r\n')).toEqual([]);
  });
});
