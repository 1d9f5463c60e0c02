import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import type { ColumnInfo, Reader, ReadRequest, RowBatch } from '../../core/connector.js';
import { RawUnfit } from '../../core/errors.js';
import type { LogicalType } from '../../core/logical-types.js';
import {
  BinaryOut,
  binaryFieldFor,
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
  putNull,
} from '../../core/pg-copy-binary.js';
import { decimalFits } from '../../core/text-values.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlSession } from './mysql-session.js';
import { quoteIdent, quoteTable, rangeWhere } from './mysql-sql.js';
import { decoderFor, latin1DecoderFor } from './mysql-values.js';

const DEFAULT_BATCH_ROWS = 10_000;
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;
/** Decoded batches held before the socket is paused. */
const READY_BATCHES = 1;

function selectSql(req: ReadRequest) {
  const cols = req.columns
    .map((c) => (c.logical.kind === 'float32' ? `CAST(${quoteIdent(c.name)} AS DOUBLE)` : quoteIdent(c.name)))
    .join(', ');
  const w = rangeWhere(req.key, req.range);
  return { sql: `SELECT ${cols} FROM ${quoteTable(req.table)}${w.sql}`, w };
}

/** Kinds whose text in MySQL's protocol never holds a tab, newline, backslash or NUL. */
const PLAIN_KINDS = new Set<LogicalType['kind']>([
  'int16',
  'int32',
  'int64',
  'uint64',
  'float32',
  'float64',
  'decimal',
  'date',
  'time',
  'timestamp',
  'timestamptz',
]);
/** A piece of LOAD DATA text is handed on once it holds this much. */
const RAW_PIECE_BYTES = 256 * 1024;
const BACKSLASH = 0x5c;
/**
 * Bytes LOAD DATA (ESCAPED BY '\\') must see escaped: the letter after the backslash, by byte value,
 * 0 for a byte that goes as it is. A table, not a Map: this is looked up for every byte of text.
 */
const ESCAPES = new Uint8Array(256);
for (const [byte, letter] of [
  [0x5c, 0x5c],
  [0x09, 0x74],
  [0x0a, 0x6e],
  [0x0d, 0x72],
  [0x00, 0x30],
  [0x1a, 0x5a],
]) {
  ESCAPES[byte] = letter;
}

/** The driver's view of one field while it parses a row (the argument of its typeCast hook). */
interface RawField {
  /** The server's column type, e.g. `LONG`. */
  type: string;
  string(encoding: string): string | null;
  buffer(): Buffer | null;
}

/** Integer column types whose text the driver parses straight from the bytes, exactly (up to 2^53). */
const DRIVER_INTEGERS = new Set(['TINY', 'SHORT', 'INT24', 'LONG', 'YEAR']);

/**
 * Reads a chunk with one keyset-bounded SELECT streamed from the server (the driver pauses the
 * socket when we stop pulling), on its own pooled connection. FLOAT columns are selected as
 * DOUBLE: MySQL prints a float with 6 significant digits, which is not the stored value.
 */
export class MysqlReader implements Reader {
  constructor(private readonly session: MysqlSession) {}

  async *read(req: ReadRequest): AsyncIterable<RowBatch> {
    const batchRows = req.batchRows ?? DEFAULT_BATCH_ROWS;
    const batchBytes = req.batchBytes ?? DEFAULT_BATCH_BYTES;
    const { sql, w } = selectSql(req);
    const conn = await this.session.connect();
    const decoders = req.columns.map((c) => decoderFor(c.logical));
    const latin1 = req.columns.map((c) => latin1DecoderFor(c.logical));
    const small = req.columns.map((c) => c.logical.kind === 'int16' || c.logical.kind === 'int32');
    let done = false;
    // Rows are decoded while the driver parses them (its typeCast hook, called for the fields of a
    // row in order) and handed over a batch at a time: no stream push, promise or microtask per
    // row, and no Buffer per field for numbers and dates (they are read as latin1 text). The socket
    // is paused while READY_BATCHES full batches wait for the consumer, so memory stays bounded.
    const ready: RowBatch[] = [];
    let rows: unknown[][] = [];
    let bytes = 0;
    let col = 0;
    let ended = false;
    let failed: unknown;
    let paused = false;
    let wake: (() => void) | undefined;
    const signal = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    const typeCast = (field: RawField, next: () => unknown): unknown => {
      const i = col++;
      if (small[i] && DRIVER_INTEGERS.has(field.type)) {
        // The same number as Number(text), without making the text.
        bytes += 4;
        return next();
      }
      const fromText = latin1[i];
      if (fromText !== null) {
        const s = field.string('latin1');
        if (s !== null) bytes += s.length;
        return fromText(s);
      }
      const b = field.buffer();
      if (b !== null) bytes += b.length;
      return decoders[i](b);
    };
    // A decoding error thrown in typeCast makes the driver end the query with that error.
    const query = conn.query({ sql, values: w.values, rowsAsArray: true, typeCast: typeCast as never });
    query.on('result', (row: unknown) => {
      col = 0;
      if (failed !== undefined) return;
      rows.push(row as unknown[]);
      if (rows.length >= batchRows || bytes >= batchBytes) {
        ready.push({ rows, bytes });
        rows = [];
        bytes = 0;
        if (!paused && ready.length >= READY_BATCHES) {
          paused = true;
          conn.pause();
        }
        signal();
      }
    });
    query.on('error', (err: unknown) => {
      failed ??= err;
      signal();
    });
    query.on('end', () => {
      ended = true;
      signal();
    });
    // A connection lost mid-result (killed, network) is reported on the connection, not the query.
    const onConnectionError = (err: unknown) => {
      failed ??= err;
      signal();
    };
    conn.on('error', onConnectionError);
    try {
      for (;;) {
        if (failed !== undefined) throw failed;
        const batch = ready.shift();
        if (batch) {
          if (paused && ready.length < READY_BATCHES) {
            paused = false;
            conn.resume();
          }
          yield batch;
          continue;
        }
        if (ended) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (rows.length > 0) yield { rows, bytes };
      done = true;
    } catch (err) {
      throw classifyMysqlError(err, { query: sql });
    } finally {
      conn.off('error', onConnectionError);
      // A result abandoned half way leaves the protocol mid-stream: discard the connection.
      if (done) conn.release();
      else conn.destroy();
    }
  }

  /** Whether `readRaw` can make `format` for these columns going into these target types. */
  rawFor(format: string, columns: readonly ColumnInfo[], targetTypes: readonly string[]): boolean {
    if (format !== 'postgres-binary') return false;
    return columns.every((c, i) => pgBinaryField(c, targetTypes[i]) !== null);
  }

  /**
   * The range as raw bytes, made from each field's bytes as the server sent them, with no JS value
   * in between (a value per field and its garbage were most of a row copy's CPU):
   * - `mysql-text`, LOAD DATA text (tab-separated, backslash escapes, `\\N` for NULL) for a MySQL
   *   target with the same column types, escaped only where a value can hold a special byte;
   * - `postgres-binary`, PostgreSQL's binary COPY in the target types `req.targetTypes`. A value it
   *   cannot write exactly as the row path would load it (a zero date, invalid UTF-8, a NUL, a
   *   number out of range: what a policy would look at) ends the stream with `RawUnfit`, and the
   *   chunk is copied by rows instead.
   * The stream's `rows` is set at its end.
   */
  async readRaw(req: ReadRequest, format: string): Promise<Readable> {
    let fieldOut: (field: RawField, next: () => unknown, i: number, out: BinaryOut) => void;
    let head: Buffer | null = null;
    let tail: Buffer | null = null;
    if (format === 'mysql-text') fieldOut = mysqlTextFields(req.columns);
    else if (format === 'postgres-binary') {
      const types = req.targetTypes;
      if (!types || types.length !== req.columns.length) throw new Error('postgres-binary needs the target types');
      const fields = req.columns.map((c, i) => pgBinaryField(c, types[i]));
      if (fields.some((f) => f === null)) throw new Error('postgres-binary: a column has no binary form');
      const count = req.columns.length;
      fieldOut = (field, next, i, out) => {
        if (i === 0) {
          out.room(2);
          out.buf.writeInt16BE(count, out.pos);
          out.pos += 2;
        }
        fields[i]!(field, next, out);
      };
      head = COPY_BINARY_HEADER;
      tail = COPY_BINARY_TRAILER;
    } else throw new Error(`MysqlReader cannot produce ${format}`);
    const { sql, w } = selectSql(req);
    const conn = await this.session.connect();
    const out = new BinaryOut();
    out.buf = Buffer.allocUnsafe(RAW_PIECE_BYTES * 2);
    if (head) out.pos += head.copy(out.buf, 0);
    let col = 0;
    let rows = 0;
    let paused = false;
    let ended = false;
    const stream = new Readable({
      highWaterMark: RAW_PIECE_BYTES * 4,
      read() {
        if (paused) {
          paused = false;
          conn.resume();
        }
      },
      destroy(err, cb) {
        // Abandoned half way (the load failed): the connection is mid-result, discard it.
        if (!ended) conn.destroy();
        cb(err);
      },
    }) as Readable & { rows?: number };
    // The query runs before the writer pipes the stream (its transaction starts meanwhile): an error
    // by then must not go unheard. The pipe still sees it (the stream stays `errored`).
    stream.on('error', () => {});
    // mysql2 does not catch what a typeCast hook throws (it would surface as an uncaught exception
    // from the socket's data handler): a RawUnfit is kept, the stream fails with it once the parser
    // is out of the hook, and the fields still in the socket's buffer are only stepped over.
    let unfit: unknown;
    const typeCast = (field: RawField, next: () => unknown): null => {
      if (unfit !== undefined) {
        field.buffer();
        return null;
      }
      try {
        fieldOut(field, next, col++, out);
      } catch (err) {
        unfit = err;
        queueMicrotask(() => fail(err));
      }
      return null;
    };
    const flush = () => {
      if (out.pos === 0) return;
      const piece = Buffer.from(out.buf.subarray(0, out.pos));
      out.pos = 0;
      if (!stream.push(piece) && !paused) {
        paused = true;
        conn.pause();
      }
    };
    // The text protocol, also for postgres-binary. The binary protocol (a prepared statement) would
    // spare the server most of its work: MariaDB spent 6.3 s of CPU sending the 5.2M-row table so,
    // against 15.0 s as text, 10 s of it printing DOUBLEs. But mysql2 (3.24) builds a wrapper object
    // per field per row for a binary-protocol typeCast hook: 60% of ferry's CPU, 10x slower overall.
    const query = conn.query({ sql, values: w.values, rowsAsArray: true, typeCast: typeCast as never });
    query.on('result', () => {
      col = 0;
      rows++;
      if (out.pos >= RAW_PIECE_BYTES && unfit === undefined) flush();
    });
    const fail = (err: unknown) => {
      if (ended) return;
      ended = true;
      conn.destroy();
      stream.destroy(classifyMysqlError(err, { query: sql }));
    };
    query.on('error', fail);
    conn.on('error', fail);
    query.on('end', () => {
      if (ended) return;
      if (unfit !== undefined) {
        fail(unfit);
        return;
      }
      ended = true;
      conn.off('error', fail);
      if (tail) {
        out.room(tail.length);
        out.pos += tail.copy(out.buf, out.pos);
      }
      flush();
      stream.rows = rows;
      stream.push(null);
      conn.release();
    });
    return stream;
  }
}

/** LOAD DATA text of each field, with the tab or newline after it. */
function mysqlTextFields(columns: readonly ColumnInfo[]) {
  const plain = columns.map((c) => PLAIN_KINDS.has(c.logical.kind));
  const last = columns.length - 1;
  return (field: RawField, _next: () => unknown, i: number, out: BinaryOut): void => {
    const b = field.type === 'BIT' ? bitText(field.buffer()) : field.buffer();
    if (b === null) {
      out.room(3);
      out.buf[out.pos++] = BACKSLASH;
      out.buf[out.pos++] = 0x4e; // N
    } else if (plain[i]) {
      out.room(b.length + 1);
      out.pos += b.copy(out.buf, out.pos);
    } else {
      out.room(b.length * 2 + 1);
      const buf = out.buf;
      let pos = out.pos;
      for (let k = 0; k < b.length; k++) {
        const e = ESCAPES[b[k]];
        if (e === 0) buf[pos++] = b[k];
        else {
          buf[pos++] = BACKSLASH;
          buf[pos++] = e;
        }
      }
      out.pos = pos;
    }
    out.buf[out.pos++] = i === last ? 0x0a : 0x09;
  };
}

/** Source kinds whose MySQL text the PostgreSQL binary fields below read exactly as the row path does. */
const PG_BINARY_KINDS = new Set<LogicalType['kind']>([...PLAIN_KINDS, 'text', 'json', 'bytes', 'uuid']);

type PgBinaryFromMysql = (field: RawField, next: () => unknown, out: BinaryOut) => void;

/**
 * One column's PostgreSQL binary field from the MySQL field (text protocol), for target type
 * `targetType` as the plan created it (e.g. `character varying(36)`, `numeric(20,0)`), or null when
 * there is none. Text and blobs go as the bytes sent; numbers and dates from their latin1 text.
 * Everything a policy guard would look at ends the chunk with RawUnfit instead (see readRaw).
 */
function pgBinaryField(col: ColumnInfo, targetType: string): PgBinaryFromMysql | null {
  if (!PG_BINARY_KINDS.has(col.logical.kind)) return null;
  const m = /^([a-z ]+?)(?:\((\d+)(?:,(\d+))?\))?$/.exec(targetType);
  if (!m) return null;
  const base = m[1];
  const size = m[2] === undefined ? undefined : Number(m[2]);
  const scale = m[3] === undefined ? 0 : Number(m[3]);
  const name = col.name;
  const unfit = (v: unknown): never => {
    throw new RawUnfit(name, v);
  };
  switch (base) {
    case 'text':
    case 'character varying':
    case 'character':
    case 'json':
    case 'jsonb': {
      const jsonb = base === 'jsonb' ? 1 : 0;
      return (field, _next, out) => {
        const b = field.buffer();
        if (b === null) return putNull(out);
        if (b.indexOf(0) >= 0 || !isUtf8(b)) unfit(b);
        if (size !== undefined && b.length > size && utf8Chars(b) > size) unfit(b);
        out.room(4 + jsonb + b.length);
        out.buf.writeInt32BE(b.length + jsonb, out.pos);
        out.pos += 4;
        if (jsonb) out.buf[out.pos++] = 1;
        out.pos += b.copy(out.buf, out.pos);
      };
    }
    case 'bytea':
      return (field, _next, out) => {
        const b = field.buffer();
        if (b === null) return putNull(out);
        out.room(4 + b.length);
        out.buf.writeInt32BE(b.length, out.pos);
        out.pos += 4;
        out.pos += b.copy(out.buf, out.pos);
      };
    default:
      break;
  }
  const put = binaryFieldFor(base, name, () => unfit('\u0000'));
  if (!put) return null;
  switch (base) {
    case 'smallint':
    case 'integer': {
      // Whether the driver parses this field's integer itself (a fixed server type: asked once).
      let driver: boolean | undefined;
      return (field, next, out) => {
        driver ??= DRIVER_INTEGERS.has(field.type);
        const v = driver ? next() : field.string('latin1');
        if (v === null) return putNull(out);
        put(out, typeof v === 'string' ? Number(v) : v);
      };
    }
    case 'bigint':
      return (field, _next, out) => {
        const s = field.string('latin1');
        if (s === null) return putNull(out);
        if (!/^-?\d+$/.test(s)) unfit(s);
        put(out, s.length <= 15 ? Number(s) : BigInt(s));
      };
    case 'real':
    case 'double precision':
      return (field, _next, out) => {
        const s = field.string('latin1');
        if (s === null) return putNull(out);
        const v = Number(s);
        // MySQL has no NaN or infinity; anything else than a finite number is not ours to guess.
        if (!Number.isFinite(v) || s.length === 0) unfit(s);
        put(out, v);
      };
    case 'numeric':
      return (field, _next, out) => {
        const s = field.string('latin1');
        if (s === null) return putNull(out);
        if (size !== undefined && !decimalFits(s, size, scale)) unfit(s);
        put(out, s);
      };
    case 'date':
    case 'time without time zone':
    case 'timestamp without time zone':
    case 'timestamp with time zone':
    case 'uuid':
      // Dates and times as MySQL prints them (a zero date, 838:59:59 and such: RawUnfit there).
      return (field, _next, out) => {
        const s = field.string('latin1');
        if (s === null) return putNull(out);
        put(out, s);
      };
    default:
      return null;
  }
}

/** Characters (code points) of valid UTF-8: the bytes that do not continue a sequence. */
function utf8Chars(b: Buffer): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if ((b[i] & 0xc0) !== 0x80) n++;
  return n;
}

/** A BIT value (big-endian bytes) as the decimal text LOAD DATA casts into the column. */
function bitText(b: Buffer | null): Buffer | null {
  if (b === null) return null;
  return Buffer.from(BigInt(`0x${b.toString('hex') || '0'}`).toString(), 'latin1');
}
