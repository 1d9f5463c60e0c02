/**
 * The text layer of a files source: bytes someone else wrote -> strings -> CSV records or JSON lines.
 *
 * Written by hand because Node's decoders lose information we must keep:
 * - invalid UTF-8 becomes U+FFFD, so a bad byte could no longer be reported or passed on as it was.
 *   Here each byte of an invalid sequence becomes the lone surrogate U+DC80+byte (Python's
 *   "surrogateescape"; valid UTF-8 never decodes to a lone surrogate), and `fieldValue` turns a
 *   field holding one back into its original bytes (`InvalidText`, for the `invalid_utf8` policy);
 * - Node 20's TextDecoder('windows-1252') is plain Latin-1 (0x80 -> U+0080, not the euro sign);
 * - StringDecoder drops a dangling odd byte of UTF-16 without a word.
 * Valid UTF-8 still goes through `buf.toString('utf8')`; only a chunk whose decoding holds U+FFFD
 * is decoded again byte by byte, to tell a genuine EF BF BD from a replaced invalid sequence.
 * Memory is bounded by the input chunk: at most 3 bytes of an unfinished character are carried over.
 */
import { StringDecoder } from 'node:string_decoder';
import { decodeCp1252, InvalidText } from '../../core/policies.js';
import { type CsvField, CsvParser } from './files-csv.js';

export const TEXT_ENCODINGS = ['utf-8', 'utf-16', 'utf-16le', 'utf-16be', 'cp1252', 'latin1'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];

/** Decodes a stream chunk by chunk, carrying an unfinished character from one chunk to the next. */
interface ChunkDecoder {
  write(bytes: Buffer): string;
  /** The end of input: whatever was carried over, decoded. */
  end(): string;
}

const EMPTY = Buffer.alloc(0);

/**
 * Decodes `bytes` as `encoding`, one string per non-empty decoded chunk. Byte order marks: a
 * leading UTF-8 BOM is dropped; a leading UTF-16 BOM (FF FE, FE FF) is dropped and chooses
 * UTF-16LE/BE, also when the encoding says 'utf-8' (those bytes are never valid UTF-8). 'utf-16'
 * without a BOM is little endian. 'cp1252' and 'latin1' take every byte as a character, BOM or not.
 */
export async function* decodeText(
  bytes: AsyncIterable<Buffer>,
  encoding: TextEncoding = 'utf-8',
): AsyncIterable<string> {
  let decoder: ChunkDecoder | undefined;
  let head: Buffer = EMPTY;
  for await (const chunk of bytes) {
    let b = chunk;
    if (decoder === undefined) {
      // Wait for 3 bytes (the longest BOM) before choosing the decoder.
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < 3) continue;
      const opened = openDecoder(encoding, head);
      decoder = opened.decoder;
      b = head.subarray(opened.bomLength);
      head = EMPTY;
    }
    const s = decoder.write(b);
    if (s !== '') yield s;
  }
  if (decoder === undefined) {
    const opened = openDecoder(encoding, head);
    decoder = opened.decoder;
    const s = decoder.write(head.subarray(opened.bomLength));
    if (s !== '') yield s;
  }
  const s = decoder.end();
  if (s !== '') yield s;
}

/** Chooses the decoder from the declared encoding and the first bytes (a byte order mark wins). */
function openDecoder(encoding: TextEncoding, head: Buffer): { decoder: ChunkDecoder; bomLength: number } {
  if (encoding === 'latin1') return { decoder: stateless((b) => b.toString('latin1')), bomLength: 0 };
  if (encoding === 'cp1252') return { decoder: stateless(cp1252), bomLength: 0 };
  if (head[0] === 0xff && head[1] === 0xfe) return { decoder: utf16Decoder(false), bomLength: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { decoder: utf16Decoder(true), bomLength: 2 };
  if (encoding === 'utf-8') {
    const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    return { decoder: utf8Decoder(), bomLength: bom ? 3 : 0 };
  }
  return { decoder: utf16Decoder(encoding === 'utf-16be'), bomLength: 0 };
}

function stateless(decode: (b: Buffer) => string): ChunkDecoder {
  return { write: decode, end: () => '' };
}

// ---------------------------------------------------------------------------------------------
// Windows-1252
// ---------------------------------------------------------------------------------------------

/** The 32 characters of bytes 0x80-0x9F, taken from core's table so there is one. */
const CP1252_C1 = decodeCp1252(Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + i)));
const C1_ANY = /[\x80-\x9f]/;
const C1_ALL = /[\x80-\x9f]/g;

/** Latin-1 (fast, native), then the few C1 positions replaced, if there are any. */
function cp1252(b: Buffer): string {
  const s = b.toString('latin1');
  return C1_ANY.test(s) ? s.replace(C1_ALL, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]) : s;
}

// ---------------------------------------------------------------------------------------------
// UTF-16
// ---------------------------------------------------------------------------------------------

/**
 * UTF-16 through Node's StringDecoder (which keeps a surrogate pair split across chunks together),
 * fed whole code units only: an odd byte is carried here, and decodes to U+FFFD if the input ends
 * on it. Big endian is byte-swapped (in a copy) to little endian first.
 */
function utf16Decoder(bigEndian: boolean): ChunkDecoder {
  const text = new StringDecoder('utf16le');
  let odd: number | undefined;
  return {
    write(bytes: Buffer): string {
      let b = bytes;
      if (odd !== undefined) b = Buffer.concat([Buffer.of(odd), b]);
      odd = b.length % 2 === 1 ? b[b.length - 1] : undefined;
      const even = odd === undefined ? b : b.subarray(0, b.length - 1);
      return text.write(bigEndian ? Buffer.from(even).swap16() : even);
    },
    end(): string {
      const rest = text.end();
      return odd === undefined ? rest : `${rest}\ufffd`;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// UTF-8 with surrogate escapes
// ---------------------------------------------------------------------------------------------

/**
 * Each chunk is cut after its last complete character; the unfinished tail (at most 3 bytes) is
 * put in front of the next chunk. A tail that cannot become valid is carried too: decoded with
 * what follows, it still comes out as escapes.
 */
function utf8Decoder(): ChunkDecoder {
  let carry: Buffer = EMPTY;
  return {
    write(bytes: Buffer): string {
      const b = carry.length === 0 ? bytes : Buffer.concat([carry, bytes]);
      const cut = completeLength(b);
      carry = cut === b.length ? EMPTY : Buffer.from(b.subarray(cut));
      return decodeUtf8(b, 0, cut);
    },
    end(): string {
      const s = decodeUtf8(carry, 0, carry.length);
      carry = EMPTY;
      return s;
    },
  };
}

/** Bytes of a sequence that starts with lead byte `b` (0: not a lead byte, or never valid). */
function sequenceLength(b: number): number {
  if (b < 0x80) return 1;
  if (b < 0xc2) return 0;
  if (b < 0xe0) return 2;
  if (b < 0xf0) return 3;
  return b < 0xf5 ? 4 : 0;
}

/** The length of `b` without a multi-byte sequence that starts in its last 3 bytes and is cut short. */
function completeLength(b: Buffer): number {
  const n = b.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const c = b[i];
    if ((c & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    return sequenceLength(c) > n - i ? i : n;
  }
  return n;
}

/** `b[start, end)` as UTF-8: natively, and byte by byte only if U+FFFD came out. */
function decodeUtf8(b: Buffer, start: number, end: number): string {
  if (start === end) return '';
  const s = b.toString('utf8', start, end);
  return s.includes('\ufffd') ? decodeUtf8Escaping(b, start, end) : s;
}

/** Valid runs are decoded natively (a slice at a time); each byte of an invalid sequence is escaped. */
function decodeUtf8Escaping(b: Buffer, start: number, end: number): string {
  const parts: string[] = [];
  let run = start;
  let i = start;
  while (i < end) {
    const n = validSequence(b, i, end);
    if (n > 0) {
      i += n;
      continue;
    }
    if (run < i) parts.push(b.toString('utf8', run, i));
    parts.push(String.fromCharCode(0xdc00 + b[i]));
    i++;
    run = i;
  }
  if (run < end) parts.push(b.toString('utf8', run, end));
  return parts.join('');
}

/** The length of the valid UTF-8 sequence at `b[i]`, or 0 (Unicode 15, table 3-7: no overlongs, no surrogates). */
function validSequence(b: Buffer, i: number, end: number): number {
  const c = b[i];
  const n = sequenceLength(c);
  if (n <= 1 || i + n > end) return n === 1 ? 1 : 0;
  const c1 = b[i + 1];
  const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
  const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
  if (c1 < lo || c1 > hi) return 0;
  for (let k = 2; k < n; k++) if ((b[i + k] & 0xc0) !== 0x80) return 0;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

/** A lone U+DC80-U+DCFF: one not preceded by a high surrogate (which would make it half of a pair). */
const ESCAPED_BYTE = /(?<![\ud800-\udbff])[\udc80-\udcff]/;

/**
 * A decoded field as a value: the text itself, or, if it holds escaped bytes (invalid UTF-8 in
 * the file), an `InvalidText` of the field's original bytes.
 */
export function fieldValue(text: string): string | InvalidText {
  return ESCAPED_BYTE.test(text) ? new InvalidText(originalBytes(text)) : text;
}

/** UTF-8 of the ordinary characters, the raw byte for each escape. */
function originalBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++; // a surrogate pair: an ordinary character
      continue;
    }
    if (c < 0xdc80 || c > 0xdcff) continue;
    if (run < i) parts.push(Buffer.from(text.slice(run, i), 'utf8'));
    parts.push(Buffer.of(c - 0xdc00));
    run = i + 1;
  }
  if (run < text.length) parts.push(Buffer.from(text.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/**
 * CSV records in batches (one per text chunk that completes any), each with the line it started
 * on. Throws, naming the line, if the input ends inside a quoted field.
 */
export async function* csvRecords(
  text: AsyncIterable<string>,
  o: { delimiter: string; quote: string; escape?: string },
): AsyncIterable<{ fields: CsvField[]; line: number }[]> {
  const parser = new CsvParser(o);
  for await (const s of text) {
    const batch = parser.pushRecords(s);
    if (batch.length > 0) yield batch;
  }
  const last = parser.endRecords();
  if (last.length > 0) yield last;
}

/** Blank, or only spaces and tabs: skipped, as JSON Lines readers do. */
const BLANK = /^[ \t]*$/;

/**
 * The non-blank lines of JSON Lines text in batches, each with its 1-based line number (blank
 * lines counted). A line may end with `\n` or `\r\n`; the last one may have no line break.
 */
export async function* jsonLines(text: AsyncIterable<string>): AsyncIterable<{ text: string; line: number }[]> {
  let rest = '';
  let line = 1;
  const take = (s: string, batch: { text: string; line: number }[]): void => {
    const t = s.endsWith('\r') ? s.slice(0, -1) : s;
    if (!BLANK.test(t)) batch.push({ text: t, line });
    line++;
  };
  for await (const s of text) {
    let nl = s.indexOf('\n');
    if (nl < 0) {
      rest += s;
      continue;
    }
    const batch: { text: string; line: number }[] = [];
    take(rest + s.slice(0, nl), batch);
    for (let from = nl + 1; ; from = nl + 1) {
      nl = s.indexOf('\n', from);
      if (nl < 0) {
        rest = s.slice(from);
        break;
      }
      take(s.slice(from, nl), batch);
    }
    if (batch.length > 0) yield batch;
  }
  const batch: { text: string; line: number }[] = [];
  if (rest !== '') take(rest, batch);
  if (batch.length > 0) yield batch;
}
