import { Readable } from 'node:stream';
import type { Reader, ReadRequest, RowBatch } from '../../core/connector.js';
import type { LogicalType } from '../../core/logical-types.js';
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
/** Bytes LOAD DATA (ESCAPED BY '\\') must see escaped, and the letter after the backslash. */
const ESCAPES = new Map([
  [0x5c, 0x5c],
  [0x09, 0x74],
  [0x0a, 0x6e],
  [0x0d, 0x72],
  [0x00, 0x30],
  [0x1a, 0x5a],
]);

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

  /**
   * The range as LOAD DATA text (`mysql-text`: tab-separated, backslash escapes, `\\N` for NULL), for a
   * MySQL target with the same column types: each field's bytes as the server sent them, escaped
   * only where a value can hold a special byte. No value is decoded, so a copy between two MySQL
   * servers skips the JS values (and their garbage) altogether. The stream's `rows` is set at its end.
   */
  async readRaw(req: ReadRequest, format: string): Promise<Readable> {
    if (format !== 'mysql-text') throw new Error(`MysqlReader cannot produce ${format}`);
    const { sql, w } = selectSql(req);
    const conn = await this.session.connect();
    const plain = req.columns.map((c) => PLAIN_KINDS.has(c.logical.kind));
    const last = req.columns.length - 1;
    let buf = Buffer.allocUnsafe(RAW_PIECE_BYTES * 2);
    let pos = 0;
    let col = 0;
    let rows = 0;
    let paused = false;
    let ended = false;
    const out = new Readable({
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
    const room = (n: number) => {
      if (pos + n <= buf.length) return;
      const next = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n));
      buf.copy(next, 0, 0, pos);
      buf = next;
    };
    const typeCast = (field: RawField): null => {
      const i = col++;
      const b = field.type === 'BIT' ? bitText(field.buffer()) : field.buffer();
      if (b === null) {
        room(3);
        buf[pos++] = BACKSLASH;
        buf[pos++] = 0x4e; // N
      } else if (plain[i]) {
        room(b.length + 1);
        pos += b.copy(buf, pos);
      } else {
        room(b.length * 2 + 1);
        for (let k = 0; k < b.length; k++) {
          const e = ESCAPES.get(b[k]);
          if (e === undefined) buf[pos++] = b[k];
          else {
            buf[pos++] = BACKSLASH;
            buf[pos++] = e;
          }
        }
      }
      buf[pos++] = i === last ? 0x0a : 0x09;
      return null;
    };
    const flush = () => {
      if (pos === 0) return;
      const piece = Buffer.from(buf.subarray(0, pos));
      pos = 0;
      if (!out.push(piece) && !paused) {
        paused = true;
        conn.pause();
      }
    };
    const query = conn.query({ sql, values: w.values, rowsAsArray: true, typeCast: typeCast as never });
    query.on('result', () => {
      col = 0;
      rows++;
      if (pos >= RAW_PIECE_BYTES) flush();
    });
    const fail = (err: unknown) => {
      if (ended) return;
      ended = true;
      conn.destroy();
      out.destroy(classifyMysqlError(err, { query: sql }));
    };
    query.on('error', fail);
    conn.on('error', fail);
    query.on('end', () => {
      if (ended) return;
      ended = true;
      conn.off('error', fail);
      flush();
      out.rows = rows;
      out.push(null);
      conn.release();
    });
    return out;
  }
}

/** A BIT value (big-endian bytes) as the decimal text LOAD DATA casts into the column. */
function bitText(b: Buffer | null): Buffer | null {
  if (b === null) return null;
  return Buffer.from(BigInt(`0x${b.toString('hex') || '0'}`).toString(), 'latin1');
}
