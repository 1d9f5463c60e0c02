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

/**
 * A streaming CSV parser: feed it text, take whole records. Keeps only the unfinished record
 * between pushes, so memory follows the longest record, not the file.
 */
export class CsvParser {
  private record: CsvField[] = [];
  private field = '';
  private quoted = false;
  /** 0: at field start; 1: in an unquoted field; 2: in a quoted field; 3: just after a quote inside quotes. */
  private state = 0;
  private pendingCr = false;
  /** Line number (1-based) where the current record started, for error messages. */
  line = 1;
  recordLine = 1;

  constructor(private readonly o: Pick<CsvOptions, 'delimiter' | 'quote'>) {}

  /** Parses `text`; returns the records it completed. */
  push(text: string): CsvField[][] {
    const out: CsvField[][] = [];
    const { delimiter: d, quote: q } = this.o;
    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text[i];
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === '\n') {
          i++;
          continue;
        }
      }
      switch (this.state) {
        case 2: {
          // Inside quotes: take everything up to the next quote in one slice.
          const j = text.indexOf(q, i);
          const end = j < 0 ? n : j;
          const chunk = text.slice(i, end);
          this.field += chunk;
          for (let k = 0; k < chunk.length; k++) if (chunk.charCodeAt(k) === 10) this.line++;
          i = end;
          if (j >= 0) {
            this.state = 3;
            i++;
          }
          continue;
        }
        case 3:
          if (c === q) {
            this.field += q;
            this.state = 2;
            i++;
            continue;
          }
          this.state = 1; // text after a closing quote joins the field (lenient, as PostgreSQL)
          break;
        case 0:
          if (c === q) {
            this.quoted = true;
            this.state = 2;
            i++;
            continue;
          }
          this.state = 1;
          break;
      }
      // state 1: an unquoted field (or the rest after a closing quote).
      if (c === d) {
        this.endField();
        i++;
      } else if (c === '\n' || c === '\r') {
        this.endField();
        out.push(this.record);
        this.record = [];
        this.line++;
        this.recordLine = this.line;
        if (c === '\r') this.pendingCr = true;
        i++;
      } else {
        let j = i + 1;
        while (j < n) {
          const x = text[j];
          if (x === d || x === '\n' || x === '\r') break;
          j++;
        }
        this.field += text.slice(i, j);
        i = j;
      }
    }
    return out;
  }

  private endField(): void {
    this.record.push({ text: this.field, quoted: this.quoted });
    this.field = '';
    this.quoted = false;
    this.state = 0;
  }

  /** At end of input: the last record if the text did not end with a line break. */
  end(): CsvField[][] {
    if (this.state === 2) throw new Error(`unterminated quoted field starting on line ${this.recordLine}`);
    if (this.state === 0 && this.record.length === 0 && this.field === '') return [];
    this.endField();
    const r = this.record;
    this.record = [];
    return [r];
  }
}
