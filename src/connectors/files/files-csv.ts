/**
 * CSV as RFC 4180 describes it (records end with `\n`; a `\r\n` is read as well): a field holding
 * the delimiter, the quote, a line break or leading/trailing white space is quoted, quotes doubled.
 * NULL is the unquoted null marker (default: nothing); a quoted field is never NULL, so `""` is
 * the empty string. Written by hand: the encoder is a few lines on the hot path, and the parser
 * must report whether a field was quoted, which the CSV libraries on npm do not.
 */
import type { CsvOptions } from '../../core/file-layout.js';

export class CsvEncoder {
  private readonly special: RegExp;
  private readonly quoteAll: RegExp;

  constructor(private readonly o: CsvOptions) {
    const esc = (c: string) => c.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&');
    this.special = new RegExp(`[${esc(o.delimiter)}${esc(o.quote)}\\r\\n]|^\\s|\\s$`);
    this.quoteAll = new RegExp(esc(o.quote), 'g');
  }

  field(s: string | null): string {
    if (s === null) return this.o.null;
    if (s === '' || s === this.o.null || this.special.test(s)) {
      return this.o.quote + s.replace(this.quoteAll, this.o.quote + this.o.quote) + this.o.quote;
    }
    return s;
  }

  line(fields: readonly (string | null)[]): string {
    let out = '';
    for (let i = 0; i < fields.length; i++) {
      if (i > 0) out += this.o.delimiter;
      out += this.field(fields[i]);
    }
    return `${out}\n`;
  }
}

export interface CsvField {
  text: string;
  quoted: boolean;
}

/** A parsed record and the 1-based line it started on (a quoted field may hold line breaks). */
export interface CsvRecord {
  fields: CsvField[];
  line: number;
}

/** Parser options: the layout's delimiter and quote, plus the escape character of the input. */
export interface CsvParserOptions extends Pick<CsvOptions, 'delimiter' | 'quote'> {
  /**
   * The character that escapes a quote inside a quoted field. Default: the quote itself (RFC 4180
   * `""`). Another character (`\`) works as PostgreSQL's CSV `ESCAPE`: inside quotes, escape+quote
   * is a quote, escape+escape is an escape, escape+anything else keeps both; `""` still means `"`;
   * outside quotes the escape is an ordinary character.
   */
  escape?: string;
}

// Parser states.
/** At a field start. */
const FIELD_START = 0;
/** In an unquoted field (or the rest of a field after its closing quote). */
const UNQUOTED = 1;
/** In a quoted field. */
const QUOTED = 2;
/** Just after a quote inside quotes: a second quote is a literal, anything else closes the quotes. */
const QUOTE_IN_QUOTES = 3;
/** Just after an escape (distinct from the quote) inside quotes. */
const ESCAPE_IN_QUOTES = 4;

/**
 * A streaming CSV parser: feed it text, take whole records. Keeps only the unfinished record
 * between pushes, so memory follows the longest record, not the file.
 */
export class CsvParser {
  private record: CsvField[] = [];
  private field = '';
  private quoted = false;
  private state: number = FIELD_START;
  private pendingCr = false;
  /** The escape character when it differs from the quote, else `undefined` (quotes are doubled). */
  private readonly escape: string | undefined;
  /** Records completed by the current push, and the lines they started on. */
  private done: CsvField[][] = [];
  private doneLines: number[] = [];
  /** Line number (1-based) the parser is on. */
  line = 1;
  /** Line number (1-based) where the current (unfinished) record started, for error messages. */
  recordLine = 1;
  /** The start lines of the records returned by the last `push()` or `end()`, in the same order. */
  lines: number[] = [];

  constructor(private readonly o: CsvParserOptions) {
    if (o.escape !== undefined && o.escape.length !== 1)
      throw new Error(`CSV escape must be one character: ${o.escape}`);
    this.escape = o.escape === undefined || o.escape === o.quote ? undefined : o.escape;
  }

  /** Parses `text`; returns the records it completed (their start lines are in `lines`). */
  push(text: string): CsvField[][] {
    if (this.escape === undefined) this.parse(text);
    else this.parseEscaped(text, this.escape);
    return this.take();
  }

  /** `push()`, each record with the line it started on. */
  pushRecords(text: string): CsvRecord[] {
    return withLines(this.push(text), this.lines);
  }

  /** `end()`, each record with the line it started on. */
  endRecords(): CsvRecord[] {
    return withLines(this.end(), this.lines);
  }

  /** At end of input: the last record if the text did not end with a line break. */
  end(): CsvField[][] {
    if (this.state === QUOTED || this.state === ESCAPE_IN_QUOTES) {
      throw new Error(`unterminated quoted field starting on line ${this.recordLine}`);
    }
    if (this.state === FIELD_START && this.record.length === 0 && this.field === '') return this.take();
    this.endField();
    this.endRecord();
    return this.take();
  }

  /** RFC 4180 quoting: inside quotes, take everything up to the next quote in one slice. */
  private parse(text: string): void {
    const q = this.o.quote;
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.pendingCr && this.skipLf(text, i)) {
        i++;
        continue;
      }
      if (this.state === QUOTED) {
        const j = text.indexOf(q, i);
        i = this.takeQuoted(text, i, j < 0 ? n : j);
        if (j >= 0) {
          this.state = QUOTE_IN_QUOTES;
          i++;
        }
        continue;
      }
      i = this.step(text, i);
    }
  }

  /**
   * Quoting with an escape distinct from the quote. The next quote and escape positions are
   * remembered, so a text with many of one and none of the other is still scanned once.
   */
  private parseEscaped(text: string, e: string): void {
    const q = this.o.quote;
    const n = text.length;
    let nextQ = -2;
    let nextE = -2;
    let i = 0;
    while (i < n) {
      if (this.pendingCr && this.skipLf(text, i)) {
        i++;
        continue;
      }
      if (this.state === QUOTED) {
        if (nextQ !== -1 && nextQ < i) nextQ = text.indexOf(q, i);
        if (nextE !== -1 && nextE < i) nextE = text.indexOf(e, i);
        const j = nextQ < 0 ? nextE : nextE < 0 ? nextQ : Math.min(nextQ, nextE);
        i = this.takeQuoted(text, i, j < 0 ? n : j);
        if (j >= 0) {
          this.state = j === nextQ ? QUOTE_IN_QUOTES : ESCAPE_IN_QUOTES;
          i++;
        }
        continue;
      }
      if (this.state === ESCAPE_IN_QUOTES) {
        const c = text[i];
        this.state = QUOTED;
        if (c === q || c === e) {
          this.field += c;
          i++;
        } else {
          this.field += e; // not an escape sequence: keep the escape, read `c` as usual
        }
        continue;
      }
      i = this.step(text, i);
    }
  }

  /** After a `\r` ended a record: true if `text[i]` is the `\n` of a `\r\n` (to be skipped). */
  private skipLf(text: string, i: number): boolean {
    this.pendingCr = false;
    return text.charCodeAt(i) === 10;
  }

  /** Appends `text[i, end)` (inside quotes) to the field, counting its line breaks; returns `end`. */
  private takeQuoted(text: string, i: number, end: number): number {
    const chunk = text.slice(i, end);
    this.field += chunk;
    for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) this.line++;
    return end;
  }

  /** One step outside quoted text (FIELD_START, UNQUOTED, QUOTE_IN_QUOTES); returns the next index. */
  private step(text: string, i: number): number {
    const { delimiter: d, quote: q } = this.o;
    const c = text[i];
    if (this.state === QUOTE_IN_QUOTES) {
      if (c === q) {
        this.field += q;
        this.state = QUOTED;
        return i + 1;
      }
      this.state = UNQUOTED; // text after a closing quote joins the field (lenient, as PostgreSQL)
    } else if (this.state === FIELD_START) {
      if (c === q) {
        this.quoted = true;
        this.state = QUOTED;
        return i + 1;
      }
      this.state = UNQUOTED;
    }
    if (c === d) {
      this.endField();
      return i + 1;
    }
    if (c === '\n' || c === '\r') {
      this.endField();
      this.endRecord();
      if (c === '\r') this.pendingCr = true;
      return i + 1;
    }
    let j = i + 1;
    while (j < text.length) {
      const x = text[j];
      if (x === d || x === '\n' || x === '\r') break;
      j++;
    }
    this.field += text.slice(i, j);
    return j;
  }

  private endField(): void {
    this.record.push({ text: this.field, quoted: this.quoted });
    this.field = '';
    this.quoted = false;
    this.state = FIELD_START;
  }

  private endRecord(): void {
    this.done.push(this.record);
    this.doneLines.push(this.recordLine);
    this.record = [];
    this.line++;
    this.recordLine = this.line;
  }

  /** Hands over the records completed so far (and their lines in `lines`). */
  private take(): CsvField[][] {
    const out = this.done;
    this.lines = this.doneLines;
    this.done = [];
    this.doneLines = [];
    return out;
  }
}

function withLines(records: CsvField[][], lines: readonly number[]): CsvRecord[] {
  return records.map((fields, i) => ({ fields, line: lines[i] }));
}
